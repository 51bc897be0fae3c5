"""The audit log: the record of every state change.

An entry is written in the caller's transaction, so a change and its audit entry land
together or not at all. (The outbox of messages to citizens is panchayat.outbox.)
"""

from typing import Any, Optional

from sqlalchemy.orm import Session

from panchayat.models import AuditLog


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
