"""The outbox: the messages the panchayat owes citizens (`notifications`), from queueing to delivery.

    notify(session, citizen, kind, **params)   queues one, in the caller's transaction, so a
                                               change and its message land together or not at all
    render(notification)                       its text, in the recipient's language
    deliver_pending(recipient)                 hands a recipient's queue to the terminal chat

A worker that sends over a channel (connectors.notifier) goes through the rest, each one unit
of work (`db.transaction`, with an optional `database_url=`):

    candidates(now, lease, after_id)           rows that may be claimed, oldest first
    claim(id, now, lease, hash_key)            takes one row for this worker -> Claim, or None
    finish_sent(claim, now, message_id)        the outcome, written only while the claim holds
    finish_failed(claim, now, reason, ...)     attempts + 1, then back to `pending` after a
                                               doubling wait, or `failed` at the last attempt

Claiming. A row is claimed before anything is sent, in its own committed transaction: a
conditional UPDATE moves it from `pending` (whose `next_attempt_at` has come) to `sending`
with a fresh `claim_token` and `claimed_at`; on PostgreSQL the row is first locked with
SELECT ... FOR UPDATE SKIP LOCKED, so a second worker passes over it instead of waiting.
Only the worker whose UPDATE changed the row sends it, so two workers never send one row.
The result is written back only under the same token: a worker that lost its claim changes
nothing. A `sending` row whose claim is older than the lease was left by a worker that died,
and may be claimed again; the claim then says which parts of it the provider had already
accepted (the channel's record, `whatsapp_outbound`), so that only the rest is sent.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from panchayat import channel_records
from panchayat.catalogue import digits, text
from panchayat.db import transaction
from panchayat.models import Citizen, Notification, WhatsAppOutbound

# Candidates read per query; the claim itself is taken row by row.
CANDIDATE_BATCH = 50
# The parts of a delivery that carry the notification's text (a document may follow them).
MAIN_KINDS = frozenset({"text", "template"})


def notify(session: Session, citizen: Citizen, kind: str, **params: Any) -> Notification:
    """Queues a catalogue message `kind` for the citizen, in the citizen's language."""
    notification = Notification(
        citizen_id=citizen.id,
        recipient=citizen.wa_id,
        language=citizen.language or "bn",
        kind=kind,
        params=params,
        status="pending",
    )
    session.add(notification)
    return notification


def render(notification: Notification) -> str:
    """The text of a queued notification, in the recipient's language."""
    language = notification.language
    params = dict(notification.params or {})
    if "service" in params:
        params["service"] = text(f"service_{params['service']}", language)
    if "guest_house_en" in params:
        params["guest_house"] = params.pop(f"guest_house_{language}", None) or params["guest_house_en"]
        params.pop("guest_house_en", None)
        params.pop("guest_house_bn", None)
    for key in ("check_in", "check_out"):
        if key in params:
            params[key] = digits(params[key], language)
    return text(notification.kind, language, **params)


