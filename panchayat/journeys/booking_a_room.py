"""Booking a guest-house room, and cancelling one's own booking.

A booking is asked for step by step (house, dates, nights, rooms, then a summary to confirm),
but one message may answer several steps at once: "24/12 for 2 nights, 2 rooms". What has been
said so far lives in a draft dict that the dialogue keeps between messages:

    choices   the guest houses offered, by id, in the order of the menu
    names     {house id as text: {"en": ..., "bn": ...}}
    menu      {"bn": ..., "en": ...}: the numbered list of houses, as asked
    house, check_in, check_out (ISO dates), rooms
    nights_wanted  nights said before any date ("3 raat"), kept until a date comes
    free      rooms free on the dates (when the rooms are still to be asked)
    nights, amount_paise   the quote, once house, dates and rooms are all known
    read      the id of the message that opened the form, once its words have been read

The reading of answers is pure; checking them against the rooms and booking them are one
transaction each.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Tuple

from panchayat import bookings, citizens
from panchayat.answers import count_of, match_option, number_in, words
from panchayat.catalogue import day, digits, localised, rupees, text
from panchayat.dates import nights_in, parse_stay
from panchayat.db import transaction
from panchayat.errors import PanchayatError
from panchayat.journeys import Button, Reply, reply
from panchayat.models import GuestHouse

# The summary's and the cancellation question's buttons: catalogue keys of their titles, and
# what pressing (or typing) one means.
SUMMARY_BUTTONS = {"booking_button_yes": "/affirm", "booking_button_no": "/deny"}
CANCELLATION_BUTTONS = {"cancellation_button_yes": "/affirm", "cancellation_button_no": "/deny"}
ROOM_WORDS = ("room", "rooms", "rum", "ghor", "ghar", "ghr", "kamra", "ঘর", "রুম", "কামরা", "কক্ষ")

# What a step needs when a message answered none of it.
NOT_UNDERSTOOD = {
    "house": "error_field_invalid_choice",
    "dates": "booking_bad_dates_text",
    "nights": "booking_bad_number",
    "rooms": "booking_bad_number",
}


@dataclass(frozen=True)
class Turn:
    """What one message did to a booking: the draft to keep, the replies, and the booking's
    number once it is booked. `draft` is None when there is nothing more to ask."""

    draft: Optional[Dict[str, Any]]
    replies: List[Reply] = field(default_factory=list)
    number: Optional[str] = None


@dataclass(frozen=True)
class BookingFacts:
    """A booking as plain facts, to describe it after the session that read it has closed."""

    number: str
    guest_house_en: str
    guest_house_bn: Optional[str]
    check_in: date
    check_out: date
    rooms: int
    amount_paise: int
    status: str

    @classmethod
    def of(cls, booking) -> "BookingFacts":
        """The facts of a `models.Booking` row, read while its session is open."""
        house = booking.guest_house
        return cls(
            booking.number,
            house.name_en,
            house.name_bn,
            booking.check_in,
            booking.check_out,
            booking.rooms_count,
            booking.amount_paise,
            booking.status,
        )


def booking_line(booking: BookingFacts, language: str) -> str:
    """A booking in one line: number, house, dates, rooms, fee and status."""
    return text(
        "booking_status",
        language,
        number=booking.number,
        guest_house=localised(booking.guest_house_en, booking.guest_house_bn, language),
        check_in=day(booking.check_in, language),
        check_out=day(booking.check_out, language),
        rooms=digits(booking.rooms, language),
        amount=rupees(booking.amount_paise, language),
        status=text(f"status_{booking.status}", language),
    )


# --- Reading the answers (no database) -------------------------------------------------------


def next_step(draft: Dict) -> str:
    if not draft.get("house"):
        return "house"
    if not draft.get("check_in"):
        return "dates"
    if not draft.get("check_out"):
        return "nights"
    if not draft.get("rooms"):
        return "rooms"
    return "confirm"


def with_stay(draft: Dict, typed: str) -> Optional[Dict]:
    stay = parse_stay(typed)
    if stay is None:
        return None
    check_out = stay.check_out or (stay.check_in + timedelta(days=stay.nights) if stay.nights else None)
    return dict(draft, check_in=stay.check_in.isoformat(), check_out=check_out.isoformat() if check_out else None)


def house_options(draft: Dict) -> List[Dict]:
    return [
        {"value": house, "labels": [draft["names"][str(house)]["en"], draft["names"][str(house)]["bn"]]}
        for house in draft.get("choices") or []
    ]


def read_answers(draft: Dict, typed: str, step: str) -> Dict:
    """Every answer the message carries, not only the one asked: "24/12 for 2 nights, 2 rooms"
    fills the dates, the nights and the rooms at once. Unchanged when it carries none."""
    draft = dict(draft)
    if step == "house":
        house = match_option(typed, house_options(draft))
        if house is not None:
            draft["house"] = house
            if number_in(typed) is not None and len(words(typed)) <= 2:
                return draft  # "2", "দুই নম্বর": the house's number, nothing more
        # The dates and rooms may come before the house is chosen ("২৮ তারিখ", "৩ রাত").
    stayed = with_stay(draft, typed)
    # The nights after a date: "3 raat", or a bare number when the nights were asked.
    nights = nights_in(typed) or (number_in(typed) if step == "nights" else None)
    if stayed is None and not draft.get("check_in") and nights_in(typed):
        draft["nights_wanted"] = nights_in(typed)  # "3 raat" before any date: kept for the date
    if stayed is not None:
        draft = stayed
        if not draft.get("check_out") and draft.get("nights_wanted"):
            draft["check_out"] = (
                date.fromisoformat(draft["check_in"]) + timedelta(days=draft["nights_wanted"])
            ).isoformat()
        # New dates: the rooms free on them are counted again.
        draft.pop("free", None)
    elif draft.get("check_in") and nights:
        draft["check_out"] = (date.fromisoformat(draft["check_in"]) + timedelta(days=nights)).isoformat()
    rooms = count_of(typed, ROOM_WORDS)
    if rooms is None and step == "rooms" and stayed is None:
        rooms = number_in(typed)
    if rooms is not None:
        draft["rooms"] = rooms
    return draft


def question(draft: Dict, language: str) -> Reply:
    """The question for the draft's next step; at the end, the summary with its yes/no buttons."""
    step = next_step(draft)
    if step == "house":
        return reply(
            "booking_ask_house",
            houses=draft["menu"][language],
            buttons=tuple(Button(str(i), str(i)) for i in range(1, len(draft["choices"]) + 1)),
        )
    if step == "dates":
        return reply("booking_ask_dates")
    if step == "nights":
        return reply("booking_ask_nights")
    if step == "rooms":
        if "free" in draft:
            return reply("booking_ask_rooms", free=digits(draft["free"], language))
        return reply("booking_ask_rooms_plain")
    check_in, check_out = date.fromisoformat(draft["check_in"]), date.fromisoformat(draft["check_out"])
    return reply(
        "booking_summary",
        guest_house=draft["names"][str(draft["house"])][language],
        check_in=day(check_in, language),
        check_out=day(check_out, language),
        nights=digits(draft["nights"], language),
        rooms=digits(draft["rooms"], language),
        amount=rupees(draft["amount_paise"], language),
        buttons=tuple(Button(text(key, language), payload) for key, payload in SUMMARY_BUTTONS.items()),
    )


