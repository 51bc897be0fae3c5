"""Certificate services: what a service needs, and where the citizen's applications stand."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CitizenRecordsAction, day, language_of, latest_entity, say
from panchayat import applications
from panchayat.catalogue import digits, text
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


class ActionShowApplicationStatus(CitizenRecordsAction, Action):
    """One application by number (only the applicant's own), or all of the citizen's."""

    entity, prefixes = "application_number", applications.APPLICATION_PREFIXES
    not_found_key, none_key = "application_not_found", "no_applications"

    def name(self) -> Text:
        return "action_show_application_status"

    def find_own(self, session, number, citizen):
        return applications.find_own(session, number, citizen)

    def list_own(self, session, citizen) -> list:
        return applications.list_applications(session, citizen=citizen)

    def describe_one(self, application, language: str) -> List[str]:
        return describe(application, language)

    def describe_all(self, records: list, language: str) -> List[str]:
        lines = "\n".join(text("my_application_line", language, number=a.number,
                               service=text(f"service_{a.service}", language),
                               status=status_word(a.status, language)) for a in records)
        return [text("my_applications", language, lines=lines)]


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
