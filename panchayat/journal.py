"""The record of every state change: the audit log, and the outbox of messages to citizens.

Both are written in the caller's transaction, so a change, its audit entry and
its notification land together or not at all.
"""
from typing import Any, Optional

from sqlalchemy.orm import Session

from panchayat.models import AuditLog, Citizen, Notification


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_ref: str,
    old_state: Optional[str] = None,
    new_state: Optional[str] = None,
    reason: Optional[str] = None,
    **details: Any,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_ref=entity_ref,
        old_state=old_state,
        new_state=new_state,
        reason=reason,
        details=details or None,
    )
    session.add(entry)
    return entry


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
    from panchayat.catalogue import digits, text

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


def deliver_pending(session: Session, recipient: str) -> list:
    """Hands the recipient's queued messages to a channel that shows them at once (the terminal chat):
    returns their texts, oldest first, and marks them sent so no channel sends them again."""
    from datetime import datetime

    from sqlalchemy import select

    queued = session.execute(
        select(Notification)
        .where(Notification.recipient == recipient, Notification.status == "pending")
        .order_by(Notification.id)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    texts = []
    for notification in queued:
        texts.append(render(notification))
        notification.status = "sent"
        notification.sent_at = datetime.utcnow()
        notification.attempts += 1
        notification.provider_message_id = f"terminal-{notification.id}"
    return texts
