"""The notification worker against real databases (SQLite and PostgreSQL) and the Graph API fake.

The fake runs in an event loop of its own thread; the worker is driven with a fixed `now`,
so the 24-hour window, the backoff and the lease are tested without waiting.
"""
import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, List, Optional

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connectors.notifier import (
    DEFAULT_TEMPLATE,
    DOCUMENT_TEMPLATE,
    NotifierPolicy,
    deliver_once,
    template_parameter,
)
from connectors.whatsapp.redact import mask_number
from connectors.whatsapp.settings import WhatsAppSettings
from panchayat import catalogue, db, outbox, seed
from panchayat.channel_records import number_hash
from panchayat.models import Citizen, Notification, WhatsAppInbound, WhatsAppOutbound
from simulator import graph_fake

ROOT = Path(__file__).resolve().parent.parent
PHONE_NUMBER_ID = graph_fake.DEFAULT_PHONE_NUMBER_ID
APP_SECRET = "app-secret-notifier-5d2e"
ACCESS_TOKEN = "EAAG-notifier-token-31c7"
RINA, AMIT, SOMA = "919800000011", "447700900123", "919800000033"
NOW = datetime(2026, 3, 2, 10, 0, 0)
POLICY = NotifierPolicy(max_attempts=3, retry_seconds=60, retry_max_seconds=3600, lease_seconds=600)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- Harness ---------------------------------------------------------------------------------


@pytest.fixture
def fake(loop_thread):
    graph = graph_fake.GraphFake(ACCESS_TOKEN, PHONE_NUMBER_ID)
    loop_thread.run(graph.start())
    yield graph
    loop_thread.run(graph.stop())


@pytest.fixture
def outbox_dir(tmp_path) -> Path:
    folder = tmp_path / "documents"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(fake, outbox_dir) -> WhatsAppSettings:
    return WhatsAppSettings(verify_token="VERIFY", app_secret=APP_SECRET, access_token=ACCESS_TOKEN,
                            phone_number_id=PHONE_NUMBER_ID, api_base_url=fake.base_url, retry_base_delay=0.001,
                            send_attempts=2, outbound_file_dirs=(outbox_dir,))


@pytest.fixture
def deliver(loop_thread, settings, database):
    def run(now: datetime = NOW, policy: NotifierPolicy = POLICY):
        return loop_thread.run(deliver_once(settings, database, now, policy))

    return run


def add_citizen(url: str, wa_id: str, language: str) -> None:
    with db.session_scope(url) as session:
        session.add(Citizen(wa_id=wa_id, language=language, language_explicit=True))


def wrote_at(url: str, wa_id: str, at: datetime) -> None:
    """The citizen's last inbound message: the start of the 24-hour window."""
    with db.session_scope(url) as session:
        session.add(WhatsAppInbound(wamid=f"wamid.in.{wa_id}.{at.timestamp()}", message_type="text",
                                    sender_hash=number_hash(APP_SECRET, wa_id), received_at=at))


def queue(url: str, wa_id: str, kind: str = "grievance_assigned", document: Optional[Path] = None,
          **params: Any) -> int:
    params = params or {"number": "GR-2026-000001"}
    with db.session_scope(url) as session:
        citizen = session.execute(select(Citizen).where(Citizen.wa_id == wa_id)).scalar_one()
        notification = outbox.notify(session, citizen, kind, **params)
        notification.document_path = str(document) if document else None
        session.flush()
        return notification.id


def load(url: str, notification_id: int) -> Notification:
    with db.session_scope(url) as session:
        return session.get(Notification, notification_id)


def rendered(url: str, notification_id: int) -> str:
    with db.session_scope(url) as session:
        return outbox.render(session.get(Notification, notification_id))


def outbound_of(url: str, notification_id: int) -> List[WhatsAppOutbound]:
    with db.session_scope(url) as session:
        return list(session.execute(select(WhatsAppOutbound).where(
            WhatsAppOutbound.notification_id == notification_id).order_by(WhatsAppOutbound.id)).scalars())


def message_calls(graph: graph_fake.GraphFake) -> int:
    return sum(1 for method, path in graph.calls if method == "POST" and path.endswith("/messages"))


