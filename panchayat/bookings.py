"""Guest-house bookings. A room-night belongs to at most one booking (enforced by the database)."""

from datetime import date, datetime, timedelta
from typing import Collection, Dict, List, Optional, Tuple

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panchayat import config, journal, outbox
from panchayat.errors import PanchayatError
from panchayat.identifiers import BOOKING_PREFIX, next_identifier, parse_booking_number
from panchayat.models import Booking, BookingRoom, Citizen, GuestHouse, Room, RoomNight


def nights(check_in: date, check_out: date) -> List[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]


def free_rooms(session: Session, guest_house: GuestHouse, check_in: date, check_out: date) -> List[Room]:
    taken = select(RoomNight.room_id).where(RoomNight.night >= check_in, RoomNight.night < check_out)
    return list(
        session.execute(
            select(Room).where(Room.guest_house_id == guest_house.id, Room.id.not_in(taken)).order_by(Room.label)
        ).scalars()
    )


def check_dates(check_in: date, check_out: date, today: Optional[date] = None) -> None:
    today = today or date.today()
    if check_in < today:
        raise PanchayatError("booking_past_date")
    if check_out <= check_in:
        raise PanchayatError("booking_bad_dates")
    if (check_out - check_in).days > config.BOOKING_MAX_NIGHTS:
        raise PanchayatError("booking_too_long", max_nights=config.BOOKING_MAX_NIGHTS)


def quote(
    session: Session,
    guest_house: GuestHouse,
    check_in: date,
    check_out: date,
    rooms_count: int,
    today: Optional[date] = None,
) -> dict:
    """The rooms a request would get and its price; raises when the request cannot be met."""
    check_dates(check_in, check_out, today)
    if rooms_count < 1:
        raise PanchayatError("booking_zero_rooms")
    free = free_rooms(session, guest_house, check_in, check_out)
    if len(free) < rooms_count:
        raise PanchayatError("booking_unavailable", available=len(free))
    rooms = free[:rooms_count]
    return {
        "rooms": rooms,
        "nights": (check_out - check_in).days,
        "amount_paise": sum(room.tariff_paise for room in rooms) * (check_out - check_in).days,
    }


def guest_houses_for(session: Session, citizen: Citizen) -> List[GuestHouse]:
    """The guest houses of the citizen's GP first, then the others of its block."""
    if citizen.gram_panchayat is None:
        return []
    block = citizen.gram_panchayat.block_code
    houses = session.execute(select(GuestHouse).where(GuestHouse.block_code == block)).scalars().all()
    return sorted(houses, key=lambda h: (h.gp_code != citizen.gp_code, h.name_en))


def book(
    session: Session,
    citizen: Citizen,
    guest_house: GuestHouse,
    check_in: date,
    check_out: date,
    rooms_count: int,
    today: Optional[date] = None,
) -> Booking:
    """Books `rooms_count` rooms for every night from check-in to the day before check-out.

    Raises PanchayatError when the request is invalid or the rooms are gone,
    including when another confirmation took them a moment earlier.
    """
    today = today or date.today()
    rooms = quote(session, guest_house, check_in, check_out, rooms_count, today)["rooms"]
    stay = nights(check_in, check_out)
    try:
        with session.begin_nested():
            booking = Booking(
                number=next_identifier(session, BOOKING_PREFIX, today.year),
                citizen_id=citizen.id,
                guest_house_id=guest_house.id,
                check_in=check_in,
                check_out=check_out,
                rooms_count=rooms_count,
                amount_paise=sum(room.tariff_paise for room in rooms) * len(stay),
                status="confirmed",
            )
            session.add(booking)
            session.flush()
            for room in rooms:
                session.add(BookingRoom(booking_id=booking.id, room_id=room.id))
                for night in stay:
                    session.add(RoomNight(room_id=room.id, night=night, booking_id=booking.id))
            session.flush()
    except IntegrityError as taken:
        raise PanchayatError("booking_unavailable", available=0) from taken
    return booking


def find(session: Session, typed_number: str) -> Booking:
    number = parse_booking_number(typed_number)
    if number is None:
        raise PanchayatError("bad_booking_number", number=typed_number)
    booking = session.execute(select(Booking).where(Booking.number == number)).scalar_one_or_none()
    if booking is None:
        raise PanchayatError("unknown_booking", number=number)
    return booking


