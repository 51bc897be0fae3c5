"""Complaints: where the citizen's complaints stand."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import day, language_of, latest_entity, say, say_sorry, with_session
from panchayat import citizens, grievances
from panchayat.catalogue import text
from panchayat.identifiers import parse_identifier


class ActionShowGrievanceStatus(Action):
    def name(self) -> Text:
        return "action_show_grievance_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        number = latest_entity(tracker, "grievance_number") or parse_identifier(
            tracker.latest_message.get("text") or "", ("GR",))

        def load(session):
            """Texts to send, composed while the session is open; None when not found."""
            citizen = citizens.get_or_create(session, tracker.sender_id)
            if number:
                found = grievances.find_own(session, number, citizen)
                return [describe(found, language)] if found else None
            mine = grievances.list_grievances(session, citizen=citizen)
            if not mine:
                return []
            lines = "\n".join(text("my_grievance_line", language, number=g.number,
                                   category=text(f"category_{g.category}", language),
                                   status=text(f"status_{g.status}", language)) for g in mine[-10:])
            return [text("my_grievances", language, lines=lines)]

        try:
            messages = await with_session(load)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return []
        if messages is None:
            say(dispatcher, "grievance_not_found", language, number=number)
        elif not messages:
            say(dispatcher, "no_grievances", language)
        for message in messages or []:
            dispatcher.utter_message(text=message)
        return []


def describe(grievance, language: str) -> str:
    note = (text("grievance_resolution_note", language, note=grievance.resolution_note)
            if grievance.resolution_note else "")
    return text("grievance_status", language, number=grievance.number,
                category=text(f"category_{grievance.category}", language), date=day(grievance.created_at, language),
                status=text(f"status_{grievance.status}", language), note=note)