def leave_claimed(url: str, notification_id: int, claimed_at: datetime) -> None:
    """What a worker that died after claiming leaves behind."""
    with db.session_scope(url) as session:
        row = session.get(Notification, notification_id)
        row.status, row.claim_token, row.claimed_at = "sending", "dead-worker-token", claimed_at


def record_sent(url: str, notification_id: int, wa_id: str, kind: str, message_id: str) -> None:
    with db.session_scope(url) as session:
        session.add(WhatsAppOutbound(provider_message_id=message_id, recipient_hash=number_hash(APP_SECRET, wa_id),
                                     kind=kind, status="accepted", notification_id=notification_id))


@pytest.fixture
def citizens(database):
    add_citizen(database, RINA, "bn")
    add_citizen(database, AMIT, "en")
    add_citizen(database, SOMA, "bn")
    return database


# --- Which message ---------------------------------------------------------------------------


@pytest.mark.parametrize("wa_id, language", [(RINA, "bn"), (AMIT, "en")])
def test_inside_the_window_the_text_goes_in_the_citizens_language(citizens, fake, deliver, wa_id, language):
    wrote_at(citizens, wa_id, NOW - timedelta(hours=3))
    notification_id = queue(citizens, wa_id, "grievance_resolved", number="GR-2026-000007", note="Bulb replaced")

    report = deliver()

    expected = catalogue.text("grievance_resolved", language, number="GR-2026-000007", note="Bulb replaced")
    assert report.sent == [notification_id]
    assert [m["type"] for m in fake.sent_to(wa_id)] == ["text"]
    assert fake.texts(wa_id) == [expected]
    assert ("অভিযোগ" in expected) == (language == "bn")
    row = load(citizens, notification_id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
    assert row.provider_message_id == fake.sent_to(wa_id)[0]["id"]
    assert row.claim_token is None and row.claimed_at is None
    assert [(o.kind, o.provider_message_id) for o in outbound_of(citizens, notification_id)] == [
        ("text", row.provider_message_id)]


def test_outside_the_window_a_template_goes_with_the_configured_name_and_language(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=25))  # window closed an hour ago
    bengali = queue(citizens, RINA, "application_under_review", number="TN-2026-000003", service="trade_noc")
    english = queue(citizens, AMIT, "grievance_resolved", number="GR-2026-000002", note="Drain cleared")  # never wrote
    policy = NotifierPolicy(max_attempts=3, kind_templates={"grievance_resolved": "grievance_resolved_v2"})

    report = deliver(policy=policy)

    assert sorted(report.sent) == sorted([bengali, english])
    (to_rina,), (to_amit,) = fake.sent_to(RINA), fake.sent_to(AMIT)
    assert to_rina["type"] == to_amit["type"] == "template"
    assert to_rina["template"]["name"] == DEFAULT_TEMPLATE
    assert to_rina["template"]["language"] == {"code": "bn"}
    assert to_rina["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": rendered(citizens, bengali)}]}]
    assert "যাচাই" in rendered(citizens, bengali)
    assert to_amit["template"]["name"] == "grievance_resolved_v2"
    assert to_amit["template"]["language"] == {"code": "en_US"}
    assert to_amit["template"]["components"][0]["parameters"][0]["text"].startswith("Your complaint GR-2026-000002")
    assert [o.kind for o in outbound_of(citizens, english)] == ["template"]


def test_the_window_is_measured_from_the_last_message_and_closes_before_24_hours(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=30))
    wrote_at(citizens, RINA, NOW - timedelta(hours=23, minutes=50))
    wrote_at(citizens, AMIT, NOW - timedelta(hours=23, minutes=58))  # inside the margin: too late for text
    queue(citizens, RINA)
    queue(citizens, AMIT)

    deliver()

    assert [m["type"] for m in fake.sent_to(RINA)] == ["text"]
    assert [m["type"] for m in fake.sent_to(AMIT)] == ["template"]


def test_a_text_refused_because_the_window_closed_goes_again_as_a_template(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA)
    fake.fail_next(1, status=400, code=131047, message="Re-engagement message")

    report = deliver()

    assert report.sent == [notification_id]
    assert [m["type"] for m in fake.sent_to(RINA)] == ["template"]


