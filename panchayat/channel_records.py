"""What the WhatsApp channel must remember between webhooks: which inbound messages it has
taken (so a redelivery is answered once), and what it sent (provider ids, delivery
receipts, and the menu the citizen may answer by number).

Numbers are kept as keyed hashes (see `connectors.whatsapp.sender_hash`): the citizen's
number is already on record in `citizens`, and these tables are telemetry.
"""
from datetime import datetime, timedelta
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panchayat.models import Base, _in, utcnow

# "accepted" is what the Graph API answered; the rest arrive later as delivery receipts.
OUTBOUND_STATUSES = ("accepted", "sent", "delivered", "read", "failed")
# Receipts may arrive out of order; a later stage never goes back to an earlier one.
_STATUS_RANK = {"accepted": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4}


class WhatsAppInbound(Base):
    """One row per inbound message id, inserted before the message is processed."""

    __tablename__ = "whatsapp_inbound"
    id = Column(Integer, primary_key=True)
    wamid = Column(String(255), nullable=False, unique=True)
    sender_hash = Column(String(64), nullable=False, index=True)
    message_type = Column(String(30), nullable=False)
    received_at = Column(DateTime, nullable=False, default=utcnow)
    processed = Column(Boolean, nullable=False, default=False)
    processed_at = Column(DateTime)


class WhatsAppOutbound(Base):
    """One row per message sent (or given up on) through the Graph API."""

    __tablename__ = "whatsapp_outbound"
    __table_args__ = (CheckConstraint(_in("status", OUTBOUND_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    # Empty when the Graph API refused the message.
    provider_message_id = Column(String(255), unique=True)
    recipient_hash = Column(String(64), nullable=False, index=True)
    # text, buttons, list, text_menu, document, image, template
    kind = Column(String(20), nullable=False)
    status = Column(String(12), nullable=False)
    error = Column(Text)
    # The options of a menu ([[title, payload], ...]): a typed number or title answers it.
    menu = Column(JSON)
    sent_at = Column(DateTime, nullable=False, default=utcnow)
    status_at = Column(DateTime)
    # The outbox notification this message delivers (connectors.notifier): after a crash, the
    # worker looks here to see what the provider already took before it sends anything again.
    notification_id = Column(ForeignKey("notifications.id"), index=True)


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


def mark_processed(session: Session, wamid: str) -> None:
    session.execute(update(WhatsAppInbound).where(WhatsAppInbound.wamid == wamid)
                    .values(processed=True, processed_at=utcnow()))


def last_inbound_at(session: Session, sender_hash: str, except_wamid: Optional[str] = None) -> Optional[datetime]:
    """When the citizen last wrote: the 24-hour customer-service window starts there."""
    query = select(WhatsAppInbound.received_at).where(WhatsAppInbound.sender_hash == sender_hash)
    if except_wamid:
        query = query.where(WhatsAppInbound.wamid != except_wamid)
    return session.execute(query.order_by(WhatsAppInbound.received_at.desc()).limit(1)).scalar()


def record_outbound(session: Session, *, recipient_hash: str, kind: str, provider_message_id: Optional[str],
                    status: str = "accepted", error: Optional[str] = None,
                    menu: Optional[Sequence[Tuple[str, str]]] = None,
                    notification_id: Optional[int] = None) -> WhatsAppOutbound:
    row = WhatsAppOutbound(provider_message_id=provider_message_id, recipient_hash=recipient_hash, kind=kind,
                           status=status, error=error, notification_id=notification_id)
    if menu:
        # Set only when there is one: an explicit None would be stored as JSON null, not SQL NULL.
        row.menu = [list(option) for option in menu]
    session.add(row)
    return row


def record_status(session: Session, provider_message_id: str, status: str, at: Optional[datetime] = None,
                  error: Optional[str] = None) -> bool:
    """Applies a delivery receipt; False when the status is unknown or the message is not ours."""
    if status not in _STATUS_RANK:
        return False
    row = session.execute(select(WhatsAppOutbound).where(
        WhatsAppOutbound.provider_message_id == provider_message_id)).scalar_one_or_none()
    if row is None:
        return False
    if _STATUS_RANK[status] >= _STATUS_RANK.get(row.status, 0):
        row.status = status
        row.status_at = at or utcnow()
        if error:
            row.error = error
    return True


def pending_menu(session: Session, recipient_hash: str, current_wamid: str,
                 ttl: timedelta) -> Optional[List[Tuple[str, str]]]:
    """The menu the citizen is answering: the newest menu sent since their previous message.

    A menu is answered by the next message only; after that, "2" means 2 again.
    """
    sent = session.execute(
        select(WhatsAppOutbound.menu, WhatsAppOutbound.sent_at)
        .where(WhatsAppOutbound.recipient_hash == recipient_hash, WhatsAppOutbound.menu.isnot(None),
               WhatsAppOutbound.sent_at >= utcnow() - ttl)
        .order_by(WhatsAppOutbound.sent_at.desc(), WhatsAppOutbound.id.desc()).limit(1)
    ).first()
    if sent is None or not sent.menu:
        return None
    previous = last_inbound_at(session, recipient_hash, except_wamid=current_wamid)
    if previous is not None and previous > sent.sent_at:
        return None
    return [(str(title), str(payload)) for title, payload in sent.menu]
