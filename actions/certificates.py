"""Certificate services: what a service needs, and where the citizen's applications stand."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import day, language_of, latest_entity, say, say_sorry, with_session
from panchayat import applications, citizens
from panchayat.catalogue import digits, text
from panchayat.identifiers import parse_identifier
from panchayat.services import all_services


class ActionShowServiceInfo(Action):
    def name(self) -> Text:
        return "action_show_service_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        services = all_services()
        wanted = latest_entity(tracker, "service")
        service = services.get(wanted)
        if service is None:
            lines = "\n".join(text("service_list_line", language, service=s.title(language),
                                   fee=digits(s.fee_rupees, language), days=digits(s.processing_days, language))
                              for s in services.values())
            say(dispatcher, "service_list", language, services=lines)
            return []
        documents = "\n".join(text("document_line", language, document=d["label"].get(language) or d["label"]["en"])
                              for d in service.documents)
        fields = ", ".join(f["label"].get(language) or f["label"]["en"] for f in service.fields)
        say(dispatcher, "service_info", language, service=service.title(language),
            summary=service.summary.get(language) or service.summary["en"], fee=digits(service.fee_rupees, language),
            days=digits(service.processing_days, language), documents=documents, fields=fields)
        return []


def status_word(status: str, language: str) -> str:
    return text(f"status_{status}", language)


class ActionShowApplicationStatus(Action):
    """One application by number (only the applicant's own), or all of the citizen's."""

    def name(self) -> Text:
        return "action_show_application_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        number = latest_entity(tracker, "application_number") or parse_identifier(
            tracker.latest_message.get("text") or "", applications.APPLICATION_PREFIXES)

        def load(session):
            """Texts to send, composed while the session is open; None when not found."""
            citizen = citizens.get_or_create(session, tracker.sender_id)
            if number:
                found = applications.find_own(session, number, citizen)
                return describe(found, language) if found else None
            mine = applications.list_applications(session, citizen=citizen)
            if not mine:
                return []
            lines = "\n".join(text("my_application_line", language, number=a.number,
                                   service=text(f"service_{a.service}", language),
                                   status=status_word(a.status, language)) for a in mine[-10:])
            return [text("my_applications", language, lines=lines)]

        try:
            messages = await with_session(load)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return []
        if messages is None:
            say(dispatcher, "application_not_found", language, number=number)
        elif not messages:
            say(dispatcher, "no_applications", language)
        for message in messages or []:
            dispatcher.utter_message(text=message)
        return []


def describe(application, language: str) -> List[str]:
    history = "\n".join(
        text("application_history_line", language, date=day(event.at, language),
             status=status_word(event.to_status, language),
             note=f" ({event.note})" if event.note and event.to_status == "rejected" else "")
        for event in application.events)
    messages = [text("application_status", language, number=application.number,
                     service=text(f"service_{application.service}", language),
                     date=day(application.created_at, language),
                     status=status_word(application.status, language), history=history)]
    if application.status == "approved":
        messages.append(text("application_next_approved", language, number=application.number))
    return messages
