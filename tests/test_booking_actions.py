"""The booking forms' actions: bad dates, too long, zero rooms, full house (nothing is written); the first
question after the opening message; cancelling one's own booking."""
import asyncio
from datetime import date, timedelta

import pytest

from actions.booking_a_room import (
    ActionAskBookingAnswer,
    ActionAskCancellationAnswer,
    ValidateBookingCancellationForm,
    ValidateBookingForm,
)
from panchayat import db
from panchayat.journeys.booking_a_room import next_step
from panchayat.models import Booking


def validate(value, draft, dispatcher, make_tracker, domain, intent="inform"):
    tracker = make_tracker(value, intent=intent, slots={"language": "en", "booking_draft": draft, "gp_known": True})
    return asyncio.run(ValidateBookingForm().validate_booking_answer(value, dispatcher, tracker, domain))


@pytest.fixture
def draft():
    return {"choices": [2, 1], "names": {"1": {"en": "A", "bn": "A"}, "2": {"en": "B", "bn": "B"}}, "house": 2}


def bookings_count(url):
    with db.session_scope(url) as session:
        return session.query(Booking).count()


@pytest.mark.parametrize("typed, message", [
    ("1/1/2020", "That date has already passed"),
    ("1 to 20 " + (date.today() + timedelta(days=40)).strftime("%B").lower(), "at most 7 nights"),
])
def test_bad_dates_are_explained_and_asked_again(sqlite_database, dispatcher, make_tracker, domain, draft, typed,
                                                 message):
    result = validate(typed, draft, dispatcher, make_tracker, domain)
    assert result["booking_answer"] is None and next_step(result["booking_draft"]) == "dates"
    assert message in dispatcher.messages[-1]["text"]


def test_zero_rooms_and_more_rooms_than_free(sqlite_database, dispatcher, make_tracker, domain, draft):
    day = date.today() + timedelta(days=30)
    draft = dict(draft, check_in=day.isoformat(), check_out=(day + timedelta(days=1)).isoformat())
    result = validate("0", draft, dispatcher, make_tracker, domain)
    assert "at least one room" in dispatcher.messages[-1]["text"] and next_step(result["booking_draft"]) == "rooms"
    result = validate("5", draft, dispatcher, make_tracker, domain)
    assert "Not enough rooms" in dispatcher.messages[-1]["text"] and next_step(result["booking_draft"]) == "rooms"


def test_confirming_books_and_saying_no_books_nothing(sqlite_database, dispatcher, make_tracker, domain, draft):
    day = date.today() + timedelta(days=30)
    draft = dict(draft, check_in=day.isoformat(), check_out=(day + timedelta(days=2)).isoformat(), rooms=1)
    before = bookings_count(sqlite_database)
    result = validate("/deny", draft, dispatcher, make_tracker, domain, intent="deny")
    assert result == {"booking_answer": "dropped", "booking_draft": None}
    assert bookings_count(sqlite_database) == before
    result = validate("haan", draft, dispatcher, make_tracker, domain, intent="affirm")
    assert result["booking_answer"].startswith("GH-") and bookings_count(sqlite_database) == before + 1


def ask(action, dispatcher, make_tracker, domain, **kwargs):
    return asyncio.run(action.run(dispatcher, make_tracker(**kwargs), domain))


def test_the_message_that_opened_the_form_is_read_before_the_first_question(sqlite_database, dispatcher,
                                                                            make_tracker, domain):
    opened = [{"event": "user", "text": "room chai 24/12 for 2 nights, 2 rooms", "message_id": "m1",
               "parse_data": {"intent": {"name": "book_guest_house"}}},
              {"event": "active_loop", "name": "booking_form"}]
    events = ask(ActionAskBookingAnswer(), dispatcher, make_tracker, domain, slots={"language": "en"}, events=opened)
    [event] = events
    assert event["name"] == "booking_draft" and event["value"]["read"] == "m1"
    assert event["value"]["rooms"] == 2 and event["value"]["check_in"].endswith("-12-24")
    assert dispatcher.messages[-1]["text"].startswith("Which guest house?")
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["1", "2"]


def test_no_guest_house_near_ends_the_form(sqlite_database, dispatcher, make_tracker, domain):
    events = ask(ActionAskBookingAnswer(), dispatcher, make_tracker, domain, sender="someone-new",
                 slots={"language": "en"})
    assert [e.get("name") for e in events] == [None, "requested_slot", "booking_draft"]
    assert "no panchayat guest house" in dispatcher.messages[-1]["text"]


def test_a_guest_cancels_their_only_booking(sqlite_database, dispatcher, make_tracker, domain):
    events = ask(ActionAskCancellationAnswer(), dispatcher, make_tracker, domain, sender="demo-applicant-1",
                 slots={"language": "en"})
    [target] = [e["value"] for e in events if e["name"] == "cancellation_target"]
    assert dispatcher.messages[-1]["text"].startswith(f"Cancel this booking?\nBooking {target}:")
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/deny"]
    tracker = make_tracker("yes", intent="affirm", sender="demo-applicant-1",
                           slots={"language": "en", "cancellation_target": target})
    result = asyncio.run(ValidateBookingCancellationForm().validate_cancellation_answer("yes", dispatcher, tracker,
                                                                                        domain))
    assert result == {"cancellation_answer": "cancelled", "cancellation_target": None}
    with db.session_scope(sqlite_database) as session:
        assert session.query(Booking).filter_by(number=target).one().status == "cancelled"
    # Nothing left to cancel now: the form ends.
    events = ask(ActionAskCancellationAnswer(), dispatcher, make_tracker, domain, sender="demo-applicant-1",
                 slots={"language": "en"})
    assert events[0]["event"] == "active_loop" and "no upcoming booking" in dispatcher.messages[-1]["text"]
