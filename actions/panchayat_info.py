"""Office hours, officials, contact and address of the citizen's gram panchayat."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import PAUSED, resumed
from actions.common import language_of, say, say_sorry, with_session
from panchayat import citizens
from panchayat.catalogue import localised, text
from panchayat.directory import gp_profile
from panchayat.info import info_topics


def tell_panchayat_info(dispatcher: CollectingDispatcher, profile: Dict, language: str, topics: List[str]) -> None:
    def pick(pair: Dict[str, str]) -> str:
        return localised(pair.get("en"), pair.get("bn"), language) or text("not_available", language)

    gp = pick(profile["name"])
    phone = profile["phone"] or text("not_available", language)
    officials = "\n".join(
        text("info_official_line", language, role=text(f"role_{o['role']}", language), name=pick(o["name"]))
        for o in profile["officials"]
    )
    if not topics:
        say(dispatcher, "info_summary", language, gp=gp, block=pick(profile["block"]),
            district=pick(profile["district"]), hours=pick(profile["office_hours"]),
            address=pick(profile["address"]), phone=phone, officials=officials)
    for topic in topics:
        if topic == "office_hours":
            say(dispatcher, "info_office_hours", language, gp=gp, hours=pick(profile["office_hours"]))
        elif topic == "officials":
            if officials:
                say(dispatcher, "info_officials", language, gp=gp, officials=officials)
            else:
                say(dispatcher, "info_missing", language, phone=phone)
        elif topic == "contact":
            email = f", {profile['email']}" if profile["email"] else ""
            say(dispatcher, "info_contact", language, gp=gp, phone=phone, email=email,
                hours=pick(profile["office_hours"]))
        elif topic == "address":
            say(dispatcher, "info_address", language, gp=gp, address=pick(profile["address"]))
    if profile["is_sample"]:
        say(dispatcher, "gp_sample_note", language)


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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot(PAUSED):  # the citizen put off naming the GP: nothing to show yet
            return resumed(tracker)
        language = language_of(tracker)
        question = latest_info_question(tracker)
        if question.get("intent", {}).get("name") == "talk_to_human":
            topics = ["contact"]
        else:
            topics = info_topics(question.get("text") or "")

        def load(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            return gp_profile(citizen.gram_panchayat) if citizen.gram_panchayat else None

        try:
            profile = await with_session(load)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return []
        if profile is None:  # the rules ask for the GP first; this only happens if it was lost since
            say(dispatcher, "gp_ask", language)
            return [SlotSet("gp_known", False)]
        tell_panchayat_info(dispatcher, profile, language, topics)
        return []
