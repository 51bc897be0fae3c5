"""Guest-house bookings: the citizen's own bookings."""
from typing import List, Text

from rasa_sdk import Action

from actions.common import CitizenRecordsAction, day, rupees
from panchayat import bookings
from panchayat.catalogue import digits, localised, text


def booking_line(booking, language: str) -> str:
    house = booking.guest_house
    return text("booking_status", language, number=booking.number,
                guest_house=localised(house.name_en, house.name_bn, language),
                check_in=day(booking.check_in, language), check_out=day(booking.check_out, language),
                rooms=digits(booking.rooms_count, language), amount=rupees(booking.amount_paise, language),
                status=text(f"status_{booking.status}", language))


class ActionShowBookings(CitizenRecordsAction, Action):
    entity, prefixes = "booking_number", ("GH",)
    not_found_key, none_key = "booking_not_found", "no_bookings"

    def name(self) -> Text:
        return "action_show_bookings"

    def find_own(self, session, number, citizen):
        return bookings.find_own(session, number, citizen)

    def list_own(self, session, citizen) -> list:
        return bookings.list_bookings(session, citizen=citizen)

    def describe_one(self, booking, language: str) -> List[str]:
        return [booking_line(booking, language)]

    def describe_all(self, records: list, language: str) -> List[str]:
        return [text("my_bookings", language, lines="\n".join(booking_line(b, language) for b in records))]
