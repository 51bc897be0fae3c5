"""Data protection: the privacy notice once per citizen and version, and the retention purge that
keeps official records (SQLite and PostgreSQL, and a real Rasa SQL tracker store)."""
import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from actions.choosing_a_panchayat import ActionSessionStart
from panchayat import citizens, config, db, outbox, retention, seed
from panchayat.models import Application, Attachment, AuditLog, ConsentRecord, Grievance, Notification
from tests.conftest import ROOT, snapshot


def start_session(sender, dispatcher, make_tracker, domain, slots=None):
    tracker = make_tracker("", sender=sender, slots=slots or {})
    return asyncio.run(ActionSessionStart().run(dispatcher, tracker, domain))


def test_a_new_number_sees_the_notice_once_and_it_is_recorded(sqlite_database, dispatcher, make_tracker, domain):
    events = start_session("919800000077", dispatcher, make_tracker, domain, slots={"language": "en"})
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[1] == {"event": "slot", "timestamp": None, "name": "language", "value": "en"}
    (notice,) = dispatcher.messages
    assert "গ্রাম পঞ্চায়েত আপনার হোয়াটসঅ্যাপ নম্বর" in notice["text"] and "৯০ দিন" in notice["text"]
    assert "keeps your WhatsApp number" in notice["text"] and "90 days" in notice["text"]
    start_session("919800000077", dispatcher, make_tracker, domain)
    assert len(dispatcher.messages) == 1
    with db.session_scope(sqlite_database) as session:
        citizen = citizens.find_citizen(session, "919800000077")
        (record,) = session.execute(select(ConsentRecord).where(ConsentRecord.citizen_id == citizen.id)).scalars()
        assert record.notice_version == citizens.PRIVACY_NOTICE_VERSION


def test_a_new_notice_version_is_shown_again(sqlite_database, dispatcher, make_tracker, domain, monkeypatch):
    start_session(seed.DEMO_CITIZEN, dispatcher, make_tracker, domain)
    assert dispatcher.messages == []  # the demo citizen has seen the current notice
    monkeypatch.setattr(citizens, "PRIVACY_NOTICE_VERSION", "2099-01")
    start_session(seed.DEMO_CITIZEN, dispatcher, make_tracker, domain)
    assert "Before we begin" in dispatcher.messages[0]["text"]


def _age(path, days):
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_purge_deletes_old_conversation_data_and_keeps_official_records(database, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    media = tmp_path / "media"
    media.mkdir()
    stray, used, fresh = media / "stray.jpg", media / "deed.pdf", media / "today.jpg"
    for path in (stray, used, fresh):
        path.write_bytes(b"x")
    _age(stray, 200)
    _age(used, 200)
    old = datetime.utcnow() - timedelta(days=200)
    with db.session_scope(database) as session:
        application = session.execute(select(Application)).scalars().first()
        session.add(Attachment(application_id=application.id, purpose="land_deed", storage_path=str(used),
                               mime_type="application/pdf", size_bytes=1, sha256="0" * 64, created_at=old))
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        delivered = outbox.notify(session, citizen, "grievance_assigned", number="GR-2026-000001", category="road")
        waiting = outbox.notify(session, citizen, "grievance_assigned", number="GR-2026-000002", category="road")
        delivered.status, delivered.created_at, waiting.created_at = "sent", old, old
        before = {table: session.execute(select(func.count()).select_from(table)).scalar()
                  for table in (Application, Grievance, Attachment, ConsentRecord)}
    with db.session_scope(database) as session:
        counts = retention.purge(session, 90, actor="test")
    assert counts["files"] == 1 and counts["notifications"] >= 1
    assert not stray.exists() and used.exists() and fresh.exists()
    with db.session_scope(database) as session:
        assert {table: session.execute(select(func.count()).select_from(table)).scalar()
                for table in (Application, Grievance, Attachment, ConsentRecord)} == before
        statuses = {n.params.get("number"): n.status for n in session.execute(select(Notification)).scalars()}
        assert "GR-2026-000001" not in statuses and statuses["GR-2026-000002"] == "pending"
        audit = session.execute(select(AuditLog).where(AuditLog.action == "retention_purge")).scalar_one()
        assert audit.details["files"] == 1


def test_purge_of_a_rasa_tracker_store_and_the_dry_run(database, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker_db = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db))
    now = time.time()
    events = [UserUttered("old message", timestamp=now - 200 * 86400), UserUttered("new", timestamp=now)]
    asyncio.run(store.save(DialogueStateTracker.from_events("919800000077", events)))
    url = f"sqlite:///{tracker_db}"
    env = dict(os.environ, DATABASE_URL=database, PANCHAYAT_VAR_DIR=str(tmp_path))
    before = snapshot(database)
    dry = subprocess.run([sys.executable, "-m", "panchayat", "retention", "purge", "--days", "90",
                          "--tracker-url", url, "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert dry.returncode == 0 and "would delete" in dry.stdout and "1 conversation events" in dry.stdout
    assert snapshot(database) == before
    done = subprocess.run([sys.executable, "-m", "panchayat", "retention", "purge", "--days", "90",
                           "--tracker-url", url], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    texts = [e.text for e in asyncio.run(store.retrieve("919800000077")).events if isinstance(e, UserUttered)]
    assert texts == ["new"]


def test_bad_retention_input_changes_nothing(database, tmp_path):
    env = dict(os.environ, DATABASE_URL=database, PANCHAYAT_VAR_DIR=str(tmp_path))
    before = snapshot(database)
    for args in (["--days", "0"], ["--tracker-url", database]):
        bad = subprocess.run([sys.executable, "-m", "panchayat", "retention", "purge", *args], cwd=ROOT, env=env,
                             capture_output=True, text=True)
        assert bad.returncode != 0 and bad.stderr.strip() and "Traceback" not in bad.stderr
    assert snapshot(database) == before
