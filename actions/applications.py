"""Applying for a certificate (one generic form for every service) and downloading it."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.certificates import describe
from actions.citizen import AsksGramPanchayat
from actions.forms import PAUSED, PausableForm, pressed, resumed
from actions.common import in_executor, language_of, latest_entity, say, say_sorry, with_session
from panchayat import applications, certificates, citizens, config, documents, drafts
from panchayat.answers import is_correction, is_no, match_option, payload_value
from panchayat.bengali import normalize, phonetic_key
from panchayat.catalogue import text
from panchayat.errors import PanchayatError
from panchayat.identifiers import parse_identifier
from panchayat.answers import is_yes
from panchayat.services import all_services



def match_service(typed: str) -> Optional[str]:
    """A service code from a code, a button or a name in either script."""
    typed = payload_value(typed) or (typed or "").strip()
    services = all_services()
    if typed in services:
        return typed
    found = match_option(typed, [{"value": code, "labels": [service.name["en"], service.name["bn"],
                                                            code.replace("_", " "), *service.also]}
                                 for code, service in services.items()])
    if found:
        return found
    key = phonetic_key(normalize(typed).replace(" ", ""))
    for code, service in services.items():
        for name in (service.name["en"], service.name["bn"], code.replace("_", " ")):
            name_key = phonetic_key(normalize(name).replace(" ", ""))
            if key and (key in name_key or name_key in key):
                return code
    return None


# The summary's buttons: catalogue keys of their titles, and what pressing (or typing) one means.
SUMMARY_BUTTONS = {"draft_button_submit": "/affirm", "draft_button_change": "/deny", "draft_button_cancel": "/cancel"}


class ActionAskService(Action):
    def name(self) -> Text:
        return "action_ask_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        buttons = [{"title": service.title(language)[:20], "payload": f'/apply_service{{"service": "{code}"}}'}
                   for code, service in all_services().items()]
        say(dispatcher, "draft_ask_service", language, buttons=buttons)
        return []


class ActionAskApplicationAnswer(Action):
    """Asks for whatever the draft needs next: a field, a document, or the confirmation."""

    def name(self) -> Text:
        return "action_ask_application_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        draft = tracker.get_slot("application_draft") or drafts.new_draft(tracker.get_slot("service"))
        step, key = drafts.next_step(draft)
        if step == "field":
            question, buttons = drafts.field_prompt(draft, key, language)
            dispatcher.utter_message(text=question, buttons=buttons)
        elif step == "document":
            dispatcher.utter_message(text=drafts.document_prompt(draft, key, language))
        elif draft.get("choosing_field"):
            say(dispatcher, "draft_ask_which_field", language)
        else:
            dispatcher.utter_message(text=drafts.summary(draft, language), buttons=[
                {"title": text(key, language), "payload": payload} for key, payload in SUMMARY_BUTTONS.items()])
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

    async def extract_service(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: Dict[Text, Any]) -> Dict[Text, Any]:
        """The service of a request that did not get it understood as an entity: "let me finish my
        application" resumes the paused draft's; "বাড়ি করার অনুমতির জন্য আবেদন" names one in words."""
        draft = tracker.get_slot("application_draft")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if tracker.get_slot("service") is not None or intent != "apply_service" or latest_entity(tracker, "service"):
            return {}
        named = match_service(tracker.latest_message.get("text") or "")
        if named:
            return {"service": named}
        if draft and (draft.get("fields") or draft.get("documents")):
            return {"service": draft["service"]}
        return {}

    async def validate_service(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: Dict[Text, Any]) -> Dict[Text, Any]:
        interrupted = self.not_an_answer(dispatcher, tracker, "service")
        if interrupted is not None:
            return interrupted
        language = language_of(tracker)
        code = match_service(str(slot_value or ""))
        if code is None:
            say(dispatcher, "draft_unknown_service", language)
            return {"service": None}
        service = all_services()[code]
        draft = tracker.get_slot("application_draft")
        if draft and draft.get("service") == code and (draft["fields"] or draft["documents"]):
            say(dispatcher, "draft_resume", language, service=service.title(language))
        else:
            draft = drafts.new_draft(code)
            say(dispatcher, "draft_start", language, service=service.title(language))
        return {"service": code, "application_draft": draft, "application_answer": None}

    async def validate_application_answer(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                          tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("application_draft") or drafts.new_draft(tracker.get_slot("service")))
        typed = str(slot_value or "")
        intent = tracker.latest_message.get("intent", {}).get("name")
        step, key = drafts.next_step(draft)
        service = all_services()[draft["service"]]
        interrupted = self.not_an_answer(dispatcher, tracker, "application_answer",
                                         accepts=("text", "file") if step == "document" else ("text",),
                                         confirming=step == "confirm")
        if interrupted is not None:
            return dict(interrupted, application_draft=draft)
        try:
            target = drafts.correction_target(draft, typed)
            if step == "confirm" and draft.get("choosing_field"):
                target = target or drafts.choose_field_by_number(draft, typed) or drafts.correction_target(
                    draft, f"change {typed}")
                if target is None:
                    say(dispatcher, "draft_ask_which_field", language)
                    return {"application_answer": None, "application_draft": draft}
            if target:
                draft = dict(draft, editing=target, choosing_field=False)
                label = drafts.field_definition(service, target)["label"]
                say(dispatcher, "draft_correcting", language, label=label.get(language) or label["en"])
            elif step == "field":
                draft = drafts.answer_field(draft, key, typed)
            elif step == "document":
                attachment = (tracker.latest_message.get("metadata") or {}).get("media_path")
                draft = await in_executor(drafts.answer_document, draft, key, attachment or typed)
            else:
                button = pressed(typed, SUMMARY_BUTTONS)
                if intent == "affirm" or button == "/affirm" or is_yes(typed):
                    return await self.submit(dispatcher, tracker, draft, language)
                if button == "/cancel":
                    dispatcher.utter_message(response=self.paused_response)
                    return {"application_answer": None, "application_draft": draft, PAUSED: True}
                if intent == "deny" or button == "/deny" or is_no(typed) or is_correction(typed):
                    draft = dict(draft, choosing_field=True)
                else:
                    say(dispatcher, "draft_confirm_expected", language)
        except PanchayatError as error:
            dispatcher.utter_message(text=error.message(language))
        return {"application_answer": None, "application_draft": draft}

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, draft: Dict,
                     language: str) -> Dict[Text, Any]:
        def file(session):
            return drafts.submit(session, citizens.get_or_create(session, tracker.sender_id), draft)

        try:
            number = await with_session(file)
        except PanchayatError as error:
            dispatcher.utter_message(text=error.message(language))
            return {"application_answer": None, "application_draft": draft}
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return {"application_answer": None, "application_draft": draft}
        service = all_services()[draft["service"]]
        say(dispatcher, "draft_submitted", language, service=service.title(language), number=number)
        return {"application_answer": number, "application_draft": None}


