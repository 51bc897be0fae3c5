"""The outbox in the core (panchayat/outbox.py), on SQLite and PostgreSQL: queueing in the caller's
unit of work, rendering in the citizen's language, the terminal chat's hand-out, and a worker's
claim, outcome and retries. The worker's sending over WhatsApp is tests/test_notifier.py."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from panchayat import catalogue, channel_records, db, outbox
from panchayat.models import Citizen, Notification, WhatsAppInbound, WhatsAppOutbound

NOW = datetime(2026, 3, 2, 10, 0, 0)
LEASE = timedelta(minutes=10)
RETRY = outbox.Retry(max_attempts=3, seconds=60, max_seconds=3600)
HASH_KEY = "outbox-test-hash-key"
RINA, AMIT = "919800000011", "447700900123"


def queue(url: str, wa_id: str, language: str, kind: str = "grievance_assigned", **params) -> int:
    params = params or {"number": "GR-2026-000001", "category": "road"}
    with db.session_scope(url) as session:
        citizen = session.execute(select(Citizen).where(Citizen.wa_id == wa_id)).scalar_one_or_none()
        if citizen is None:
            citizen = Citizen(wa_id=wa_id, language=language, language_explicit=True)
            session.add(citizen)
            session.flush()
        notification = outbox.notify(session, citizen, kind, **params)
        session.flush()
        return notification.id


def row(url: str, notification_id: int) -> Notification:
    with db.session_scope(url) as session:
        return session.get(Notification, notification_id)


def rendered(url: str, notification_id: int) -> str:
    with db.session_scope(url) as session:
        return outbox.render(session.get(Notification, notification_id))


# --- Queueing and rendering ------------------------------------------------------------------


def test_a_message_is_queued_and_rendered_in_the_citizens_language(database):
    stay = {"number": "GH-2026-000004", "guest_house_en": "Ranaghat Guest House", "guest_house_bn": "রানাঘাট অতিথিশালা",
            "check_in": "2026-12-15", "check_out": "2026-12-17", "reason": ""}
    bengali = queue(database, RINA, "bn", "booking_cancelled_by_panchayat", **stay)
    english = queue(database, AMIT, "en", "booking_cancelled_by_panchayat", **stay)

    queued = row(database, bengali)
    assert (queued.recipient, queued.language, queued.status, queued.attempts) == (RINA, "bn", "pending", 0)
    in_bengali, in_english = rendered(database, bengali), rendered(database, english)
    assert "রানাঘাট অতিথিশালা" in in_bengali and "২০২৬-১২-১৫" in in_bengali and "Ranaghat" not in in_bengali
    assert "Ranaghat Guest House" in in_english and "2026-12-15" in in_english
    assert in_english == catalogue.text("booking_cancelled_by_panchayat", "en", number="GH-2026-000004",
                                        guest_house="Ranaghat Guest House", check_in="2026-12-15",
                                        check_out="2026-12-17", reason="")


def test_a_service_is_named_in_the_readers_language(database):
    notification_id = queue(database, RINA, "bn", "application_approved", number="TN-2026-000001", service="trade_noc")
    assert catalogue.text("service_trade_noc", "bn") in rendered(database, notification_id)


def test_a_message_queued_in_a_unit_of_work_that_fails_is_not_kept(database):
    with pytest.raises(RuntimeError):
        with db.session_scope(database) as session:
            citizen = Citizen(wa_id=RINA, language="bn")
            session.add(citizen)
            session.flush()
            outbox.notify(session, citizen, "grievance_assigned", number="GR-2026-000009", category="road")
            raise RuntimeError("the change itself failed")
    with db.session_scope(database) as session:
        assert session.execute(select(Notification).where(Notification.recipient == RINA)).first() is None


def test_the_terminal_chat_takes_each_pending_message_once(database):
    first = queue(database, "demo-terminal", "en", number="GR-2026-000001", category="road")
    second = queue(database, "demo-terminal", "en", number="GR-2026-000002", category="road")

    texts = outbox.deliver_pending("demo-terminal", database_url=database)

    assert texts == [rendered(database, first), rendered(database, second)]
    handed_out = [row(database, i) for i in (first, second)]
    assert [(r.status, r.attempts, r.provider_message_id) for r in handed_out] == [
        ("sent", 1, f"terminal-{first}"), ("sent", 1, f"terminal-{second}")]
    assert outbox.deliver_pending("demo-terminal", database_url=database) == []


# --- A worker's claims -----------------------------------------------------------------------


def test_only_due_or_abandoned_rows_are_candidates(database):
    due, later, fresh_claim, stale_claim, sent = (queue(database, RINA, "bn", number=f"GR-2026-00000{i}",
                                                        category="road") for i in range(5))
    with db.session_scope(database) as session:
        session.get(Notification, later).next_attempt_at = NOW + timedelta(minutes=1)
        for held, at in ((fresh_claim, NOW - LEASE / 2), (stale_claim, NOW - LEASE * 2)):
            session.get(Notification, held).status = "sending"
            session.get(Notification, held).claimed_at = at
        session.get(Notification, sent).status = "sent"

    ids = [notification_id for notification_id, _, _ in outbox.candidates(NOW, LEASE, 0, database_url=database)]

    assert due in ids and stale_claim in ids
    assert later not in ids and fresh_claim not in ids and sent not in ids
    assert outbox.candidates(NOW, LEASE, max(ids), database_url=database) == []


def test_a_claim_says_what_the_provider_already_took_and_when_the_citizen_last_wrote(database):
    notification_id = queue(database, RINA, "bn")
    wrote = NOW - timedelta(hours=2)
    with db.session_scope(database) as session:
        session.add(WhatsAppInbound(wamid="wamid.in.1", message_type="text", received_at=wrote,
                                    sender_hash=channel_records.number_hash(HASH_KEY, RINA)))
        session.add(WhatsAppOutbound(provider_message_id="wamid.out.1", kind="text", status="accepted",
                                     recipient_hash=channel_records.number_hash(HASH_KEY, RINA),
                                     notification_id=notification_id))

    held = outbox.claim(notification_id, NOW, LEASE, HASH_KEY, database_url=database)

    assert held is not None and not held.taken_over
    assert (held.sent_parts, held.main_message_id, held.last_inbound_at) == (frozenset({"text"}), "wamid.out.1", wrote)
    assert held.text == rendered(database, notification_id) and held.render_error is None
    claimed = row(database, notification_id)
    assert (claimed.status, claimed.claim_token, claimed.claimed_at) == ("sending", held.token, NOW)
    # Held: nobody else may take it until the lease has run out.
    assert outbox.claim(notification_id, NOW, LEASE, HASH_KEY, database_url=database) is None
    assert outbox.claim(notification_id, NOW + LEASE * 2, LEASE, HASH_KEY, database_url=database).taken_over


def test_a_claim_of_a_message_that_cannot_be_rendered_says_why(database):
    notification_id = queue(database, AMIT, "en", "no_such_catalogue_key", number="X")

    held = outbox.claim(notification_id, NOW, LEASE, HASH_KEY, database_url=database)

    assert held.text == "" and "cannot render 'no_such_catalogue_key'" in held.render_error
    assert held.last_inbound_at is None


# --- Outcomes and retries ---------------------------------------------------------------------


def test_a_failure_that_may_pass_waits_twice_as_long_each_time_then_gives_up(database):
    notification_id = queue(database, RINA, "bn")
    moment, waits = NOW, []
    for _ in range(RETRY.max_attempts):
        held = outbox.claim(notification_id, moment, LEASE, HASH_KEY, database_url=database)
        failure = outbox.finish_failed(held, moment, "HTTP 503", True, RETRY, database_url=database)
        waits.append(failure.next_attempt_at - moment if failure.retrying else None)
        moment = failure.next_attempt_at or moment

    assert waits == [timedelta(seconds=60), timedelta(seconds=120), None]
    given_up = row(database, notification_id)
    assert (given_up.status, given_up.attempts, given_up.last_error) == ("failed", 3, "HTTP 503")
    assert given_up.claim_token is None and given_up.next_attempt_at is None
    due_later = [i for i, _, _ in outbox.candidates(moment + timedelta(days=1), LEASE, 0, database_url=database)]
    assert notification_id not in due_later


def test_a_permanent_failure_fails_at_once_and_keeps_the_id_of_what_went_out(database):
    notification_id = queue(database, RINA, "bn")
    held = outbox.claim(notification_id, NOW, LEASE, HASH_KEY, database_url=database)

    failure = outbox.finish_failed(held, NOW, "document missing", False, RETRY, "wamid.text", database_url=database)

    assert (failure.attempts, failure.retrying) == (1, False)
    failed = row(database, notification_id)
    assert (failed.status, failed.provider_message_id) == ("failed", "wamid.text")
    assert failed.last_error == "document missing"


def test_a_sent_message_counts_an_attempt_unless_it_was_recovered(database):
    sent_id, recovered_id = queue(database, RINA, "bn"), queue(database, AMIT, "en")
    for notification_id, recovered in ((sent_id, False), (recovered_id, True)):
        held = outbox.claim(notification_id, NOW, LEASE, HASH_KEY, database_url=database)
        assert outbox.finish_sent(held, NOW, f"wamid.{notification_id}", recovered, database_url=database)

    assert [(row(database, i).status, row(database, i).attempts, row(database, i).sent_at)
            for i in (sent_id, recovered_id)] == [("sent", 1, NOW), ("sent", 0, NOW)]


def test_the_wait_doubles_up_to_its_cap_and_honours_the_providers_retry_after():
    assert [RETRY.delay(attempts) for attempts in (1, 2, 3)] == [timedelta(seconds=s) for s in (60, 120, 240)]
    assert RETRY.delay(20) == timedelta(seconds=3600)
    assert RETRY.delay(1, retry_after=300) == timedelta(seconds=300)
    assert RETRY.delay(1, retry_after=99999) == timedelta(seconds=3600)
