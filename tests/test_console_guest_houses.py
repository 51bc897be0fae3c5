"""The console's guest-house pages: the calendar of room-nights, a booking, and cancelling it with
a reason as the CLI does; the scope of every route; on SQLite and PostgreSQL."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from panchayat import bookings, catalogue, db
from panchayat.models import AuditLog, Booking, GuestHouse, Notification, RoomNight
from panchayat.seed import DEMO_GP, SAMPLE_GPS
from tests.conftest import snapshot

SAME_BLOCK_GP = SAMPLE_GPS[1][0]
OTHER_BLOCK_GP = SAMPLE_GPS[3][0]


def _confirmed(url):
    """{'gp': number, 'block': number}: the demo's confirmed booking at the GP's and at the block's guest house."""
    with db.session_scope(url) as session:
        found = session.execute(select(Booking, GuestHouse).join(GuestHouse, GuestHouse.id == Booking.guest_house_id)
                                .where(Booking.status == "confirmed")).all()
        return {("gp" if house.gp_code == DEMO_GP else "block"): booking.number for booking, house in found}


def _cells(page):
    return re.findall(r'<a class="booking-link" href="[^"]+">([^<]+)</a>', page)


def _state(url):
    return {table: rows for table, rows in snapshot(url).items() if not table.startswith("staff_")}