def test_a_document_is_sent_after_the_text(citizens, fake, deliver, outbox_dir):
    certificate = outbox_dir / "TN-2026-000004.pdf"
    certificate.write_bytes(PDF)
    wrote_at(citizens, RINA, NOW - timedelta(minutes=5))
    notification_id = queue(citizens, RINA, "application_approved", document=certificate, number="TN-2026-000004",
                            service="trade_noc")

    report = deliver()

    assert report.sent == [notification_id]
    text, document = fake.sent_to(RINA)
    assert text["type"] == "text" and "TN-2026-000004" in text["text"]["body"]
    assert document["type"] == "document" and document["document"]["filename"] == "TN-2026-000004.pdf"
    assert fake.media[document["document"]["id"]]["data"] == PDF
    row = load(citizens, notification_id)
    assert row.status == "sent" and row.provider_message_id == text["id"]
    assert [o.kind for o in outbound_of(citizens, notification_id)] == ["text", "document"]


def test_outside_the_window_the_document_is_the_header_of_the_document_template(citizens, fake, deliver, outbox_dir):
    certificate = outbox_dir / "TN-2026-000005.pdf"
    certificate.write_bytes(PDF)
    notification_id = queue(citizens, AMIT, "application_approved", document=certificate, number="TN-2026-000005",
                            service="trade_noc")

    deliver()

    (sent,) = fake.sent_to(AMIT)
    assert sent["type"] == "template" and sent["template"]["name"] == DOCUMENT_TEMPLATE
    header, body = sent["template"]["components"]
    media = header["parameters"][0]["document"]
    assert fake.media[media["id"]]["data"] == PDF and media["filename"] == "TN-2026-000005.pdf"
    assert body["parameters"][0]["text"] == rendered(citizens, notification_id)
    assert load(citizens, notification_id).status == "sent"


def test_a_document_outside_the_allowed_folders_fails_without_sending_anything(citizens, fake, deliver, tmp_path):
    stray = tmp_path / "elsewhere.pdf"
    stray.write_bytes(PDF)
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA, document=stray)

    report = deliver()

    assert report.failed == [notification_id] and fake.messages == []
    assert "outside" in load(citizens, notification_id).last_error


# --- Errors and retries ----------------------------------------------------------------------


def test_a_notification_that_cannot_be_rendered_fails_at_once_without_sending(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA, "no_such_catalogue_key")

    report = deliver()

    assert report.failed == [notification_id] and fake.messages == []
    row = load(citizens, notification_id)
    assert (row.status, row.attempts) == ("failed", 1) and "cannot render" in row.last_error


def test_a_server_error_then_success_is_sent_once(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA)
    fake.fail_next(1, status=500)

    report = deliver()

    assert report.sent == [notification_id]
    assert message_calls(fake) == 2 and len(fake.messages) == 1
    assert load(citizens, notification_id).attempts == 1


def test_server_errors_through_one_run_leave_the_row_pending_until_its_backoff_has_passed(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA)
    fake.fail_next(2, status=503)  # both tries of the client's one call

    first = deliver()
    row = load(citizens, notification_id)
    assert first.retrying == [notification_id] and fake.messages == []
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=60))
    assert "503" in row.last_error

    assert deliver(NOW + timedelta(seconds=30)).retrying == [] and fake.messages == []
    later = deliver(NOW + timedelta(seconds=61))

    assert later.sent == [notification_id] and len(fake.messages) == 1
    row = load(citizens, notification_id)
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == ("sent", 2, None, None)


def test_throttling_beyond_the_maximum_attempts_fails_with_the_error(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA)
    fake.fail_next(20, status=400, code=130429, message="Rate limit hit")

    outcomes = [deliver(NOW + timedelta(hours=hour)) for hour in range(4)]

    assert [o.retrying for o in outcomes] == [[notification_id], [notification_id], [], []]
    assert [o.failed for o in outcomes] == [[], [], [notification_id], []]
    row = load(citizens, notification_id)
    assert (row.status, row.attempts) == ("failed", POLICY.max_attempts)
    assert "130429" in row.last_error and "Rate limit" in row.last_error
    assert fake.messages == [] and message_calls(fake) == POLICY.max_attempts * 2