def list_bookings(
    session: Session,
    on_date: Optional[date] = None,
    guest_house_id: Optional[int] = None,
    citizen: Optional[Citizen] = None,
) -> List[Booking]:
    query = select(Booking).order_by(Booking.check_in, Booking.id)
    if on_date:
        query = query.where(Booking.check_in <= on_date, Booking.check_out > on_date)
    if guest_house_id:
        query = query.where(Booking.guest_house_id == guest_house_id)
    if citizen is not None:
        query = query.where(Booking.citizen_id == citizen.id)
    return list(session.execute(query).scalars())


def guest_houses_in(session: Session, gp_codes: Collection[int], block_codes: Collection[int]) -> List[GuestHouse]:
    """The guest houses of these GPs, and the block-level ones (no GP) of these blocks."""
    if not gp_codes and not block_codes:
        return []
    query = select(GuestHouse).where(
        or_(
            GuestHouse.gp_code.in_(sorted(gp_codes)),
            and_(GuestHouse.gp_code.is_(None), GuestHouse.block_code.in_(sorted(block_codes))),
        )
    )
    return list(session.execute(query.order_by(GuestHouse.name_en, GuestHouse.id)).scalars())


def guest_house_in(guest_house: GuestHouse, gp_codes: Collection[int], block_codes: Collection[int]) -> bool:
    """The rule of `guest_houses_in` for one guest house."""
    if guest_house.gp_code is not None:
        return guest_house.gp_code in gp_codes
    return guest_house.block_code in block_codes


def occupancy(session: Session, guest_house: GuestHouse, start: date, end: date) -> Dict[Tuple[int, date], Booking]:
    """Which booking holds each (room id, night) of the guest house from `start` up to the day before `end`."""
    rows = session.execute(
        select(RoomNight.room_id, RoomNight.night, Booking)
        .join(Booking, Booking.id == RoomNight.booking_id)
        .join(Room, Room.id == RoomNight.room_id)
        .where(Room.guest_house_id == guest_house.id, RoomNight.night >= start, RoomNight.night < end)
    )
    return {(room_id, night): booking for room_id, night, booking in rows}


def bookings_between(session: Session, guest_house: GuestHouse, start: date, end: date) -> List[Booking]:
    """The guest house's bookings (confirmed or cancelled) with a night from `start` up to the day before `end`."""
    query = (
        select(Booking)
        .where(Booking.guest_house_id == guest_house.id, Booking.check_in < end, Booking.check_out > start)
        .order_by(Booking.check_in, Booking.id)
    )
    return list(session.execute(query).scalars())


def cancel(
    session: Session, booking: Booking, by: str, actor: str, reason: Optional[str] = None, today: Optional[date] = None
) -> None:
    """Cancels a confirmed booking, frees its room-nights and tells the guest."""
    today = today or date.today()
    reason = (reason or "").strip() or None
    if by == "panchayat" and not reason:
        raise PanchayatError("reason_required")
    if booking.status != "confirmed":
        raise PanchayatError("booking_already_cancelled", number=booking.number)
    if booking.check_out <= today:
        raise PanchayatError("booking_stay_over", number=booking.number)
    booking.status = "cancelled"
    booking.cancelled_at = datetime.utcnow()
    booking.cancelled_by = by
    booking.cancel_reason = reason
    session.execute(delete(RoomNight).where(RoomNight.booking_id == booking.id))
    journal.audit(
        session,
        actor=actor,
        action="booking_cancelled",
        entity_type="booking",
        entity_ref=booking.number,
        old_state="confirmed",
        new_state="cancelled",
        reason=reason,
        cancelled_by=by,
    )
    kind = "booking_cancelled_by_panchayat" if by == "panchayat" else "booking_cancelled_by_guest"
    outbox.notify(
        session,
        booking.citizen,
        kind,
        number=booking.number,
        guest_house_en=booking.guest_house.name_en,
        guest_house_bn=booking.guest_house.name_bn or booking.guest_house.name_en,
        check_in=booking.check_in.isoformat(),
        check_out=booking.check_out.isoformat(),
        reason=reason or "",
    )


def find_own(session: Session, number: str, citizen: Citizen) -> Optional[Booking]:
    """The citizen's own booking; None for unknown and for someone else's alike."""
    booking = session.execute(select(Booking).where(Booking.number == number)).scalar_one_or_none()
    if booking is None or booking.citizen_id != citizen.id:
        return None
    return booking
