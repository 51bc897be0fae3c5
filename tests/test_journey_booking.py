"""The booking journey on a real database (SQLite and PostgreSQL): the houses offered, answers
read from one message, dates and rooms refused, a booking confirmed, and cancelling one's own
booking but never someone else's."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from panchayat import db, seed
from panchayat.catalogue import text
from panchayat.errors import PanchayatError
from panchayat.journeys import Reply, booking_a_room as journey
from panchayat.models import Booking, Citizen, GuestHouse, RoomNight

SAMITI = "Hanskhali Panchayat Samiti Guest House"  # 4 rooms, from ₹500 a night
BAGULA = "Bagula-I Gram Panchayat Guest House"  # the demo citizen's GP's own: 2 rooms at ₹600


def house_id(url, name_en):
    with db.session_scope(url) as session:
        return session.execute(select(GuestHouse.id).where(GuestHouse.name_en == name_en)).scalar_one()


def stay(days_ahead, nights, **draft):
    check_in = date.today() + timedelta(days=days_ahead)
    return dict(draft, check_in=check_in.isoformat(), check_out=(check_in + timedelta(days=nights)).isoformat())


@pytest.fixture
def started(database):
    return journey.start(seed.DEMO_CITIZEN, {})


def test_start_offers_the_houses_of_the_citizens_gp_first_in_both_languages(database, started):
    assert started["choices"] == [house_id(database, BAGULA), house_id(database, SAMITI)]
    assert started["names"][str(started["choices"][1])] == {"en": SAMITI, "bn": "হাঁসখালি পঞ্চায়েত সমিতি অতিথিশালা"}
    assert started["menu"]["en"].splitlines() == [f"1. {BAGULA}: 2 rooms, ₹600 a night and up",
                                                  f"2. {SAMITI}: 4 rooms, ₹500 a night and up"]
    assert started["menu"]["bn"].splitlines()[1].startswith("২. হাঁসখালি পঞ্চায়েত সমিতি অতিথিশালা: ৪টি ঘর")
    assert "house" not in started  # two to choose from
    asked = journey.question(started, "en")
    assert asked.key == "booking_ask_house" and [b.payload for b in asked.buttons] == ["1", "2"]


def test_a_citizen_without_a_gram_panchayat_is_offered_no_house(database):
    assert journey.start("new-citizen-without-gp", {}) is None
    turn = journey.ask("new-citizen-without-gp", {}, "bn")
    assert turn.draft is None and turn.replies == [Reply("booking_no_houses")]


def test_one_message_fills_dates_nights_and_rooms(started):
    filled = journey.read_answers(dict(started, house=started["choices"][0]),
                                  "24/12 for 2 nights, 2 rooms", "dates")
    assert filled["check_in"].endswith("-12-24") and filled["rooms"] == 2
    assert (date.fromisoformat(filled["check_out"]) - date.fromisoformat(filled["check_in"])).days == 2
    assert journey.next_step(filled) == "confirm"
    # "2" at the house question is the second house, not two rooms.
    assert journey.read_answers(started, "2", "house") == dict(started, house=started["choices"][1])
    assert journey.read_answers(started, "what?", "house") == started


def test_a_past_date_is_refused_and_the_dates_are_asked_again(started):
    draft = stay(-1, 2, **started, house=started["choices"][1], rooms=1)
    checked, replies = journey.check(draft)
    assert replies == [Reply("error_booking_past_date")]
    assert checked["check_in"] is None and checked["rooms"] is None
    assert journey.question(checked, "en").key == "booking_ask_dates"


def test_the_free_rooms_are_counted_and_too_many_rooms_are_refused(started):
    draft = stay(40, 2, **started, house=started["choices"][1])
    counted, replies = journey.check(draft)
    assert counted == dict(draft, free=4) and replies == []
    assert journey.question(counted, "bn") == Reply("booking_ask_rooms", {"free": "৪"})
    refused = journey.answer(counted, "5 rooms")
    assert refused.replies == [Reply("error_booking_unavailable", {"available": 4})]
    assert refused.draft["rooms"] is None and refused.draft["check_in"] == draft["check_in"]


def test_confirming_books_the_rooms_once(database, started):
    house = started["choices"][0]
    draft = journey.answer(stay(45, 2, **started, house=house), "2 rooms").draft
    summary = journey.question(draft, "en")
    assert summary.key == "booking_summary" and summary.params["amount"] == "2,400"
    assert [b.payload for b in summary.buttons] == ["/affirm", "/deny"]
    booked = journey.confirm(seed.DEMO_CITIZEN, draft)
    assert booked.draft is None and booked.number.startswith("GH-")
    assert booked.replies == [Reply("booking_done", {"number": booked.number})]
    with db.session_scope(database) as session:
        booking = session.execute(select(Booking).where(Booking.number == booked.number)).scalar_one()
        assert booking.citizen.wa_id == seed.DEMO_CITIZEN and booking.rooms_count == 2
        assert booking.amount_paise == 240000
    # The same rooms again: the house is full; nothing is written and the rooms are asked again.
    again = journey.confirm("demo-applicant-1", draft)
    assert again.number is None and again.draft == dict(draft, rooms=None)
    assert again.replies == [Reply("error_booking_unavailable", {"available": 0})]
    with db.session_scope(database) as session:
        assert session.execute(select(Booking.number).where(Booking.check_in == date.fromisoformat(
            draft["check_in"]))).scalars().all() == [booked.number]


def test_cancelling_ones_own_booking_frees_its_rooms(database, started):
    number = journey.confirm(seed.DEMO_CITIZEN, stay(50, 1, **started, house=started["choices"][1], rooms=1)).number
    offer = journey.cancellable(seed.DEMO_CITIZEN, None, "en")
    assert offer.target == number and not offer.nothing_to_cancel
    assert offer.replies[0].key == "cancellation_confirm" and number in offer.replies[0].params["booking"]
    assert journey.cancel(seed.DEMO_CITIZEN, number) == Reply("cancellation_done", {"number": number})
    with db.session_scope(database) as session:
        booking = session.execute(select(Booking).where(Booking.number == number)).scalar_one()
        assert booking.status == "cancelled" and booking.cancelled_by == "guest"
        assert session.execute(select(RoomNight).where(RoomNight.booking_id == booking.id)).first() is None
    # Cancelled now: offered no more.
    assert journey.cancellable(seed.DEMO_CITIZEN, None, "en").replies == [Reply("cancellation_none")]
    closed = journey.cancellable(seed.DEMO_CITIZEN, number, "en")
    assert closed.nothing_to_cancel and closed.replies == [
        Reply("error_booking_already_cancelled", {"number": number})]


def test_someone_elses_booking_can_be_neither_offered_nor_cancelled(database):
    with db.session_scope(database) as session:
        theirs = session.execute(select(Booking).join(Citizen).where(
            Citizen.wa_id == "demo-applicant-1", Booking.status == "confirmed")).scalars().first()
        number = theirs.number
    offer = journey.cancellable(seed.DEMO_CITIZEN, number, "en")
    assert offer.nothing_to_cancel and offer.target is None
    assert offer.replies == [Reply("booking_not_found", {"number": number})]
    with pytest.raises(PanchayatError) as refused:
        journey.cancel(seed.DEMO_CITIZEN, number)
    assert refused.value.key == "unknown_booking"
    with db.session_scope(database) as session:
        assert session.execute(select(Booking.status).where(Booking.number == number)).scalar_one() == "confirmed"


def test_a_booking_line_is_plain_facts_in_the_readers_language():
    facts = journey.BookingFacts("GH-2026-000007", SAMITI, "হাঁসখালি পঞ্চায়েত সমিতি অতিথিশালা",
                                 date(2026, 12, 24), date(2026, 12, 26), 2, 320000, "confirmed")
    assert journey.booking_line(facts, "en") == (
        f"Booking GH-2026-000007: {SAMITI}, 24/12/2026 to 26/12/2026, 2 room(s), ₹3,200: "
        + text("status_confirmed", "en") + ".")
    assert "২৪/১২/২০২৬" in journey.booking_line(facts, "bn") and "৩,২০০" in journey.booking_line(facts, "bn")
