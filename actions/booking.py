"""Booking a guest-house room: which house, dates as people say them, rooms, fee, confirmation."""
import re
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.citizen import AsksGramPanchayat
from actions.common import day, language_of, rupees, say, say_sorry, with_session
from panchayat import bookings, citizens
from panchayat.bengali import normalize
from panchayat.catalogue import digits, localised, text
from panchayat.dates import parse_stay
from panchayat.errors import PanchayatError
from panchayat.language import is_yes
from panchayat.models import GuestHouse



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


def a_number(typed: str) -> Optional[int]:
    match = re.search(r"\d+", normalize(typed))
    return int(match.group(0)) if match else None


class ValidateBookingForm(AsksGramPanchayat, FormValidationAction):
    def name(self) -> Text:
        return "validate_booking_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: Dict[Text, Any]) -> List[Text]:
        return (["gp_name"] if not tracker.get_slot("gp_known") else []) + ["booking_answer"]

    async def validate_booking_answer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: Dict[Text, Any]) -> Dict[Text, Any]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("booking_draft") or {})
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        step = next_step(draft)
        if step == "house":
            houses = draft.get("choices") or []
            choice = a_number(typed)
            if choice and 1 <= choice <= len(houses):
                draft["house"] = houses[choice - 1]
            else:
                say(dispatcher, "error_field_invalid_choice", language)
        elif step == "dates":
            updated = with_stay(draft, typed)
            if updated is None:
                say(dispatcher, "booking_bad_dates_text", language)
            else:
                draft = updated
        elif step == "nights":
            nights = a_number(typed)
            if nights:
                draft["check_out"] = (date.fromisoformat(draft["check_in"]) + timedelta(days=nights)).isoformat()
            else:
                say(dispatcher, "booking_bad_number", language)
        elif step == "rooms":
            rooms = a_number(typed)
            if rooms is None:
                say(dispatcher, "booking_bad_number", language)
            elif rooms == 0:
                dispatcher.utter_message(text=PanchayatError("booking_zero_rooms").message(language))
            else:
                draft["rooms"] = rooms
        elif intent == "deny" or typed == "/deny":
            say(dispatcher, "booking_dropped", language)
            return {"booking_answer": "dropped", "booking_draft": None}
        elif intent == "affirm" or is_yes(typed):
            return await self.confirm(dispatcher, tracker, draft, language)
        draft = await self.check(dispatcher, draft, language)
        return {"booking_answer": None, "booking_draft": draft}

    async def check(self, dispatcher: CollectingDispatcher, draft: Dict, language: str) -> Dict:
        """Dates and rooms are checked as soon as they are given; a refused part is asked again."""
        if draft.get("check_in") and date.fromisoformat(draft["check_in"]) < date.today():
            say(dispatcher, "error_booking_past_date", language)
            return dict(draft, check_in=None, check_out=None, rooms=None)
        if not draft.get("check_out"):
            return draft

        def quote(session):
            house = session.get(GuestHouse, draft["house"])
            check_in, check_out = date.fromisoformat(draft["check_in"]), date.fromisoformat(draft["check_out"])
            if not draft.get("rooms"):
                bookings.check_dates(check_in, check_out)
                return {"free": len(bookings.free_rooms(session, house, check_in, check_out))}
            quoted = bookings.quote(session, house, check_in, check_out, draft["rooms"])
            return {"amount_paise": quoted["amount_paise"], "nights": quoted["nights"]}

        try:
            facts = await with_session(quote)
        except PanchayatError as error:
            dispatcher.utter_message(text=error.message(language))
            if error.key in ("booking_unavailable", "booking_zero_rooms") and draft.get("rooms"):
                return dict(draft, rooms=None)
            return dict(draft, check_in=None, check_out=None, rooms=None)
        return dict(draft, **facts)

    async def confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker, draft: Dict,
                      language: str) -> Dict[Text, Any]:
        def book(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            booking = bookings.book(session, citizen, session.get(GuestHouse, draft["house"]),
                                    date.fromisoformat(draft["check_in"]), date.fromisoformat(draft["check_out"]),
                                    draft["rooms"])
            return booking.number

        try:
            number = await with_session(book)
        except PanchayatError as error:
            # Taken a moment ago by someone else, say: tell why and ask for the rooms again.
            dispatcher.utter_message(text=error.message(language))
            return {"booking_answer": None, "booking_draft": dict(draft, rooms=None)}
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return {"booking_answer": None, "booking_draft": draft}
        say(dispatcher, "booking_done", language, number=number)
        return {"booking_answer": number, "booking_draft": None}


class ActionAskBookingAnswer(Action):
    def name(self) -> Text:
        return "action_ask_booking_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("booking_draft") or {})
        events: List[Dict[Text, Any]] = []
        if not draft.get("choices"):
            draft, found = await self.start(tracker, draft, language)
            if not found:
                # Nothing to book here: end the form (the "booking is done" rule takes over).
                say(dispatcher, "booking_no_houses", language)
                return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("booking_draft", None)]
            events.append(SlotSet("booking_draft", draft))
        step = next_step(draft)
        if step == "house":
            say(dispatcher, "booking_ask_house", language, houses=draft["menu"][language], buttons=[
                {"title": str(i), "payload": str(i)} for i in range(1, len(draft["choices"]) + 1)])
        elif step == "dates":
            say(dispatcher, "booking_ask_dates", language)
        elif step == "nights":
            say(dispatcher, "booking_ask_nights", language)
        elif step == "rooms":
            if "free" in draft:
                say(dispatcher, "booking_ask_rooms", language, free=digits(draft["free"], language))
            else:
                say(dispatcher, "booking_ask_rooms_plain", language)
        else:
            check_in, check_out = date.fromisoformat(draft["check_in"]), date.fromisoformat(draft["check_out"])
            name = draft["names"][str(draft["house"])][language]
            say(dispatcher, "booking_summary", language, guest_house=name, check_in=day(check_in, language),
                check_out=day(check_out, language), nights=digits(draft["nights"], language),
                rooms=digits(draft["rooms"], language), amount=rupees(draft["amount_paise"], language), buttons=[
                    {"title": text("booking_button_yes", language), "payload": "/affirm"},
                    {"title": text("booking_button_no", language), "payload": "/deny"}])
        return events

    async def start(self, tracker: Tracker, draft: Dict, language: str):
        """The guest houses to offer, and any dates already said when asking to book."""
        def load(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            return [(h.id, {"en": h.name_en, "bn": h.name_bn or h.name_en}, len(h.rooms),
                     min((r.tariff_paise for r in h.rooms), default=0))
                    for h in bookings.guest_houses_for(session, citizen)]

        houses = await with_session(load)
        if not houses:
            return draft, False
        menu = {lang: "\n".join(text("booking_house_line", lang, number=digits(i, lang),
                                      name=localised(n["en"], n["bn"], lang), rooms=digits(count, lang),
                                      tariff=rupees(tariff, lang))
                                 for i, (_id, n, count, tariff) in enumerate(houses, start=1))
                for lang in ("bn", "en")}
        draft = dict(draft, choices=[h[0] for h in houses], names={str(h[0]): h[1] for h in houses}, menu=menu)
        if len(houses) == 1:
            draft["house"] = houses[0][0]
        for event in reversed(tracker.events):
            if event.get("event") == "user" and event.get("parse_data", {}).get("intent", {}).get(
                    "name") == "book_guest_house":
                draft = with_stay(draft, event.get("text") or "") or draft
                break
        return draft, True


class ActionFinishBooking(Action):
    def name(self) -> Text:
        return "action_finish_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return [SlotSet("booking_answer", None), SlotSet("booking_draft", None)]


def _upcoming_own(session, citizen) -> list:
    return [b for b in bookings.list_bookings(session, citizen=citizen)
            if b.status == "confirmed" and b.check_out > date.today()]


class ActionAskCancellationAnswer(Action):
    """Names the booking to cancel and asks to confirm; ends the form when there is nothing to cancel."""

    def name(self) -> Text:
        return "action_ask_cancellation_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        from actions.guest_house import booking_line
        from panchayat.identifiers import parse_identifier

        language = language_of(tracker)
        target = tracker.get_slot("cancellation_target")
        if target is None:
            for event in reversed(tracker.events):
                if event.get("event") == "user" and event.get("parse_data", {}).get("intent", {}).get(
                        "name") == "cancel_booking":
                    target = parse_identifier(event.get("text") or "", ("GH",))
                    break

        def load(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            if target:
                found = bookings.find_own(session, target, citizen)
                if found is None:
                    return "unknown", []
                if found.status != "confirmed" or found.check_out <= date.today():
                    return "closed", []
                return "one", [(found.number, booking_line(found, language))]
            return "many", [(b.number, booking_line(b, language)) for b in _upcoming_own(session, citizen)]

        try:
            kind, found = await with_session(load)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        end = [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("cancellation_target", None)]
        if kind == "unknown":
            say(dispatcher, "booking_not_found", language, number=target)
            return end
        if kind == "closed":
            dispatcher.utter_message(text=PanchayatError("booking_already_cancelled", number=target).message(language))
            return end
        if not found:
            say(dispatcher, "cancellation_none", language)
            return end
        if kind == "many" and len(found) > 1:
            say(dispatcher, "cancellation_pick", language, lines="\n".join(line for _n, line in found),
                buttons=[{"title": number, "payload": number} for number, _line in found[:10]])
            return []
        number, line = found[0]
        say(dispatcher, "cancellation_confirm", language, booking=line, buttons=[
            {"title": text("booking_button_yes", language), "payload": "/affirm"},
            {"title": text("booking_button_no", language), "payload": "/deny"}])
        return [SlotSet("cancellation_target", number)]


class ValidateBookingCancellationForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_booking_cancellation_form"

    async def validate_cancellation_answer(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                           tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        from panchayat.identifiers import parse_identifier

        language = language_of(tracker)
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        target = tracker.get_slot("cancellation_target")
        picked = parse_identifier(typed, ("GH",))
        if picked and picked != target:
            return {"cancellation_answer": None, "cancellation_target": picked}
        # "cancel" answers "cancel this booking?" with a yes.
        if target and (intent in ("affirm", "cancel") or is_yes(typed)):
            def cancel(session):
                citizen = citizens.get_or_create(session, tracker.sender_id)
                booking = bookings.find_own(session, target, citizen)
                if booking is None:
                    raise PanchayatError("unknown_booking", number=target)
                bookings.cancel(session, booking, by="guest", actor="citizen")

            try:
                await with_session(cancel)
            except PanchayatError as error:
                dispatcher.utter_message(text=error.message(language))
                return {"cancellation_answer": "failed", "cancellation_target": None}
            except Exception as error:
                say_sorry(dispatcher, language, error)
                return {"cancellation_answer": "failed", "cancellation_target": None}
            say(dispatcher, "cancellation_done", language, number=target)
            return {"cancellation_answer": "cancelled", "cancellation_target": None}
        if target and (intent == "deny" or typed == "/deny"):
            say(dispatcher, "cancellation_kept", language)
            return {"cancellation_answer": "kept", "cancellation_target": None}
        return {"cancellation_answer": None}


class ActionFinishCancellation(Action):
    def name(self) -> Text:
        return "action_finish_cancellation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return [SlotSet("cancellation_answer", None), SlotSet("cancellation_target", None)]
