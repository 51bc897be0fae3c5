"""Data retention (DPDP Act): conversations, delivered messages and unused files are deleted after
N days; the panchayat's official records (applications with their documents, certificates,
bookings, complaints with their photos, payroll, the audit log, the privacy notices shown) stay.
"""

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, cast

from sqlalchemy import create_engine, delete, inspect, select, text
from sqlalchemy.orm import Session

from panchayat import config, journal, nlu_inbox
from panchayat.errors import PanchayatError
from panchayat.models import Attachment, Notification, WhatsAppInbound, WhatsAppOutbound


# Folders of files that only matter while a conversation lasts: uploads not (yet) used by a
# record, the WhatsApp media cache, and PDFs rendered for sending (they can be rendered again).
def transient_folders() -> Iterable[Path]:
    return (
        config.VAR_DIR / "media",
        config.WHATSAPP_MEDIA_DIR,
        config.VAR_DIR / "pay-documents",
        config.VAR_DIR / "certificates",
    )


def purge(
    session: Session,
    days: int,
    actor: str,
    tracker_url: Optional[str] = None,
    now: Optional[datetime] = None,
    dry_run: bool = False,
) -> Dict[str, int]:
    """Deletes what is older than `days`; returns how many of each kind (would be) deleted."""
    if days < 1:
        raise PanchayatError("retention_days", days=days)
    now = now or datetime.utcnow()
    cutoff = now - timedelta(days=days)
    counts: Dict[str, int] = {}

    old_outbound = select(WhatsAppOutbound.id).where(WhatsAppOutbound.sent_at < cutoff)
    counts["whatsapp_outbound"] = len(session.execute(old_outbound).all())
    old_inbound = select(WhatsAppInbound.id).where(WhatsAppInbound.received_at < cutoff)
    counts["whatsapp_inbound"] = len(session.execute(old_inbound).all())
    # Messages still waiting to be delivered are kept whatever their age.
    old_notifications = select(Notification.id).where(
        Notification.created_at < cutoff, Notification.status.in_(("sent", "failed"))
    )
    counts["notifications"] = len(session.execute(old_notifications).all())
    if not dry_run:
        session.execute(delete(WhatsAppOutbound).where(WhatsAppOutbound.sent_at < cutoff))
        session.execute(delete(WhatsAppInbound).where(WhatsAppInbound.received_at < cutoff))
        still_linked = select(WhatsAppOutbound.notification_id).where(WhatsAppOutbound.notification_id.isnot(None))
        session.execute(
            delete(Notification)
            .where(Notification.id.in_(old_notifications), Notification.id.notin_(still_linked))
            .execution_options(synchronize_session=False)
        )

    counts["files"] = _purge_files(session, cutoff, dry_run)
    counts["conversation_events"] = _purge_tracker_events(tracker_url, cutoff, dry_run) if tracker_url else 0
    # The trainers' inbox holds (redacted) citizens' messages: it goes with the conversations.
    counts["nlu_inbox_items"] = nlu_inbox.purge_expired(session, days, now=now, dry_run=dry_run)
    if not dry_run:
        journal.audit(
            session,
            actor=actor,
            action="retention_purge",
            entity_type="retention",
            entity_ref=f"older than {days} days",
            # The counts are details of the entry (they name none of audit's own parameters).
            **cast(Dict[str, Any], counts),
        )
    return counts


def _purge_files(session: Session, cutoff: datetime, dry_run: bool) -> int:
    kept = {os.path.realpath(p) for (p,) in session.execute(select(Attachment.storage_path))}
    deleted = 0
    for folder in transient_folders():
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if not path.is_file() or os.path.realpath(path) in kept:
                continue
            if datetime.utcfromtimestamp(path.stat().st_mtime) < cutoff:
                deleted += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
    return deleted


def _purge_tracker_events(tracker_url: str, cutoff: datetime, dry_run: bool) -> int:
    """Rasa's SQL tracker store keeps every conversation event in its `events` table."""
    engine = create_engine(tracker_url)
    try:
        if "events" not in inspect(engine).get_table_names():
            raise PanchayatError("retention_no_tracker_store")
        stamp = (cutoff - datetime(1970, 1, 1)).total_seconds()
        with engine.begin() as connection:
            count = connection.execute(text("SELECT COUNT(*) FROM events WHERE timestamp < :t"), {"t": stamp}).scalar()
            if not dry_run:
                connection.execute(text("DELETE FROM events WHERE timestamp < :t"), {"t": stamp})
        return int(count or 0)
    finally:
        engine.dispose()
