"""Guests confirm the last room for the same night at the same moment: exactly one wins.
Twenty (the guest-house issue) and fifty (the production fault list).

Run against PostgreSQL for real (the production database), and SQLite for the laptop."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from panchayat import bookings, db
from panchayat.citizens import get_or_create
from panchayat.errors import PanchayatError
from panchayat.models import Booking, GuestHouse, RoomNight


@pytest.mark.parametrize("racers", [20, 50])
def test_concurrent_confirmations_for_the_last_room_make_one_booking(database, racers):
    night = date.today() + timedelta(days=60)
    with db.session_scope(database) as session:
        house = session.execute(select(GuestHouse).order_by(GuestHouse.id)).scalars().all()[1]
        assert len(house.rooms) == 2
        first = get_or_create(session, "racer-first")
        first.gp_code = 990001
        bookings.book(session, first, house, night, night + timedelta(days=1), 1)
        for index in range(racers):
            get_or_create(session, f"racer-{index}").gp_code = 990001
        house_id = house.id
    barrier = threading.Barrier(racers)
    outcomes = []

    def confirm(index: int) -> None:
        barrier.wait()
        try:
            with db.session_scope(database) as session:
                citizen = get_or_create(session, f"racer-{index}")
                bookings.book(session, citizen, session.get(GuestHouse, house_id), night,
                              night + timedelta(days=1), 1)
            outcomes.append("booked")
        except PanchayatError as error:
            outcomes.append(error.key)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(outcomes) == ["booked"] + ["booking_unavailable"] * (racers - 1)
    with db.session_scope(database) as session:
        nights = session.execute(select(RoomNight).where(RoomNight.night == night)).scalars().all()
        assert len(nights) == 2 and len({n.room_id for n in nights}) == 2
        winners = session.execute(select(Booking).where(Booking.check_in == night)).scalars().all()
        assert len(winners) == 2  # the first guest's and the one racer's
