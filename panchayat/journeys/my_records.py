"""The citizen's own records: one application, booking or complaint by its number, or a list of
all of theirs.

One function serves every kind of record; a `RecordKind` says, as data, how to read such a
record's number in a message, how to find and list the citizen's own, and how to describe them.
Someone else's number gets exactly the same answer as an unknown one, so a stranger learns
nothing from guessing.
"""

from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from panchayat import applications, bookings, citizens, grievances
from panchayat.db import transaction
from panchayat.identifiers import parse_application_number, parse_booking_number, parse_grievance_number
from panchayat.journeys import Reply, applying, complaining, reply
from panchayat.journeys.booking_a_room import BookingFacts, booking_line

# Longest list shown: the newest ones.
LISTED = 10


@dataclass(frozen=True)
class RecordKind:
    """How to look up one kind of record. The functions run inside the lookup's transaction and
    get its session; `describe_one(record, language)` and `describe_all(records, language)`
    turn rows into replies while the session is still open."""

    number_in: Callable[[str], Optional[str]]  # typed text -> the canonical number it holds, or None
    find_own: Callable[[Any, str, Any], Optional[Any]]  # (session, number, citizen) -> record or None
    list_own: Callable[[Any, Any], List[Any]]  # (session, citizen) -> records, oldest first
    describe_one: Callable[[Any, str], List[Reply]]
    describe_all: Callable[[List[Any], str], List[Reply]]
    not_found_key: str
    none_key: str


@transaction
def show(
    session, kind: RecordKind, sender: str, typed: str, language: str, number: Optional[str] = None
) -> List[Reply]:
    """The record `number` (as understood, else as written in `typed`) if it is the citizen's own,
    else the list of theirs: all about it when there is only one, the newest lines otherwise."""
    number = number or kind.number_in(typed or "")
    citizen = citizens.get_or_create(session, sender)
    if number:
        record = kind.find_own(session, number, citizen)
        return kind.describe_one(record, language) if record else [reply(kind.not_found_key, number=number)]
    records = kind.list_own(session, citizen)
    if not records:
        return [reply(kind.none_key)]
    if len(records) == 1:  # one record: all about it, with what to do next
        return kind.describe_one(records[0], language)
    return kind.describe_all(records[-LISTED:], language)


APPLICATIONS = RecordKind(
    number_in=parse_application_number,
    find_own=applications.find_own,
    list_own=lambda session, citizen: applications.list_applications(session, citizen=citizen),
    describe_one=applying.status_replies,
    describe_all=applying.list_replies,
    not_found_key="application_not_found",
    none_key="no_applications",
)


def _booking(booking, language: str) -> List[Reply]:
    return [reply("record_described", description=booking_line(BookingFacts.of(booking), language))]


def _bookings(records: list, language: str) -> List[Reply]:
    return [reply("my_bookings", lines="\n".join(booking_line(BookingFacts.of(b), language) for b in records))]


BOOKINGS = RecordKind(
    number_in=parse_booking_number,
    find_own=bookings.find_own,
    list_own=lambda session, citizen: bookings.list_bookings(session, citizen=citizen),
    describe_one=_booking,
    describe_all=_bookings,
    not_found_key="booking_not_found",
    none_key="no_bookings",
)


COMPLAINTS = RecordKind(
    number_in=parse_grievance_number,
    find_own=grievances.find_own,
    list_own=lambda session, citizen: grievances.list_grievances(session, citizen=citizen),
    describe_one=lambda grievance, language: [complaining.status_reply(grievance, language)],
    describe_all=complaining.list_replies,
    not_found_key="grievance_not_found",
    none_key="no_grievances",
)
