"""Applying for a certificate (one generic form for every service), what a service needs, and
downloading the certificate: slot plumbing over panchayat/journeys/applying.py."""

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choosing_a_panchayat import AsksGramPanchayat
from actions.common import FAILED, language_of, latest_entity, run_journey, say, send
from actions.forms import PAUSED, PausableForm, pressed, resumed
from panchayat.journeys import applying


class ActionAskService(Action):
    def name(self) -> Text:
        return "action_ask_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        menu = await run_journey(dispatcher, language, applying.service_menu, language)
        if menu is not FAILED:
            send(dispatcher, menu, language)
        return []


class ActionShowServiceInfo(Action):
    def name(self) -> Text:
        return "action_show_service_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        answer = await run_journey(
            dispatcher, language, applying.service_info, latest_entity(tracker, "service"), language
        )
        if answer is not FAILED:
            send(dispatcher, answer, language)
        return []


class ActionAskApplicationAnswer(Action):
    """Asks for whatever the draft needs next: a field, a document, or the confirmation."""

    def name(self) -> Text:
        return "action_ask_application_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        asked = await run_journey(
            dispatcher,
            language,
            applying.question,
            tracker.get_slot("application_draft"),
            language,
            tracker.get_slot("service"),
        )
        if asked is not FAILED:
            send(dispatcher, asked, language)
        return []


class ValidateApplicationForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_application_paused"

    def name(self) -> Text:
        return "validate_application_form"

    async def form_slots(self, domain_slots: List[Text], tracker: Tracker) -> List[Text]:
        # The GP is asked only of a citizen who has none on record.
        slots = ["service", "application_answer"]
        if not tracker.get_slot("gp_known"):
            slots.insert(1, "gp_name")
        return slots

    async def extract_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        """The service of a request to apply that did not get it understood as an entity."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if tracker.get_slot("service") is not None or intent != "apply_service" or latest_entity(tracker, "service"):
            return {}
        meant = applying.service_meant(tracker.latest_message.get("text") or "", tracker.get_slot("application_draft"))
        return {"service": meant} if meant else {}

    async def validate_service(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        interrupted = self.not_an_answer(dispatcher, tracker, "service")
        if interrupted is not None:
            return interrupted
        language = language_of(tracker)
        chosen = await run_journey(
            dispatcher,
            language,
            applying.choose_service,
            str(slot_value or ""),
            tracker.get_slot("application_draft"),
            language,
        )
        if chosen is FAILED:
            return {"service": None}
        send(dispatcher, chosen.replies, language)
        if chosen.service is None:
            return {"service": None}
        return {"service": chosen.service, "application_draft": chosen.draft, "application_answer": None}

    async def validate_application_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        language = language_of(tracker)
        current = applying.step_of(tracker.get_slot("application_draft"), tracker.get_slot("service"))
        if current is None:
            # A draft kept for a service no longer offered: set aside; the form asks which service.
            say(dispatcher, "draft_service_withdrawn", language)
            return {"service": None, "application_draft": None, "application_answer": None}
        draft, step = current
        typed = str(slot_value or "")
        interrupted = self.not_an_answer(
            dispatcher,
            tracker,
            "application_answer",
            accepts=("text", "file") if step == "document" else ("text",),
            confirming=step == "confirm",
        )
        if interrupted is not None:
            return dict(interrupted, application_draft=draft)
        message = tracker.latest_message
        answered = await run_journey(
            dispatcher,
            language,
            applying.answer,
            tracker.sender_id,
            draft,
            typed,
            language,
            intent=(message.get("intent") or {}).get("name"),
            button=pressed(typed, applying.SUMMARY_BUTTONS) if step == "confirm" else None,
            attachment=(message.get("metadata") or {}).get("media_path"),
        )
        if answered is FAILED:
            return {"application_answer": None, "application_draft": draft}
        send(dispatcher, answered.replies, language)
        if answered.paused:
            dispatcher.utter_message(response=self.paused_response)
            return {"application_answer": None, "application_draft": answered.draft, PAUSED: True}
        return {"application_answer": answered.number, "application_draft": answered.draft}


class ActionFinishApplication(Action):
    """Clears the finished application, so that the next one starts afresh."""

    def name(self) -> Text:
        return "action_finish_application"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        # A paused application keeps its draft (the answers so far); a filed one has none left.
        return [SlotSet("service", None), SlotSet("application_answer", None), *resumed(tracker)]


class ActionDownloadCertificate(Action):
    """The applicant's certificate as a PDF; the status when not yet approved; nothing for others."""

    def name(self) -> Text:
        return "action_download_certificate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        await send_certificate(dispatcher, tracker, latest_entity(tracker, "application_number"))
        return []


async def send_certificate(dispatcher: CollectingDispatcher, tracker: Tracker, number: Optional[str]) -> None:
    """The citizen's certificate `number` (else the one named in the message, else their latest)
    as a PDF, or why there is none yet."""
    language = language_of(tracker)
    found = await run_journey(
        dispatcher,
        language,
        applying.download,
        tracker.sender_id,
        tracker.latest_message.get("text") or "",
        language,
        number,
    )
    if found is FAILED:
        return
    send(dispatcher, found.replies, language)
    if found.pdf is not None:
        # One custom message: channels send it as a document with this caption.
        dispatcher.utter_message(
            json_message={
                "document": str(found.pdf),
                "filename": Path(found.pdf).name,
                "caption": found.caption.text(language),
                "mime_type": "application/pdf",
            }
        )