def refused(error: PanchayatError) -> Reply:
    """A PanchayatError told as a reply, with its own parameters."""
    return Reply(f"error_{error.key}", dict(error.params))


# --- Against the database --------------------------------------------------------------------


@transaction
def start(session, sender: str, draft: Dict) -> Optional[Dict]:
    """The draft with the guest houses to offer the citizen (of their GP first, then of its
    block), with the menu in both languages; the house is chosen already when there is one.
    None when there is none to offer."""
    citizen = citizens.get_or_create(session, sender)
    houses = [
        (
            h.id,
            {"en": h.name_en, "bn": h.name_bn or h.name_en},
            len(h.rooms),
            min((r.tariff_paise for r in h.rooms), default=0),
        )
        for h in bookings.guest_houses_for(session, citizen)
    ]
    if not houses:
        return None
    menu = {
        lang: "\n".join(
            text(
                "booking_house_line",
                lang,
                number=digits(i, lang),
                name=localised(names["en"], names["bn"], lang),
                rooms=digits(count, lang),
                tariff=rupees(tariff, lang),
            )
            for i, (_id, names, count, tariff) in enumerate(houses, start=1)
        )
        for lang in ("bn", "en")
    }
    draft = dict(draft, choices=[h[0] for h in houses], names={str(h[0]): h[1] for h in houses}, menu=menu)
    if len(houses) == 1:
        draft["house"] = houses[0][0]
    return draft


@transaction
def _room_facts(session, draft: Dict) -> Dict:
    """The rooms free on the draft's dates, or the quote once the rooms are known."""
    house = session.get(GuestHouse, draft["house"])
    check_in, check_out = date.fromisoformat(draft["check_in"]), date.fromisoformat(draft["check_out"])
    if not draft.get("rooms"):
        bookings.check_dates(check_in, check_out)
        return {"free": len(bookings.free_rooms(session, house, check_in, check_out))}
    quoted = bookings.quote(session, house, check_in, check_out, draft["rooms"])
    return {"amount_paise": quoted["amount_paise"], "nights": quoted["nights"]}


def check(draft: Dict) -> Tuple[Dict, List[Reply]]:
    """Dates and rooms are checked as soon as they are given: the refusal is told and the refused
    part cleared, so that it is asked again (the rooms alone when only they do not fit)."""
    if draft.get("check_in") and date.fromisoformat(draft["check_in"]) < date.today():
        return dict(draft, check_in=None, check_out=None, rooms=None), [reply("error_booking_past_date")]
    if not draft.get("check_out") or not draft.get("house"):
        return draft, []
    try:
        facts = _room_facts(draft)
    except PanchayatError as error:
        if error.key in ("booking_unavailable", "booking_zero_rooms") and draft.get("rooms"):
            return dict(draft, rooms=None), [refused(error)]
        return dict(draft, check_in=None, check_out=None, rooms=None), [refused(error)]
    return dict(draft, **facts), []