def test_a_permanent_error_fails_at_once_without_retry(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA)
    fake.fail_next(1, status=400, code=100, message="Invalid parameter")

    report = deliver()
    deliver(NOW + timedelta(days=1))

    assert report.failed == [notification_id]
    assert message_calls(fake) == 1 and fake.messages == []
    row = load(citizens, notification_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "code 100" in row.last_error


def test_a_retry_after_the_text_went_out_sends_only_the_document(citizens, fake, deliver, outbox_dir):
    certificate = outbox_dir / "TN-2026-000006.pdf"
    certificate.write_bytes(PDF)
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA, "application_approved", document=certificate, number="TN-2026-000006",
                            service="trade_noc")
    fake.fail_next(2, status=503, endpoint="media_upload")

    assert deliver().retrying == [notification_id]
    assert [m["type"] for m in fake.sent_to(RINA)] == ["text"]
    assert deliver(NOW + timedelta(minutes=2)).sent == [notification_id]

    assert [m["type"] for m in fake.sent_to(RINA)] == ["text", "document"]
    assert load(citizens, notification_id).provider_message_id == fake.sent_to(RINA)[0]["id"]


# --- Exactly once ----------------------------------------------------------------------------


def test_delivering_twice_sends_nothing_twice(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    ids = [queue(citizens, RINA, number=f"GR-2026-00001{i}") for i in range(3)]

    first, second = deliver(), deliver(NOW + timedelta(minutes=1))

    assert first.sent == ids and second.sent == [] and second.recovered == []
    assert len(fake.messages) == 3


def _many(url: str, count: int) -> List[int]:
    for wa_id in (RINA, AMIT, SOMA):
        wrote_at(url, wa_id, NOW - timedelta(hours=1))
    return [queue(url, (RINA, AMIT, SOMA)[i % 3], number=f"GR-2026-{i:06d}") for i in range(count)]


def _sent_numbers(graph: graph_fake.GraphFake) -> List[str]:
    return sorted(body.split()[2] for body in graph.texts())  # "Your complaint GR-... has been ..."


def test_concurrent_workers_in_one_loop_send_each_notification_exactly_once(citizens, fake, loop_thread, settings):
    ids = _many(citizens, 24)

    async def three_workers():
        return await asyncio.gather(*(deliver_once(settings, citizens, NOW, POLICY) for _ in range(3)))

    reports = loop_thread.run(three_workers())

    sent = [i for report in reports for i in report.sent]
    assert sorted(sent) == ids
    assert len(fake.messages) == 24 and len(set(_sent_numbers(fake))) == 24
    assert all(load(citizens, i).attempts == 1 for i in ids)


def test_workers_in_separate_threads_send_each_notification_exactly_once(citizens, fake, settings):
    ids = _many(citizens, 30)

    def worker(_):
        return asyncio.run(deliver_once(settings, citizens, NOW, POLICY))

    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(worker, range(4)))

    assert sorted(i for report in reports for i in report.sent) == ids
    assert len(fake.messages) == 30 and len(set(_sent_numbers(fake))) == 30


def test_a_crashed_claim_whose_message_was_recorded_is_completed_not_resent(citizens, fake, deliver):
    notification_id = queue(citizens, RINA)
    leave_claimed(citizens, notification_id, NOW - timedelta(seconds=POLICY.lease_seconds + 1))
    record_sent(citizens, notification_id, RINA, "text", "wamid.before-the-crash")

    report = deliver()

    assert report.recovered == [notification_id] and report.sent == []
    assert fake.messages == [] and message_calls(fake) == 0
    row = load(citizens, notification_id)
    assert (row.status, row.provider_message_id, row.claim_token) == ("sent", "wamid.before-the-crash", None)


def test_a_claim_within_its_lease_is_left_to_its_worker(citizens, fake, deliver):
    notification_id = queue(citizens, RINA)
    leave_claimed(citizens, notification_id, NOW - timedelta(seconds=POLICY.lease_seconds - 60))

    report = deliver()

    assert fake.messages == [] and report.sent == report.recovered == []
    row = load(citizens, notification_id)
    assert (row.status, row.claim_token) == ("sending", "dead-worker-token")


