"""Complaints: where the citizen's complaints stand."""
from typing import List, Text

from rasa_sdk import Action

from actions.common import CitizenRecordsAction, day
from panchayat import grievances
from panchayat.catalogue import text


def describe(grievance, language: str) -> str:
    note = (text("grievance_resolution_note", language, note=grievance.resolution_note)
            if grievance.resolution_note else "")
    return text("grievance_status", language, number=grievance.number,
                category=text(f"category_{grievance.category}", language), date=day(grievance.created_at, language),
                status=text(f"status_{grievance.status}", language), note=note)


class ActionShowGrievanceStatus(CitizenRecordsAction, Action):
    entity, prefixes = "grievance_number", ("GR",)
    not_found_key, none_key = "grievance_not_found", "no_grievances"

    def name(self) -> Text:
        return "action_show_grievance_status"

    def find_own(self, session, number, citizen):
        return grievances.find_own(session, number, citizen)

    def list_own(self, session, citizen) -> list:
        return grievances.list_grievances(session, citizen=citizen)

    def describe_one(self, grievance, language: str) -> List[str]:
        return [describe(grievance, language)]

    def describe_all(self, records: list, language: str) -> List[str]:
        lines = "\n".join(text("my_grievance_line", language, number=g.number,
                               category=text(f"category_{g.category}", language),
                               status=text(f"status_{g.status}", language)) for g in records)
        return [text("my_grievances", language, lines=lines)]
