"""Employees' pay slips and annual statements: a PIN from the registered number first, then the PDF.

Every number is asked for the PIN, employee or not, and every refusal reads the same,
so the chat never tells a stranger whether a number belongs to an employee.
"""
import os
import re
from datetime import date
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import PAUSED, PausableForm, resumed
from actions.common import in_executor, language_of, say, say_sorry, with_session
from panchayat import config, employees, pay_documents
from panchayat.catalogue import digits
from panchayat.errors import PanchayatError
from panchayat.periods import financial_year_of, parse_financial_year, parse_month

PAY_INTENTS = ("get_payslip", "get_salary_statement")


def pay_request(tracker: Tracker, today: Optional[date] = None) -> Tuple[str, str]:
    """("payslip", "YYYY-MM") or ("statement", "YYYY-YY") from the message that asked.

    A pay slip without a month is last month's; a statement without a year is the last
    complete financial year's: the ones an employee usually needs.
    """
    today = today or date.today()
    for event in reversed(tracker.events):
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if event.get("event") != "user" or intent not in PAY_INTENTS:
            continue
        said = event.get("text") or ""
        entities = {e.get("entity"): e.get("value") for e in parse.get("entities") or []}
        # An entity the normaliser could not read ("গত অর্থবছরের") is read again from the words.
        if not re.fullmatch(r"\d{4}-\d{2}", str(entities.get("month") or "")):
            entities.pop("month", None)
        if not re.fullmatch(r"\d{4}-\d{2}", str(entities.get("financial_year") or "")):
            entities.pop("financial_year", None)
        if intent == "get_payslip":
            month = entities.get("month") or parse_month(said, today)
            if not month:
                last = date(today.year, today.month, 1).toordinal() - 1
                month = date.fromordinal(last).strftime("%Y-%m")
            return "payslip", str(month)
        year = entities.get("financial_year") or parse_financial_year(said, today)
        if not year:
            year = financial_year_of(date(today.year - 1, today.month, 1))
        return "statement", str(year)
    return "payslip", date.fromordinal(date(today.year, today.month, 1).toordinal() - 1).strftime("%Y-%m")


class ValidatePayForm(PausableForm, FormValidationAction):
    paused_response = "utter_pay_paused"

    def name(self) -> Text:
        return "validate_pay_form"

    async def validate_pay_answer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: Dict[Text, Any]) -> Dict[Text, Any]:
        interrupted = self.not_an_answer(dispatcher, tracker, "pay_answer")
        if interrupted is not None:
            return interrupted
        language = language_of(tracker)
        typed = str(slot_value or "")
        choosing = tracker.get_slot("pay_stage") == "own_pin"

        def check(session):
            if choosing:
                employees.set_own_pin(session, tracker.sender_id, typed)
                return None
            return employees.verify_pin(session, tracker.sender_id, typed)

        try:
            result = await with_session(check)
        except PanchayatError as error:  # a new PIN that is too simple or badly formed: ask again
            dispatcher.utter_message(text=error.message(language))
            if error.key == "pin_change_not_allowed":
                return {"pay_answer": "refused", "pay_stage": None}
            return {"pay_answer": None}
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return {"pay_answer": "refused", "pay_stage": None}
        if result is None:
            say(dispatcher, "employee_pin_set", language, minutes=_minutes(language))
            return {"pay_answer": "verified", "pay_stage": None}
        dispatcher.utter_message(text=result.message(language))
        if result.must_change:
            return {"pay_answer": None, "pay_stage": "own_pin"}
        return {"pay_answer": "verified" if result.verified else "refused", "pay_stage": None}


def _minutes(language: str) -> str:
    return digits(config.EMPLOYEE_VERIFIED_MINUTES, language)


class ActionAskPayAnswer(Action):
    def name(self) -> Text:
        return "action_ask_pay_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("pay_stage") != "own_pin":  # the choose-your-PIN question was already said
            say(dispatcher, "employee_pin_ask", language_of(tracker))
        return []


class ActionSendPayDocument(Action):
    """Sends the asked pay slip or statement to a verified employee.

    Asked afresh by someone not verified, it hands over to the PIN form, which comes back
    here when answered; after a refused PIN it sends nothing more."""

    def name(self) -> Text:
        return "action_send_pay_document"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        reset = [SlotSet("pay_answer", None), SlotSet("pay_stage", None)]
        if tracker.get_slot(PAUSED):  # the employee stopped at the PIN question
            return reset + resumed(tracker)
        kind, period = pay_request(tracker)
        answered = tracker.get_slot("pay_answer")

        def load(session):
            if employees.verified_employee(session, tracker.sender_id) is None:
                return "ask" if answered is None else None
            if kind == "payslip":
                return pay_documents.own_payslip_facts(session, tracker.sender_id, period)
            return pay_documents.own_statement_facts(session, tracker.sender_id, period)

        try:
            facts = await with_session(load)
            if facts == "ask":
                return [FollowupAction("pay_form")]
            if facts is None:
                return reset
            render = pay_documents.render_payslip if kind == "payslip" else pay_documents.render_statement
            data = await in_executor(render, facts)
        except PanchayatError as error:  # no payroll for that month or year: said as people say them
            if error.key == "no_payroll_month":
                error.params["month"] = pay_documents.month_label(period)[language]
            elif error.key == "no_payroll_year":
                error.params["year"] = digits(period, language)
            dispatcher.utter_message(text=error.message(language))
            return reset
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return reset
        path = await in_executor(_keep_private, pay_documents.file_name(facts), data)
        dispatcher.utter_message(json_message={
            "document": str(path), "filename": path.name, "caption": pay_documents.caption(facts, language),
            "mime_type": "application/pdf"})
        return reset


class ActionFinishPay(Action):
    """The PIN question was left (menu, cancel, goodbye): forget the half-given answer."""

    def name(self) -> Text:
        return "action_finish_pay"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return [SlotSet("pay_answer", None), SlotSet("pay_stage", None)]


def _keep_private(name: str, data: bytes):
    """Pay documents are personal: readable by the service's own user only."""
    folder = config.VAR_DIR / "pay-documents"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path
