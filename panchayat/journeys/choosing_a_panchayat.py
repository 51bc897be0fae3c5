"""Who is writing: the reply language, the privacy notice at first contact, a language chosen,
and the citizen's gram panchayat named by its name, its block or its district."""

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from sqlalchemy.orm import Session

from panchayat import catalogue, citizens, config
from panchayat.catalogue import localised, text
from panchayat.db import transaction
from panchayat.directory import (
    gp_profile,
    gram_panchayats_of_block,
    iter_blocks_of,
    match_unit,
    resolve_gram_panchayat,
)
from panchayat.journeys import Button, Reply, reply
from panchayat.language import conversation_language

logger = logging.getLogger(__name__)


# --- the reply language -----------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    language: str  # the language to reply in, "bn" or "en"
    gp_known: bool  # whether the citizen's gram panchayat is on record


def identify(sender: str, typed: str, language_so_far: Optional[str] = None) -> Identity:
    """The reply language for the message `typed` and whether the GP is known, recording a new
    citizen. It runs on every message, so a database that is down must not silence the chat:
    the conversation then goes on in its language so far, with the GP unknown."""
    try:
        return _identify(sender, typed)
    except Exception as error:
        logger.warning("reply language not read from the database: %s", type(error).__name__)
        return Identity(conversation_language(language_so_far, typed) or "bn", False)


@transaction
def _identify(session: Session, sender: str, typed: str) -> Identity:
    citizen = citizens.get_or_create(session, sender)
    return Identity(citizens.reply_language(session, citizen, typed), citizen.gp_code is not None)


def privacy_notice(sender: str) -> Optional[str]:
    """The privacy notice (DPDP Act) to show before anything else when this number first writes,
    or when the notice changed since; None otherwise. It is in both languages, one after the
    other, because the citizen's language is not known yet. A database that is down lets the
    conversation start: the notice then waits for the next session."""
    try:
        due = _notice_due(sender)
    except Exception as error:
        logger.warning("privacy notice not checked: %s", type(error).__name__)
        return None
    if not due:
        return None
    return "\n\n".join(
        text("privacy_notice", language, days=catalogue.digits(config.CONVERSATION_RETENTION_DAYS, language))
        for language in catalogue.LANGUAGES
    )


@transaction
def _notice_due(session: Session, sender: str) -> bool:
    citizen = citizens.get_or_create(session, sender)
    return citizens.privacy_notice_due(session, citizen, citizen.language or "bn")


@dataclass(frozen=True)
class LanguageChoice:
    """The language chosen (None when the message named none) and what to say, in that language
    or, when none was chosen, in the conversation's."""

    language: Optional[str]
    replies: List[Reply] = field(default_factory=list)


def change_language(sender: str, wanted: Optional[str]) -> LanguageChoice:
    """Remembers `wanted` as the citizen's own choice, which then wins over the language of what
    they type. No language named: both are offered, each in its own words."""
    if wanted not in catalogue.LANGUAGES:
        return LanguageChoice(
            None,
            [
                reply(
                    "language_ask",
                    buttons=(
                        Button("বাংলা", '/change_language{"language": "bn"}'),
                        Button("English", '/change_language{"language": "en"}'),
                    ),
                )
            ],
        )
    _remember_language(sender, wanted)
    return LanguageChoice(wanted, [reply("language_changed")])


@transaction
def _remember_language(session: Session, sender: str, language: str) -> None:
    citizens.choose_language(session, citizens.get_or_create(session, sender), language)


# --- the gram panchayat -----------------------------------------------------------------


def gp_names(profile: Dict, language: str) -> Dict[str, str]:
    """The GP's, its block's and its district's names in the reader's language, from `gp_profile`."""
    return {
        "gp": localised(profile["name"]["en"], profile["name"]["bn"], language),
        "block": localised(profile["block"]["en"], profile["block"]["bn"], language),
        "district": localised(profile["district"]["en"], profile["district"]["bn"], language),
    }


@dataclass(frozen=True)
class GpChoice:
    """What to say, and the GP's LGD code when exactly one GP was named (it is then remembered)."""

    replies: List[Reply]
    gp_code: Optional[int] = None


def _gp_button(profile: Dict, language: str) -> Button:
    return Button(
        text("gp_choice", language, **gp_names(profile, language)),
        f'/inform_panchayat{{"gram_panchayat": "{profile["code"]}"}}',
    )


def choose_gram_panchayat(sender: str, typed: str, whole: str, language: str) -> GpChoice:
    """Finds the GP the citizen named in `typed` (the understood span of the whole message
    `whole`) and remembers it. A district or block name gets the short list of its blocks or
    GPs to choose from; an ambiguous name gets a question; an unknown one a request to retype."""
    kind, found = _resolve(sender, typed, whole)
    if kind == "district":
        return GpChoice(
            [
                reply(
                    "gp_pick_block",
                    buttons=tuple(
                        Button(
                            localised(b["name"]["en"], b["name"]["bn"], language),
                            f'/inform_panchayat{{"block": "{b["code"]}"}}',
                        )
                        for b in found
                    ),
                )
            ]
        )
    if kind == "block" and not found:
        return GpChoice([reply("gp_none_in_block")])
    if not found:
        return GpChoice([reply("gp_not_found", typed=typed.strip()[:60])])
    if len(found) > 1:
        return GpChoice(
            [
                reply(
                    "gp_ambiguous" if kind == "gp" else "gp_pick_gp",
                    buttons=tuple(_gp_button(p, language) for p in found),
                )
            ]
        )
    if kind == "block":  # a block with a single GP: still let the citizen confirm it
        return GpChoice([reply("gp_pick_gp", buttons=(_gp_button(found[0], language),))])
    return GpChoice([Reply("gp_saved", gp_names(found[0], language))], gp_code=found[0]["code"])


@transaction
def _resolve(session: Session, sender: str, typed: str, whole: str) -> Tuple[str, List[Dict]]:
    """("gp", GP profiles) when the words name GPs (the one GP is remembered), ("district", its
    blocks), ("block", its GPs), or ("none", [])."""
    matches = resolve_gram_panchayat(session, typed)
    whole = (whole or "").strip()
    if len(matches) != 1 and whole and whole != typed and not whole.startswith("/"):
        # The understood span may be shorter than what was typed ("Bagula" of "Bagula 1").
        exact = resolve_gram_panchayat(session, whole)
        matches = exact if len(exact) == 1 else matches
    if len(matches) == 1:
        citizens.set_gram_panchayat(session, citizens.get_or_create(session, sender), matches[0])
    if matches:
        return "gp", [gp_profile(gp) for gp in matches]
    unit = match_unit(session, typed)
    if unit is None:
        return "none", []
    kind, found = unit
    if kind == "district":
        return "district", [
            {"code": b.lgd_code, "name": {"en": b.name_en, "bn": b.name_bn or b.name_en}}
            for b in iter_blocks_of(session, found.lgd_code)
        ]
    return "block", [gp_profile(gp) for gp in gram_panchayats_of_block(session, found.lgd_code)]
