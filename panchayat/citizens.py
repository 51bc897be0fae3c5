"""Citizens, keyed by their WhatsApp id: language preference and gram panchayat."""

from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panchayat.db import transaction
from panchayat.language import conversation_language
from panchayat.models import Citizen, ConsentRecord, GramPanchayat

# The privacy notice's version (texts/privacy.yml): raising it shows the new notice to
# everyone once more, at their next message.
PRIVACY_NOTICE_VERSION = "2026-11"


def find_citizen(session: Session, wa_id: str) -> Optional[Citizen]:
    return session.execute(select(Citizen).where(Citizen.wa_id == wa_id)).scalar_one_or_none()


@transaction
def language_on_record(session: Session, wa_id: str) -> Optional[str]:
    """The citizen's language as recorded, None for a number not on record: where a reply the
    WhatsApp channel writes itself (a file refused, a try-again) starts from."""
    citizen = find_citizen(session, wa_id)
    return citizen.language if citizen is not None else None


def get_or_create(session: Session, wa_id: str) -> Citizen:
    citizen = find_citizen(session, wa_id)
    if citizen is not None:
        return citizen
    try:
        with session.begin_nested():
            citizen = Citizen(wa_id=wa_id)
            session.add(citizen)
        return citizen
    except IntegrityError:
        # Two messages of a new citizen raced; the other one created the row.
        raced = find_citizen(session, wa_id)
        assert raced is not None, "the row that refused ours is there"
        return raced


def reply_language(session: Session, citizen: Citizen, typed: str) -> str:
    """The language to answer in: an explicit choice wins, else the conversation's language,
    which a message changes only when it is clearly in the other one (panchayat.language).

    It is kept for the messages the panchayat sends later.
    """
    if citizen.language_explicit and citizen.language:
        return citizen.language
    language = conversation_language(citizen.language, typed)
    if language and language != citizen.language:
        citizen.language = language
    return citizen.language or "bn"


def choose_language(session: Session, citizen: Citizen, language: str) -> None:
    citizen.language = language
    citizen.language_explicit = True


def set_gram_panchayat(session: Session, citizen: Citizen, gp: GramPanchayat) -> None:
    citizen.gp_code = gp.lgd_code


def privacy_notice_due(session: Session, citizen: Citizen, language: str) -> bool:
    """True (and recorded) the first time this citizen writes under the current notice version:
    the caller shows the notice then. Later messages return False."""
    if citizen.id is None:
        session.flush()
    seen = session.execute(
        select(ConsentRecord.id).where(
            ConsentRecord.citizen_id == citizen.id, ConsentRecord.notice_version == PRIVACY_NOTICE_VERSION
        )
    ).first()
    if seen:
        return False
    try:
        with session.begin_nested():
            session.add(
                ConsentRecord(
                    citizen_id=citizen.id,
                    notice_version=PRIVACY_NOTICE_VERSION,
                    language=language if language in ("bn", "en") else "bn",
                )
            )
    except IntegrityError:  # a parallel message of the same citizen recorded it
        return False
    return True
