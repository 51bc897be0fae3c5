"""Employees' pay slips and annual statements: a PIN from the registered number first, then the PDF.

The PIN check, the documents and the wording of every refusal are the core's
(panchayat.journeys.getting_pay_documents); here the PIN form's slots are filled from its answers.
"""

from datetime import date
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FAILED, language_of, run_journey, say, send
from actions.forms import PAUSED, PausableForm, resumed
from panchayat.journeys import getting_pay_documents as journey

PAY_INTENTS = {"get_payslip": journey.PAYSLIP, "get_salary_statement": journey.STATEMENT}

# The PIN form's slots after each kind of answer: pay_answer None asks the question again.
SLOTS_AFTER: Dict[str, Dict[Text, Any]] = {
    journey.VERIFIED: {"pay_answer": "verified", "pay_stage": None},
    journey.REFUSED: {"pay_answer": "refused", "pay_stage": None},
    journey.CHOOSE_OWN: {"pay_answer": None, "pay_stage": "own_pin"},
    journey.AGAIN: {"pay_answer": None},
}


def pay_request(tracker: Tracker, today: Optional[date] = None) -> Tuple[str, str]:
    """("payslip", "YYYY-MM") or ("statement", "YYYY-YY") from the last message that asked for one
    (the PIN was typed since)."""
    for event in reversed(tracker.events):
        parse = event.get("parse_data") or {}
        kind = PAY_INTENTS.get((parse.get("intent") or {}).get("name") or "")
        if event.get("event") != "user" or kind is None:
            continue
        entities = {e.get("entity"): e.get("value") for e in parse.get("entities") or []}
        return journey.asked_period(kind, event.get("text") or "", entities, today)
    return journey.asked_period(None, today=today)


class ValidatePayForm(PausableForm, FormValidationAction):
    paused_response = "utter_pay_paused"

    def name(self) -> Text:
        return "validate_pay_form"

    async def validate_pay_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        interrupted = self.not_an_answer(dispatcher, tracker, "pay_answer")
        if interrupted is not None:
            return interrupted
        language = language_of(tracker)
        answer = await run_journey(
            dispatcher,
            language,
            journey.answer_pin,
            tracker.sender_id,
            str(slot_value or ""),
            tracker.get_slot("pay_stage") == "own_pin",
            language,
        )
        if answer is FAILED:
            return dict(SLOTS_AFTER[journey.REFUSED])
        send(dispatcher, answer.replies, language)
        return dict(SLOTS_AFTER[answer.outcome])


class ActionAskPayAnswer(Action):
    def name(self) -> Text:
        return "action_ask_pay_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot("pay_stage") != "own_pin":  # the choose-your-PIN question was already said
            say(dispatcher, "employee_pin_ask", language_of(tracker))
        return []


class ActionSendPayDocument(Action):
    """Sends the asked pay slip or statement to a verified employee.

    Asked afresh by someone not verified, it hands over to the PIN form, which comes back
    here when answered; after a refused PIN it sends nothing more."""

    def name(self) -> Text:
        return "action_send_pay_document"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        reset = [SlotSet("pay_answer", None), SlotSet("pay_stage", None)]
        if tracker.get_slot(PAUSED):  # the employee stopped at the PIN question
            return reset + resumed(tracker)
        kind, period = pay_request(tracker)
        document = await run_journey(
            dispatcher,
            language,
            journey.pay_document,
            tracker.sender_id,
            kind,
            period,
            tracker.get_slot("pay_answer") is not None,
            language,
        )
        if document is FAILED:
            return reset
        if document.ask_pin:
            return [FollowupAction("pay_form")]
        if document.path is not None:
            dispatcher.utter_message(
                json_message={
                    "document": str(document.path),
                    "filename": document.filename,
                    "caption": document.caption,
                    "mime_type": "application/pdf",
                }
            )
        return reset


class ActionFinishPay(Action):
    """The PIN question was left (menu, cancel, goodbye): forget the half-given answer."""

    def name(self) -> Text:
        return "action_finish_pay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return [SlotSet("pay_answer", None), SlotSet("pay_stage", None)]
