"""Booking a guest-house room and cancelling a booking: the forms' slots around the journey
panchayat.journeys.booking_a_room, which reads the answers, checks them and books."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choosing_a_panchayat import AsksGramPanchayat
from actions.common import FAILED, language_of, run_journey, say, send
from actions.forms import PAUSED, PausableForm, opening_message, pressed, resumed
from panchayat.answers import is_no, is_yes
from panchayat.identifiers import parse_booking_number
from panchayat.journeys import booking_a_room
from panchayat.journeys.booking_a_room import CANCELLATION_BUTTONS, SUMMARY_BUTTONS, next_step


class ValidateBookingForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_booking_paused"

    def name(self) -> Text:
        return "validate_booking_form"

    async def form_slots(self, domain_slots: List[Text], tracker: Tracker) -> List[Text]:
        return (["gp_name"] if not tracker.get_slot("gp_known") else []) + ["booking_answer"]

    async def validate_booking_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("booking_draft") or {})
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        confirming = next_step(draft) == "confirm"
        interrupted = self.not_an_answer(dispatcher, tracker, "booking_answer", confirming=confirming)
        if interrupted is not None:
            return interrupted
        button = pressed(typed, SUMMARY_BUTTONS) if confirming else None
        if confirming and (intent == "affirm" or button == "/affirm" or is_yes(typed)):
            turn = await run_journey(dispatcher, language, booking_a_room.confirm, tracker.sender_id, draft)
            if turn is FAILED:
                return {"booking_answer": None, "booking_draft": draft}
            send(dispatcher, turn.replies, language)
            return {"booking_answer": turn.number, "booking_draft": turn.draft}
        if confirming and (intent == "deny" or button == "/deny" or is_no(typed)):
            say(dispatcher, "booking_dropped", language)
            return {"booking_answer": "dropped", "booking_draft": None}
        turn = await run_journey(dispatcher, language, booking_a_room.answer, draft, typed)
        if turn is FAILED:  # the question is asked again
            return {"booking_answer": None, "booking_draft": draft}
        send(dispatcher, turn.replies, language)
        return {"booking_answer": None, "booking_draft": turn.draft}


class ActionAskBookingAnswer(Action):
    def name(self) -> Text:
        return "action_ask_booking_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("booking_draft") or {})
        turn = await run_journey(
            dispatcher,
            language,
            booking_a_room.ask,
            tracker.sender_id,
            draft,
            language,
            opening_message(tracker, "booking_form"),
        )
        end = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if turn is FAILED:
            return end
        send(dispatcher, turn.replies, language)
        if turn.draft is None:
            # Nothing to book here: end the form (the "booking is done" rule takes over).
            return [*end, SlotSet("booking_draft", None)]
        return [SlotSet("booking_draft", turn.draft)] if turn.draft != draft else []


class ActionFinishBooking(Action):
    def name(self) -> Text:
        return "action_finish_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot(PAUSED):  # paused: the choices stay for when the citizen comes back
            return [SlotSet("booking_answer", None), *resumed(tracker)]
        return [SlotSet("booking_answer", None), SlotSet("booking_draft", None)]


class ActionAskCancellationAnswer(Action):
    """Names the booking to cancel and asks to confirm; ends the form when there is nothing to cancel."""

    def name(self) -> Text:
        return "action_ask_cancellation_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        target = tracker.get_slot("cancellation_target")
        if target is None:
            for event in reversed(tracker.events):
                if (
                    event.get("event") == "user"
                    and event.get("parse_data", {}).get("intent", {}).get("name") == "cancel_booking"
                ):
                    target = parse_booking_number(event.get("text") or "")
                    break
        offer = await run_journey(dispatcher, language, booking_a_room.cancellable, tracker.sender_id, target, language)
        if offer is FAILED:
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        send(dispatcher, offer.replies, language)
        if offer.nothing_to_cancel:
            return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("cancellation_target", None)]
        return [SlotSet("cancellation_target", offer.target)] if offer.target else []


class ValidateBookingCancellationForm(PausableForm, FormValidationAction):
    paused_response = "utter_cancellation_paused"

    def name(self) -> Text:
        return "validate_booking_cancellation_form"

    async def validate_cancellation_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        language = language_of(tracker)
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        target = tracker.get_slot("cancellation_target")
        button = pressed(typed, CANCELLATION_BUTTONS)
        # "না থাক", "no leave it": the booking stays.
        if target and (intent == "deny" or button == "/deny" or is_no(typed)):
            say(dispatcher, "cancellation_kept", language)
            return {"cancellation_answer": "kept", "cancellation_target": None}
        interrupted = self.not_an_answer(
            dispatcher, tracker, "cancellation_answer", confirming=True, cancel_pauses=False
        )
        if interrupted is not None:
            return interrupted
        picked = parse_booking_number(typed)
        if picked and picked != target:
            return {"cancellation_answer": None, "cancellation_target": picked}
        # "cancel" answers "cancel this booking?" with a yes.
        if target and (intent in ("affirm", "cancel") or is_yes(typed) or button == "/affirm"):
            done = await run_journey(dispatcher, language, booking_a_room.cancel, tracker.sender_id, target)
            if done is FAILED:
                return {"cancellation_answer": "failed", "cancellation_target": None}
            send(dispatcher, done, language)
            return {"cancellation_answer": "cancelled", "cancellation_target": None}
        return {"cancellation_answer": None}


class ActionFinishCancellation(Action):
    def name(self) -> Text:
        return "action_finish_cancellation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return [SlotSet("cancellation_answer", None), SlotSet("cancellation_target", None), *resumed(tracker)]
