"""The citizen's own applications, bookings and complaints, by number or all of them: slot plumbing over
panchayat/journeys/my_records.py."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FAILED, language_of, latest_entity, run_journey, send
from panchayat.journeys import my_records


class ShowsMyRecords:
    """Shows the citizen's own record of `kind` named by the entity `entity` or in the text, or
    a list of theirs. A subclass (with rasa_sdk.Action, which registers every Action subclass
    it finds) names the action, the kind and the entity."""

    kind: my_records.RecordKind
    entity: str

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        shown = await run_journey(
            dispatcher,
            language,
            my_records.show,
            self.kind,
            tracker.sender_id,
            tracker.latest_message.get("text") or "",
            language,
            latest_entity(tracker, self.entity),
        )
        if shown is not FAILED:
            send(dispatcher, shown, language)
        return []


class ActionShowApplicationStatus(ShowsMyRecords, Action):
    kind, entity = my_records.APPLICATIONS, "application_number"

    def name(self) -> Text:
        return "action_show_application_status"


class ActionShowBookings(ShowsMyRecords, Action):
    kind, entity = my_records.BOOKINGS, "booking_number"

    def name(self) -> Text:
        return "action_show_bookings"


class ActionShowGrievanceStatus(ShowsMyRecords, Action):
    kind, entity = my_records.COMPLAINTS, "grievance_number"

    def name(self) -> Text:
        return "action_show_grievance_status"
