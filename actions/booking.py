"""Booking a guest-house room: which house, dates as people say them, rooms, fee, confirmation."""
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.citizen import AsksGramPanchayat
from actions.forms import PAUSED, PausableForm, opening_message, pressed, resumed
from actions.common import day, language_of, rupees, say, say_sorry, with_session
from panchayat import bookings, citizens
from panchayat.catalogue import digits, localised, text
from panchayat.answers import count_of, is_no, match_option, number_in, words
from panchayat.dates import nights_in, parse_stay
from panchayat.errors import PanchayatError
from panchayat.answers import is_yes
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


# The summary's buttons: catalogue keys of their titles, and what pressing (or typing) one means.
SUMMARY_BUTTONS = {"booking_button_yes": "/affirm", "booking_button_no": "/deny"}
CANCELLATION_BUTTONS = {"cancellation_button_yes": "/affirm", "cancellation_button_no": "/deny"}
ROOM_WORDS = ("room", "rooms", "rum", "ghor", "ghar", "ghr", "kamra", "ঘর", "রুম", "কামরা", "কক্ষ")


def with_stay(draft: Dict, typed: str) -> Optional[Dict]:
    stay = parse_stay(typed)
    if stay is None:
        return None
    check_out = stay.check_out or (stay.check_in + timedelta(days=stay.nights) if stay.nights else None)
    return dict(draft, check_in=stay.check_in.isoformat(), check_out=check_out.isoformat() if check_out else None)


def house_options(draft: Dict) -> List[Dict]:
    return [{"value": house, "labels": [draft["names"][str(house)]["en"], draft["names"][str(house)]["bn"]]}
            for house in draft.get("choices") or []]


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
    if stayed is None and not draft.get("check_in") and nights_in(typed):
        draft["nights_wanted"] = nights_in(typed)  # "3 raat" before any date: kept for the date
    if stayed is not None:
        draft = stayed
        if not draft.get("check_out") and draft.get("nights_wanted"):
            draft["check_out"] = (date.fromisoformat(draft["check_in"])
                                  + timedelta(days=draft["nights_wanted"])).isoformat()
        # New dates: the rooms free on them are counted again.
        draft.pop("free", None)
    elif draft.get("check_in") and (nights_in(typed) or (step == "nights" and number_in(typed))):
        nights = nights_in(typed) or number_in(typed)
        draft["check_out"] = (date.fromisoformat(draft["check_in"]) + timedelta(days=nights)).isoformat()
    rooms = count_of(typed, ROOM_WORDS)
    if rooms is None and step == "rooms" and stayed is None:
        rooms = number_in(typed)
    if rooms is not None:
        draft["rooms"] = rooms
    return draft


class ValidateBookingForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_booking_paused"

    def name(self) -> Text:
        return "validate_booking_form"

    async def form_slots(self, domain_slots: List[Text], tracker: Tracker) -> List[Text]:
        return (["gp_name"] if not tracker.get_slot("gp_known") else []) + ["booking_answer"]

    async def validate_booking_answer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: Dict[Text, Any]) -> Dict[Text, Any]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("booking_draft") or {})
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        step = next_step(draft)
        interrupted = self.not_an_answer(dispatcher, tracker, "booking_answer", confirming=step == "confirm")
        if interrupted is not None:
            return interrupted
        button = pressed(typed, SUMMARY_BUTTONS) if step == "confirm" else None
        if step == "confirm" and (intent == "affirm" or button == "/affirm" or is_yes(typed)):
            return await self.confirm(dispatcher, tracker, draft, language)
        if step == "confirm" and (intent == "deny" or button == "/deny" or is_no(typed)):
            say(dispatcher, "booking_dropped", language)
            return {"booking_answer": "dropped", "booking_draft": None}
        updated = read_answers(draft, typed, step)
        if updated == draft:
            # Nothing understood: say what this question needs; it is asked again.
            if step == "house":
                say(dispatcher, "error_field_invalid_choice", language)
            elif step == "dates":
                say(dispatcher, "booking_bad_dates_text", language)
            elif step in ("nights", "rooms"):
                say(dispatcher, "booking_bad_number", language)
            else:
                say(dispatcher, "booking_confirm_expected", language)
            return {"booking_answer": None, "booking_draft": draft}
        if updated.get("rooms") == 0:
            dispatcher.utter_message(text=PanchayatError("booking_zero_rooms").message(language))
            updated["rooms"] = None
        draft = await self.check(dispatcher, updated, language)
        return {"booking_answer": None, "booking_draft": draft}

    async def check(self, dispatcher: CollectingDispatcher, draft: Dict, language: str) -> Dict:
        """Dates and rooms are checked as soon as they are given; a refused part is asked again."""
        if draft.get("check_in") and date.fromisoformat(draft["check_in"]) < date.today():
            say(dispatcher, "error_booking_past_date", language)
            return dict(draft, check_in=None, check_out=None, rooms=None)
        if not draft.get("check_out") or not draft.get("house"):
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
        opening = opening_message(tracker, "booking_form")
        if opening and draft.get("read") != opening.get("message_id"):
            # The message that (re)opened the form may already say the dates and the rooms.
            draft = read_answers(dict(draft, read=opening.get("message_id")), opening.get("text") or "",
                                 next_step(draft))
            draft = await ValidateBookingForm().check(dispatcher, draft, language)
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
                    {"title": text(key, language), "payload": payload} for key, payload in SUMMARY_BUTTONS.items()])
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
        return draft, True


class ActionFinishBooking(Action):
    def name(self) -> Text:
        return "action_finish_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot(PAUSED):  # paused: the choices stay for when the citizen comes back
            return [SlotSet("booking_answer", None), *resumed(tracker)]
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
            {"title": text(key, language), "payload": payload} for key, payload in CANCELLATION_BUTTONS.items()])
        return [SlotSet("cancellation_target", number)]


class ValidateBookingCancellationForm(PausableForm, FormValidationAction):
    paused_response = "utter_cancellation_paused"

    def name(self) -> Text:
        return "validate_booking_cancellation_form"

    async def validate_cancellation_answer(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                           tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        from panchayat.identifiers import parse_identifier

        language = language_of(tracker)
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        target = tracker.get_slot("cancellation_target")
        button = pressed(typed, CANCELLATION_BUTTONS)
        # "না থাক", "no leave it": the booking stays.
        if target and (intent == "deny" or button == "/deny" or is_no(typed)):
            say(dispatcher, "cancellation_kept", language)
            return {"cancellation_answer": "kept", "cancellation_target": None}
        interrupted = self.not_an_answer(dispatcher, tracker, "cancellation_answer", confirming=True,
                                         cancel_pauses=False)
        if interrupted is not None:
            return interrupted
        picked = parse_identifier(typed, ("GH",))
        if picked and picked != target:
            return {"cancellation_answer": None, "cancellation_target": picked}
        # "cancel" answers "cancel this booking?" with a yes.
        if target and (intent in ("affirm", "cancel") or is_yes(typed) or button == "/affirm"):
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
        return {"cancellation_answer": None}


class ActionFinishCancellation(Action):
    def name(self) -> Text:
        return "action_finish_cancellation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return [SlotSet("cancellation_answer", None), SlotSet("cancellation_target", None), *resumed(tracker)]
