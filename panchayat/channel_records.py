"""What the WhatsApp channel must remember between webhooks: which inbound messages it has
taken (so a redelivery is answered once), and what it sent (provider ids, delivery
receipts, and the menu the citizen may answer by number).

Numbers are kept as keyed hashes (`number_hash`): the citizen's number is already on record
in `citizens`, and these tables (`WhatsAppInbound`, `WhatsAppOutbound` in panchayat.models)
are telemetry. Each public function is one unit of work (`db.transaction`): the channel runs
it in a worker thread and never holds a session itself.
"""

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panchayat.db import transaction
from panchayat.models import WhatsAppInbound, WhatsAppOutbound, utcnow

# Receipts may arrive out of order; a later stage never goes back to an earlier one.
_STATUS_RANK = {"accepted": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4}

Option = Tuple[str, str]  # (title shown, payload sent to the dialogue)


def number_hash(key: str, wa_id: str) -> str:
    """A keyed hash of a number: the channel's tables can be joined on it but do not reveal it."""
    return hmac.new(key.encode(), str(wa_id).encode(), hashlib.sha256).hexdigest()


@transaction
def claim_inbound(session: Session, wamid: str, sender_hash: str, message_type: str) -> bool:
    """True for the first delivery of `wamid`; False for any other, even a concurrent one.

    The unique constraint decides, so this holds across processes and instances.
    """
    try:
        with session.begin_nested():
            session.add(WhatsAppInbound(wamid=wamid, sender_hash=sender_hash, message_type=message_type[:30]))
        return True
    except IntegrityError:
        return False


@transaction
def mark_processed(session: Session, wamid: str) -> None:
    session.execute(
        update(WhatsAppInbound).where(WhatsAppInbound.wamid == wamid).values(processed=True, processed_at=utcnow())
    )


def last_inbound_at(session: Session, sender_hash: str, except_wamid: Optional[str] = None) -> Optional[datetime]:
    """When the citizen last wrote: the 24-hour customer-service window starts there.
    Read inside the caller's unit of work (the menu lookup, the outbox's claim)."""
    query = select(WhatsAppInbound.received_at).where(WhatsAppInbound.sender_hash == sender_hash)
    if except_wamid:
        query = query.where(WhatsAppInbound.wamid != except_wamid)
    return session.execute(query.order_by(WhatsAppInbound.received_at.desc()).limit(1)).scalar()


@transaction
def record_outbound(
    session: Session,
    *,
    recipient_hash: str,
    kind: str,
    provider_message_id: Optional[str],
    status: str = "accepted",
    error: Optional[str] = None,
    menu: Optional[Sequence[Option]] = None,
    notification_id: Optional[int] = None,
) -> None:
    row = WhatsAppOutbound(
        provider_message_id=provider_message_id,
        recipient_hash=recipient_hash,
        kind=kind,
        status=status,
        error=error,
        notification_id=notification_id,
    )
    if menu:
        # Set only when there is one: an explicit None would be stored as JSON null, not SQL NULL.
        row.menu = [list(option) for option in menu]
    session.add(row)


@transaction
def record_status(
    session: Session, provider_message_id: str, status: str, at: Optional[datetime] = None, error: Optional[str] = None
) -> bool:
    """Applies a delivery receipt; False when the status is unknown or the message is not ours."""
    if status not in _STATUS_RANK:
        return False
    row = session.execute(
        select(WhatsAppOutbound).where(WhatsAppOutbound.provider_message_id == provider_message_id)
    ).scalar_one_or_none()
    if row is None:
        return False
    if _STATUS_RANK[status] >= _STATUS_RANK.get(row.status, 0):
        row.status = status
        row.status_at = at or utcnow()
        if error:
            row.error = error
    return True


@transaction
def pending_menu(session: Session, recipient_hash: str, current_wamid: str, ttl: timedelta) -> Optional[List[Option]]:
    """The menu the citizen is answering: the newest menu sent since their previous message.

    A menu is answered by the next message only; after that, "2" means 2 again.
    """
    sent = session.execute(
        select(WhatsAppOutbound.menu, WhatsAppOutbound.sent_at)
        .where(
            WhatsAppOutbound.recipient_hash == recipient_hash,
            WhatsAppOutbound.menu.isnot(None),
            WhatsAppOutbound.sent_at >= utcnow() - ttl,
        )
        .order_by(WhatsAppOutbound.sent_at.desc(), WhatsAppOutbound.id.desc())
        .limit(1)
    ).first()
    if sent is None or not sent.menu:
        return None
    previous = last_inbound_at(session, recipient_hash, except_wamid=current_wamid)
    if previous is not None and previous > sent.sent_at:
        return None
    return [(str(title), str(payload)) for title, payload in sent.menu]
