"""Office hours, officials, contact and address of the citizen's gram panchayat."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FAILED, language_of, run_journey, send
from actions.forms import PAUSED, resumed
from panchayat.journeys.reading_panchayat_info import panchayat_info

INFO_INTENTS = ("panchayat_info", "talk_to_human")


def latest_info_question(tracker: Tracker) -> Dict:
    """The last user message that asked about the office (the GP may have been asked for since)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("parse_data", {}).get("intent", {}).get("name") in INFO_INTENTS:
            return event["parse_data"] | {"text": event.get("text")}
    return tracker.latest_message


class ActionShowPanchayatInfo(Action):
    def name(self) -> Text:
        return "action_show_panchayat_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot(PAUSED):  # the citizen put off naming the GP: nothing to show yet
            return resumed(tracker)
        language = language_of(tracker)
        question = latest_info_question(tracker)
        info = await run_journey(
            dispatcher,
            language,
            panchayat_info,
            tracker.sender_id,
            question.get("text") or "",
            question.get("intent", {}).get("name") == "talk_to_human",
            language,
        )
        if info is FAILED:
            return []
        send(dispatcher, info.replies, language)
        # No GP on record: the rules ask for it first, so this only happens if it was lost since.
        return [] if info.gp_known else [SlotSet("gp_known", False)]