@transaction
def deliver_pending(session: Session, recipient: str) -> List[str]:
    """Hands the recipient's queued messages to a channel that shows them at once (the terminal chat):
    returns their texts, oldest first, and marks them sent so no channel sends them again."""
    queued = (
        session.execute(
            select(Notification)
            .where(Notification.recipient == recipient, Notification.status == "pending")
            .order_by(Notification.id)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    texts = []
    for notification in queued:
        texts.append(render(notification))
        notification.status = "sent"
        notification.sent_at = datetime.utcnow()
        notification.attempts += 1
        notification.provider_message_id = f"terminal-{notification.id}"
    return texts


# --- Delivery by a worker ----------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A notification a worker holds, with what is needed to send it."""

    id: int
    token: str
    recipient: str
    language: str
    kind: str
    attempts: int
    document_path: Optional[str]
    text: str
    # Why there is no text (an unknown kind, a missing parameter): no retry will help.
    render_error: Optional[str]
    # When the recipient last wrote to the channel (None: never), for its service window.
    last_inbound_at: Optional[datetime]
    # Parts the provider already accepted in an earlier run: "text", "template", "document".
    sent_parts: FrozenSet[str]
    main_message_id: Optional[str]
    taken_over: bool  # the claim of a worker that stopped before finishing


@dataclass(frozen=True)
class Retry:
    """How often, and after how long, a notification whose sending may still succeed is tried again."""

    max_attempts: int
    seconds: float  # the first wait; it doubles with every attempt
    max_seconds: float

    def delay(self, attempts: int, retry_after: Optional[float] = None) -> timedelta:
        seconds = min(self.seconds * 2 ** max(0, attempts - 1), self.max_seconds)
        if retry_after:
            seconds = max(seconds, min(retry_after, self.max_seconds))
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Failure:
    """What a failed attempt left: the attempts so far, and when the next one may be made
    (None: given up, the notification is `failed`)."""

    attempts: int
    next_attempt_at: Optional[datetime]

    @property
    def retrying(self) -> bool:
        return self.next_attempt_at is not None


def _due(now: datetime):
    return and_(
        Notification.status == "pending",
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
    )


def _abandoned(now: datetime, lease: timedelta):
    return and_(
        Notification.status == "sending", or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - lease)
    )


def _claimable(now: datetime, lease: timedelta):
    return or_(_due(now), _abandoned(now, lease))


@transaction
def candidates(session: Session, now: datetime, lease: timedelta, after_id: int) -> List[Tuple[int, str, str]]:
    """(id, recipient, status) of rows that may be claimed, oldest first, after `after_id`."""
    rows = session.execute(
        select(Notification.id, Notification.recipient, Notification.status)
        .where(Notification.id > after_id, _claimable(now, lease))
        .order_by(Notification.id)
        .limit(CANDIDATE_BATCH)
    ).all()
    return [tuple(row) for row in rows]


@transaction
def claim(session: Session, notification_id: int, now: datetime, lease: timedelta, hash_key: str) -> Optional[Claim]:
    """Takes one row for this worker, or None when another worker has it (or it is no longer due).

    Committed before anything is sent: a crash after this point leaves a `sending` row that
    only the lease releases. `hash_key` is the key of the channel's number hashes, to find
    when the recipient last wrote.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Another worker's claim in progress: pass over it rather than queue behind it.
        locked = session.execute(
            select(Notification.id)
            .where(Notification.id == notification_id, _claimable(now, lease))
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if locked is None:
            return None
    # Writes first, no read: on SQLite the transaction then starts by taking the write lock
    # (a read transaction cannot be upgraded once another worker has written).
    token = uuid.uuid4().hex
    taken_over = False
    for condition in _due(now), _abandoned(now, lease):
        changed = session.execute(
            update(Notification)
            .where(Notification.id == notification_id, condition)
            .values(status="sending", claim_token=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed == 1:
            break
        taken_over = True
    else:
        return None
    notification = session.get(Notification, notification_id)
    sent = session.execute(
        select(WhatsAppOutbound.kind, WhatsAppOutbound.provider_message_id)
        .where(WhatsAppOutbound.notification_id == notification_id, WhatsAppOutbound.provider_message_id.isnot(None))
        .order_by(WhatsAppOutbound.id)
    ).all()
    sent_parts = frozenset(kind for kind, _ in sent)
    main_message_id = next(
        (message_id for kind, message_id in sent if kind in MAIN_KINDS), notification.provider_message_id
    )
    if main_message_id and not sent_parts & MAIN_KINDS:
        # The record was lost but the notification kept the id after a partial delivery.
        sent_parts |= {"text"}
    rendered, render_error = "", None
    try:
        rendered = render(notification)
    except Exception as error:  # an unknown kind or a missing parameter: no retry will help
        render_error = f"cannot render {notification.kind!r}: {type(error).__name__}: {error}"
    return Claim(
        id=notification.id,
        token=token,
        recipient=notification.recipient,
        language=notification.language,
        kind=notification.kind,
        attempts=notification.attempts,
        document_path=notification.document_path,
        text=rendered,
        render_error=render_error,
        last_inbound_at=channel_records.last_inbound_at(
            session, channel_records.number_hash(hash_key, notification.recipient)
        ),
        sent_parts=sent_parts,
        main_message_id=main_message_id,
        taken_over=taken_over,
    )


def _write_back(session: Session, held: Claim, values: Dict[str, Any]) -> bool:
    """Writes the outcome, only while the claim is still ours; False when it was lost."""
    values = dict(values, claim_token=None, claimed_at=None)
    changed = session.execute(
        update(Notification)
        .where(Notification.id == held.id, Notification.status == "sending", Notification.claim_token == held.token)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1


@transaction
def finish_sent(
    session: Session, held: Claim, now: datetime, main_message_id: Optional[str], recovered: bool = False
) -> bool:
    """Marks the notification sent; False when the claim had been lost to another worker.
    A recovered one (found already delivered after a crash) was no new attempt."""
    values: Dict[str, Any] = {
        "status": "sent",
        "sent_at": now,
        "provider_message_id": main_message_id,
        "last_error": None,
        "next_attempt_at": None,
    }
    if not recovered:
        values["attempts"] = held.attempts + 1
    return _write_back(session, held, values)


@transaction
def finish_failed(
    session: Session,
    held: Claim,
    now: datetime,
    reason: str,
    retryable: bool,
    retry: Retry,
    main_message_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> Optional[Failure]:
    """Counts a failed attempt: back to `pending` until `retry`'s next time when trying again may
    help and attempts are left, else `failed`. None when the claim had been lost."""
    attempts = held.attempts + 1
    values: Dict[str, Any] = {"attempts": attempts, "last_error": reason[:1000]}
    if main_message_id:
        # Kept so that a retry does not send the text again even if its record was lost.
        values["provider_message_id"] = main_message_id
    next_attempt_at = now + retry.delay(attempts, retry_after) if retryable and attempts < retry.max_attempts else None
    values.update(status="pending" if next_attempt_at else "failed", next_attempt_at=next_attempt_at)
    if not _write_back(session, held, values):
        return None
    return Failure(attempts, next_attempt_at)