class ActionFinishApplication(Action):
    """Clears the finished application, so that the next one starts afresh."""

    def name(self) -> Text:
        return "action_finish_application"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        # A paused application keeps its draft (the answers so far); a filed one has none left.
        return [SlotSet("service", None), SlotSet("application_answer", None), *resumed(tracker)]


class ActionDownloadCertificate(Action):
    """The applicant's certificate as a PDF; the status when not yet approved; nothing for others."""

    def name(self) -> Text:
        return "action_download_certificate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        number = latest_entity(tracker, "application_number") or parse_identifier(
            tracker.latest_message.get("text") or "", applications.APPLICATION_PREFIXES)

        def load(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            certificate = certificates.own_approved(session, number, citizen)
            if certificate is not None:
                return "certificate", certificates.facts(certificate)
            application = applications.find_own(session, number, citizen) if number else None
            if application is not None:
                return "status", describe(application, language)
            return "none", None

        try:
            kind, found = await with_session(load)
            if kind == "certificate":
                data = await in_executor(documents.render_certificate, found)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return []
        if kind == "none":
            if number:
                say(dispatcher, "application_not_found", language, number=number)
            else:
                say(dispatcher, "certificate_none", language)
            return []
        if kind == "status":
            say(dispatcher, "certificate_not_ready", language, number=number)
            for message in found:
                dispatcher.utter_message(text=message)
            return []
        folder = config.VAR_DIR / "certificates"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{found['number']}.pdf"
        path.write_bytes(data)
        caption = text("certificate_caption", language, service=found["service"].title(language),
                       number=found["number"])
        # One custom message: channels send it as a document with this caption.
        dispatcher.utter_message(json_message={
            "document": str(path), "filename": Path(path).name, "caption": caption, "mime_type": "application/pdf"})
        return []
