"""The booking form's validator: bad dates, too long, zero rooms, full house; nothing is written."""
import asyncio
from datetime import date, timedelta

import pytest

from actions.booking_a_room import ValidateBookingForm
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