def answer(draft: Dict, typed: str) -> Turn:
    """An answer to the draft's question (other than yes/no to the summary): what it says is
    kept and checked. A message that answers nothing gets what the question needs, and the
    draft stays as it was."""
    step = next_step(draft)
    updated = read_answers(draft, typed, step)
    if updated == draft:
        return Turn(draft, [reply(NOT_UNDERSTOOD.get(step, "booking_confirm_expected"))])
    told: List[Reply] = []
    if updated.get("rooms") == 0:
        told.append(refused(PanchayatError("booking_zero_rooms")))
        updated["rooms"] = None
    checked, replies = check(updated)
    return Turn(checked, told + replies)


def ask(sender: str, draft: Dict, language: str, opening: Optional[Dict] = None) -> Turn:
    """The next question of a booking. A new booking first gets its guest houses (None as the
    draft when there are none: nothing to book); the message that opened the form
    (`opening`: {"message_id", "text"}) is read once, as it may already say dates and rooms."""
    replies: List[Reply] = []
    if not draft.get("choices"):
        started = start(sender, draft)
        if started is None:
            return Turn(None, [reply("booking_no_houses")])
        draft = started
    if opening and draft.get("read") != opening.get("message_id"):
        draft = read_answers(dict(draft, read=opening.get("message_id")), opening.get("text") or "", next_step(draft))
        draft, replies = check(draft)
    return Turn(draft, replies + [question(draft, language)])


@transaction
def _book(session, sender: str, draft: Dict) -> str:
    citizen = citizens.get_or_create(session, sender)
    booking = bookings.book(
        session,
        citizen,
        session.get(GuestHouse, draft["house"]),
        date.fromisoformat(draft["check_in"]),
        date.fromisoformat(draft["check_out"]),
        draft["rooms"],
    )
    return booking.number


def confirm(sender: str, draft: Dict) -> Turn:
    """Books what the summary said: the booking's number, and no draft left. When the rooms
    were taken a moment ago by someone else (or the request no longer holds), the reason is
    told and the rooms are asked again."""
    try:
        number = _book(sender, draft)
    except PanchayatError as error:
        return Turn(dict(draft, rooms=None), [refused(error)])
    return Turn(None, [reply("booking_done", number=number)], number)


# --- Cancelling ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationOffer:
    """What to ask about cancelling: the replies, the booking now in question (None when the
    citizen is to pick one, or when there is none), and whether there is nothing to cancel."""

    replies: List[Reply]
    target: Optional[str] = None
    nothing_to_cancel: bool = False


def _upcoming(session, citizen) -> list:
    return [
        b
        for b in bookings.list_bookings(session, citizen=citizen)
        if b.status == "confirmed" and b.check_out > date.today()
    ]


@transaction
def cancellable(session, sender: str, target: Optional[str], language: str) -> CancellationOffer:
    """The booking `target` (or, without one, the citizen's upcoming bookings) offered for
    cancelling. Someone else's number gets the same answer as an unknown one."""
    citizen = citizens.get_or_create(session, sender)
    if target:
        found = bookings.find_own(session, target, citizen)
        if found is None:
            return CancellationOffer([reply("booking_not_found", number=target)], nothing_to_cancel=True)
        if found.status != "confirmed" or found.check_out <= date.today():
            return CancellationOffer(
                [refused(PanchayatError("booking_already_cancelled", number=target))], nothing_to_cancel=True
            )
        upcoming = [found]
    else:
        upcoming = _upcoming(session, citizen)
    if not upcoming:
        return CancellationOffer([reply("cancellation_none")], nothing_to_cancel=True)
    lines = [(b.number, booking_line(BookingFacts.of(b), language)) for b in upcoming]
    if len(lines) > 1:
        return CancellationOffer(
            [
                reply(
                    "cancellation_pick",
                    lines="\n".join(line for _n, line in lines),
                    buttons=tuple(Button(number, number) for number, _line in lines[:10]),
                )
            ]
        )
    number, line = lines[0]
    return CancellationOffer(
        [
            reply(
                "cancellation_confirm",
                booking=line,
                buttons=tuple(Button(text(key, language), payload) for key, payload in CANCELLATION_BUTTONS.items()),
            )
        ],
        target=number,
    )


@transaction
def cancel(session, sender: str, number: str) -> Reply:
    """Cancels the citizen's own booking `number`, frees its rooms and tells the guest by the
    notifier. Someone else's number is refused like an unknown one, and nothing changes."""
    citizen = citizens.get_or_create(session, sender)
    booking = bookings.find_own(session, number, citizen)
    if booking is None:
        raise PanchayatError("unknown_booking", number=number)
    bookings.cancel(session, booking, by="guest", actor="citizen")
    return reply("cancellation_done", number=number)