def test_a_stale_claim_without_a_record_is_sent_once(citizens, fake, deliver):
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA)
    leave_claimed(citizens, notification_id, NOW - timedelta(hours=1))

    first, second = deliver(), deliver(NOW + timedelta(hours=1))

    assert first.sent == [notification_id] and second.sent == []
    assert len(fake.messages) == 1
    assert load(citizens, notification_id).status == "sent"


def test_a_crash_between_the_text_and_the_document_sends_only_the_document(citizens, fake, deliver, outbox_dir):
    certificate = outbox_dir / "TN-2026-000008.pdf"
    certificate.write_bytes(PDF)
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    notification_id = queue(citizens, RINA, "application_approved", document=certificate, number="TN-2026-000008",
                            service="trade_noc")
    leave_claimed(citizens, notification_id, NOW - timedelta(hours=1))
    record_sent(citizens, notification_id, RINA, "text", "wamid.text-before-the-crash")

    assert deliver().sent == [notification_id]

    assert [m["type"] for m in fake.sent_to(RINA)] == ["document"]
    assert load(citizens, notification_id).provider_message_id == "wamid.text-before-the-crash"


def test_a_worker_whose_claim_was_taken_over_writes_nothing(citizens):
    notification_id = queue(citizens, RINA)
    lease = timedelta(seconds=POLICY.lease_seconds)
    slow = outbox.claim(notification_id, NOW, lease, APP_SECRET, database_url=citizens)
    later = NOW + lease + timedelta(seconds=1)
    takeover = outbox.claim(notification_id, later, lease, APP_SECRET, database_url=citizens)

    assert slow is not None and takeover is not None and takeover.taken_over
    assert outbox.claim(notification_id, later, lease, APP_SECRET, database_url=citizens) is None
    assert outbox.finish_failed(slow, later, "too late", False, POLICY.retry, database_url=citizens) is None
    assert outbox.finish_sent(takeover, later, "wamid.taken-over", database_url=citizens)
    row = load(citizens, notification_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


# --- What is left alone, and what is never logged --------------------------------------------


def test_terminal_chat_recipients_are_left_pending_for_the_terminal(citizens, fake, deliver):
    terminal = queue(citizens, seed.DEMO_CITIZEN)
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    whatsapp = queue(citizens, RINA)

    report = deliver()

    assert report.sent == [whatsapp] and report.skipped >= 1
    assert [m["to"] for m in fake.messages] == [RINA]
    row = load(citizens, terminal)
    assert (row.status, row.attempts, row.last_error, row.claim_token) == ("pending", 0, None, None)
    assert outbox.deliver_pending(seed.DEMO_CITIZEN, database_url=citizens)


def test_logs_and_errors_hold_no_token_secret_or_full_number(citizens, fake, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    wrote_at(citizens, RINA, NOW - timedelta(hours=1))
    failing = queue(citizens, RINA)
    queue(citizens, AMIT)
    fake.fail_next(1, status=500)
    fake.fail_next(1, status=400, code=131030, message=f"Recipient phone number {RINA} not in allowed list")

    deliver()

    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert mask_number(RINA) in caplog.text and "notification" in caplog.text
    for secret in (ACCESS_TOKEN, APP_SECRET, RINA, AMIT):
        assert secret not in caplog.text
    last_error = load(citizens, failing).last_error
    assert "131030" in last_error and RINA not in last_error


# --- Settings, schema, command line ----------------------------------------------------------


def test_templates_and_limits_come_from_the_environment():
    policy = NotifierPolicy.from_environ({
        "WHATSAPP_TEMPLATE_GRIEVANCE_RESOLVED": "complaint_done", "WHATSAPP_TEMPLATE_DEFAULT": "gp_update",
        "WHATSAPP_TEMPLATE_DOCUMENT": "gp_document", "WHATSAPP_TEMPLATE_LANGUAGE_EN": "en_GB",
        "NOTIFIER_MAX_ATTEMPTS": "7", "NOTIFIER_LEASE_SECONDS": "120"})
    assert policy.template_for("grievance_resolved") == "complaint_done"
    assert policy.template_for("application_approved") == "gp_update"
    assert policy.document_template == "gp_document"
    assert (policy.template_language("bn"), policy.template_language("en")) == ("bn", "en_GB")
    assert (policy.max_attempts, policy.lease_seconds) == (7, 120)
    defaults = NotifierPolicy.from_environ({})
    assert (defaults.template_for("grievance_resolved"), defaults.document_template) == (DEFAULT_TEMPLATE,
                                                                                         DOCUMENT_TEMPLATE)
    assert (defaults.template_language("bn"), defaults.template_language("en")) == ("bn", "en_US")
    assert defaults.retry.delay(1) < defaults.retry.delay(2) < defaults.retry.delay(3)
    assert defaults.retry.delay(30) == timedelta(seconds=defaults.retry_max_seconds)


def test_a_template_parameter_is_one_line_and_short_enough_for_meta():
    value = template_parameter("Line one\n\nline\ttwo" + "     x" * 400)
    assert "\n" not in value and "\t" not in value and "     " not in value
    assert value.startswith("Line one line two") and len(value) <= 900


def test_the_template_document_names_the_templates_the_worker_sends():
    guide = (ROOT / "docs" / "whatsapp-templates.md").read_text(encoding="utf-8")
    for name in (DEFAULT_TEMPLATE, DOCUMENT_TEMPLATE, "`bn`", "`en_US`", "WHATSAPP_TEMPLATE_<KIND>"):
        assert name in guide
    bodies = guide.split("```")[1::2]
    assert len(bodies) == 4 and all(block.count("{{1}}") == 1 for block in bodies)
    assert sum(1 for block in bodies if "পঞ্চায়েত" in block) == 2
    # Meta refuses a body that begins or ends with a parameter.
    assert not any(block.strip().startswith("{{") or block.strip().endswith("}}") for block in bodies)


def test_the_schema_takes_sending_and_refuses_an_unknown_status(citizens):
    notification_id = queue(citizens, RINA)
    with db.session_scope(citizens) as session:
        session.get(Notification, notification_id).status = "sending"
    with pytest.raises(IntegrityError):
        with db.session_scope(citizens) as session:
            session.get(Notification, notification_id).status = "lost"
    assert load(citizens, notification_id).status == "sending"


def _environment(url: str, fake: graph_fake.GraphFake, folder: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WHATSAPP_", "NOTIFIER_"))}
    env.update(DATABASE_URL=url, WHATSAPP_VERIFY_TOKEN="VERIFY", WHATSAPP_APP_SECRET=APP_SECRET,
               WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
               WHATSAPP_API_BASE_URL=fake.base_url, WHATSAPP_OUTBOUND_FILE_DIRS=str(folder),
               WHATSAPP_RETRY_BASE_DELAY="0.001", PYTHONPATH=str(ROOT))
    return env


def test_the_command_delivers_once_and_exits(sqlite_database, fake, outbox_dir):
    add_citizen(sqlite_database, RINA, "bn")
    queue(sqlite_database, RINA)

    done = subprocess.run([sys.executable, "-m", "connectors.notifier", "--once"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=_environment(sqlite_database, fake, outbox_dir))

    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 sent" in done.stdout
    assert [m["type"] for m in fake.sent_to(RINA)] == ["template"]
    assert ACCESS_TOKEN not in done.stderr and RINA not in done.stderr


def test_the_command_keeps_delivering_until_sigterm_and_stops_cleanly(sqlite_database, fake, outbox_dir):
    add_citizen(sqlite_database, RINA, "bn")
    worker = subprocess.Popen([sys.executable, "-m", "connectors.notifier", "--interval", "0.2"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_environment(sqlite_database, fake, outbox_dir))
    try:
        queue(sqlite_database, RINA)
        deadline = time.monotonic() + 90
        while not fake.sent_to(RINA) and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert fake.sent_to(RINA), "the looping worker never delivered"
        queue(sqlite_database, RINA, number="GR-2026-000002")  # picked up by a later pass
        while len(fake.sent_to(RINA)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr[-2000:]
    assert len(fake.sent_to(RINA)) == 2 and "stopped" in stderr