def test_the_calendar_shows_each_booking_on_its_nights(console):
    numbers = _confirmed(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = browser.get("/guest-houses/").get_data(as_text=True)
    # The demo bookings start in ten days: two nights of one room, and one night of one room.
    assert _cells(page).count(numbers["block"]) == 2 and _cells(page).count(numbers["gp"]) == 1
    assert "Bagula-I Gram Panchayat Guest House" in page and "Hanskhali Panchayat Samiti Guest House" in page
    with db.session_scope(console.url) as session:
        booking = bookings.find(session, numbers["block"])
        first_night = booking.check_in
    # Moved on past them, the calendar is empty; started on the first night, it shows it again.
    later = browser.get(f"/guest-houses/?start={(first_night + timedelta(days=5)).isoformat()}")
    assert numbers["block"] not in _cells(later.get_data(as_text=True))
    moved = browser.get(f"/guest-houses/?start={first_night.isoformat()}").get_data(as_text=True)
    assert _cells(moved).count(numbers["block"]) == 2
    assert browser.get("/guest-houses/?start=not-a-date").status_code == 200


def test_the_calendar_shows_only_the_guest_houses_in_scope(console):
    numbers = _confirmed(console.url)
    neighbour = console.sign_in("clerk", gp_code=SAME_BLOCK_GP)
    page = neighbour.get("/guest-houses/").get_data(as_text=True)
    # The block's guest house (no GP) is the neighbour's too; the other GP's is not.
    assert "Hanskhali Panchayat Samiti Guest House" in page and "Bagula-I Gram Panchayat" not in page
    assert numbers["block"] in _cells(page) and numbers["gp"] not in page
    far = console.sign_in("clerk", gp_code=OTHER_BLOCK_GP)
    page = far.get("/guest-houses/").get_data(as_text=True)
    assert _cells(page) == [] and "No guest house is in your area." in page


def test_a_booking_shows_its_details_and_a_masked_number(console):
    numbers = _confirmed(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = browser.get(f"/guest-houses/bookings/{numbers['block']}").get_data(as_text=True)
    with db.session_scope(console.url) as session:
        booking = bookings.find(session, numbers["block"])
        wa_id, amount = booking.citizen.wa_id, booking.amount_paise
        check_in, labels = booking.check_in, [room.label for room in booking.rooms]
    assert "Hanskhali Panchayat Samiti Guest House" in page and catalogue.day(check_in, "en") in page
    assert f"₹{catalogue.rupees(amount, 'en')}" in page and all(label in page for label in labels)
    assert "confirmed" in page and 'id="cancel-form"' in page
    assert wa_id not in page and wa_id[-4:] in page
    assert browser.get("/guest-houses/bookings/GH-1999-999999").status_code == 404


def test_cancelling_with_a_reason_frees_the_nights_and_tells_the_guest(console):
    numbers = _confirmed(console.url)
    browser = console.sign_in("secretary", gp_code=DEMO_GP)
    number = numbers["block"]
    done = browser.post(f"/guest-houses/bookings/{number}/cancel", {"reason": "Hall needed for the flood relief camp"})
    assert done.status_code == 302 and done.location.endswith(f"/guest-houses/bookings/{number}")
    page = browser.get(f"/guest-houses/bookings/{number}").get_data(as_text=True)
    assert f"Booking {number} is cancelled; the guest is told." in page
    assert "Hall needed for the flood relief camp" in page and 'id="cancel-form"' not in page
    with db.session_scope(console.url) as session:
        booking = bookings.find(session, number)
        assert booking.status == "cancelled" and booking.cancelled_by == "panchayat"
        assert booking.cancel_reason == "Hall needed for the flood relief camp"
        assert session.execute(select(RoomNight).where(RoomNight.booking_id == booking.id)).first() is None
        told = session.execute(select(Notification).where(Notification.citizen_id == booking.citizen_id,
                                                          Notification.kind == "booking_cancelled_by_panchayat")
                               ).scalars().all()
        assert [n.params["number"] for n in told] == [number]
        assert told[0].params["reason"] == "Hall needed for the flood relief camp"
        audit = session.execute(select(AuditLog).where(AuditLog.entity_ref == number,
                                                       AuditLog.action == "booking_cancelled")).scalar_one()
        assert audit.actor == "Test Secretary 1 (secretary1)" and audit.new_state == "cancelled"
    assert number not in _cells(browser.get("/guest-houses/").get_data(as_text=True))
    # Cancelled already: the core's refusal is shown and nothing more is written.
    again = browser.post(f"/guest-houses/bookings/{number}/cancel", {"reason": "Again"}, follow_redirects=True)
    assert f"Booking {number} is already cancelled." in again.get_data(as_text=True)


def test_cancelling_without_a_reason_is_refused_in_the_readers_language(console):
    number = _confirmed(console.url)["gp"]
    english = console.sign_in("clerk", gp_code=DEMO_GP)
    bengali = console.sign_in("pradhan", gp_code=DEMO_GP, language="bn")
    before = _state(console.url)
    refused = english.post(f"/guest-houses/bookings/{number}/cancel", {"reason": "  "}, follow_redirects=True)
    assert "A reason is required." in refused.get_data(as_text=True)
    refused = bengali.post(f"/guest-houses/bookings/{number}/cancel", {"reason": ""}, follow_redirects=True)
    assert "একটি কারণ লিখতে হবে।" in refused.get_data(as_text=True)
    assert _state(console.url) == before


def test_a_clerk_outside_the_scope_gets_404_on_every_route_and_nothing_changes(console):
    numbers = _confirmed(console.url)
    neighbour = console.sign_in("clerk", gp_code=SAME_BLOCK_GP)
    far = console.sign_in("clerk", gp_code=OTHER_BLOCK_GP)
    before = _state(console.url)
    # The GP's guest house is not the neighbouring GP's; no guest house of block 3029 is the far clerk's.
    for browser, number in ((neighbour, numbers["gp"]), (far, numbers["gp"]), (far, numbers["block"])):
        assert browser.get(f"/guest-houses/bookings/{number}").status_code == 404
        assert browser.post(f"/guest-houses/bookings/{number}/cancel", {"reason": "Mine now"}).status_code == 404
    assert _state(console.url) == before
    assert neighbour.get(f"/guest-houses/bookings/{numbers['block']}").status_code == 200


def test_a_block_officer_sees_the_bookings_but_may_not_cancel(console):
    numbers = _confirmed(console.url)
    officer = console.sign_in("block_officer", block_code=SAMPLE_GPS[0][1])
    page = officer.get("/guest-houses/").get_data(as_text=True)
    assert numbers["gp"] in _cells(page) and numbers["block"] in _cells(page)
    detail = officer.get(f"/guest-houses/bookings/{numbers['gp']}").get_data(as_text=True)
    assert 'id="cancel-form"' not in detail
    before = _state(console.url)
    assert officer.post(f"/guest-houses/bookings/{numbers['gp']}/cancel", {"reason": "No"}).status_code == 403
    assert _state(console.url) == before


def test_the_pages_are_in_bengali_for_a_bengali_account(console):
    numbers = _confirmed(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP, language="bn")
    page = browser.get("/guest-houses/").get_data(as_text=True)
    assert "বগুলা-১ গ্রাম পঞ্চায়েত অতিথিশালা" in page and "ঘর" in page
    assert catalogue.day(date.today(), "bn") in page
    detail = browser.get(f"/guest-houses/bookings/{numbers['gp']}").get_data(as_text=True)
    assert "নিশ্চিত" in detail and "বুকিং বাতিল করুন" in detail and "₹৬০০" in detail
