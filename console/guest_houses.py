"""Guest houses: a calendar of room-nights for each guest house the account sees, one booking,
and cancelling it on the panchayat's side with a reason (the guest is told, as from the CLI).

A guest house is in scope when its GP is one of the account's, or when it belongs to a block
(no GP) that is one of the account's blocks."""

from datetime import date, timedelta
from typing import Any, Optional

from flask import Blueprint, abort, render_template, request, url_for

from console import web
from panchayat import bookings
from panchayat.errors import PanchayatError
from panchayat.models import Booking

bp = Blueprint("guest_houses", __name__, url_prefix="/guest-houses")

CALENDAR_DAYS = 14


def _start() -> date:
    typed = request.args.get("start") or ""
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return date.today()


def _booking(number: str) -> Booking:
    """The booking of the URL, or 404 when it is unknown or its guest house is outside the scope alike."""
    try:
        booking = bookings.find(web.db_session(), number)
    except PanchayatError:
        abort(404)
    if not bookings.guest_house_in(booking.guest_house, web.scope(), web.block_scope()):
        abort(404)
    return booking


@bp.get("/")
@web.require("see_cases")
def calendar() -> Any:
    start = _start()
    end = start + timedelta(days=CALENDAR_DAYS)
    nights = bookings.nights(start, end)
    session = web.db_session()
    houses = [
        {
            "house": house,
            "taken": bookings.occupancy(session, house, start, end),
            "bookings": bookings.bookings_between(session, house, start, end),
        }
        for house in bookings.guest_houses_in(session, web.scope(), web.block_scope())
    ]
    return render_template(
        "guest_houses_calendar.html",
        houses=houses,
        nights=nights,
        start=start,
        end=end - timedelta(days=1),
        today=date.today(),
        earlier=(start - timedelta(days=CALENDAR_DAYS)).isoformat(),
        later=end.isoformat(),
    )


def _cancellable(booking: Booking, today: Optional[date] = None) -> bool:
    return booking.status == "confirmed" and booking.check_out > (today or date.today())


@bp.get("/bookings/<number>")
@web.require("see_cases")
def booking(number: str) -> Any:
    found = _booking(number)
    return render_template(
        "guest_houses_booking.html",
        booking=found,
        nights=len(bookings.nights(found.check_in, found.check_out)),
        phone=web.masked_phone(found.citizen.wa_id if found.citizen else None),
        cancellable=_cancellable(found),
    )


@bp.post("/bookings/<number>/cancel")
@web.require("cancel_bookings")
def cancel(number: str) -> Any:
    found = _booking(number)
    with web.action(url_for("guest_houses.booking", number=found.number)) as done:
        bookings.cancel(web.db_session(), found, by="panchayat", actor=web.actor(), reason=web.form_text("reason"))
        done("console_gh_cancelled", number=found.number)
    return done.response
