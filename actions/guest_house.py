"""Guest-house bookings: the citizen's own bookings."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import day, language_of, latest_entity, rupees, say, say_sorry, with_session
from panchayat import bookings, citizens
from panchayat.catalogue import digits, localised, text
from panchayat.identifiers import parse_identifier


def booking_line(booking, language: str) -> str:
    house = booking.guest_house
    return text("booking_status", language, number=booking.number,
                guest_house=localised(house.name_en, house.name_bn, language),
                check_in=day(booking.check_in, language), check_out=day(booking.check_out, language),
                rooms=digits(booking.rooms_count, language), amount=rupees(booking.amount_paise, language),
                status=text(f"status_{booking.status}", language))


class ActionShowBookings(Action):
    def name(self) -> Text:
        return "action_show_bookings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        number = latest_entity(tracker, "booking_number") or parse_identifier(
            tracker.latest_message.get("text") or "", ("GH",))

        def load(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            if number:
                found = bookings.find_own(session, number, citizen)
                return [booking_line(found, language)] if found else None
            return [booking_line(b, language) for b in bookings.list_bookings(session, citizen=citizen)]

        try:
            lines = await with_session(load)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return []
        if lines is None:
            say(dispatcher, "booking_not_found", language, number=number)
        elif not lines:
            say(dispatcher, "no_bookings", language)
        elif number:
            dispatcher.utter_message(text=lines[0])
        else:
            say(dispatcher, "my_bookings", language, lines="\n".join(lines[-10:]))
        return []
