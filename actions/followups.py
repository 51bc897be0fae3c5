"""Messages outside any form that are not requests: a bare answer to the panchayat's own question
(a rating, "send the certificate"), and messages with no words (voice notes, stickers)."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FAILED, attempt, language_of, say
from actions.forms import UNREADABLE, typed_text
from panchayat import citizens, followups, grievances
from panchayat.answers import number_in
from panchayat.catalogue import digits, text
from panchayat.errors import PanchayatError


class ActionBareAnswer(Action):
    """A message the assistant cannot place (a fallback, a bare number, a yes out of context):
    the answer to the question of the panchayat's newest notification, if one is open; else a
    request to say it another way."""

    def name(self) -> Text:
        return "action_bare_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        typed = typed_text(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = (tracker.latest_message.get("metadata") or {}).get("wa_type")
        if kind in UNREADABLE:
            # A voice note, a sticker and the like: say what can be read (and, for a voice, the menu).
            say(dispatcher, "voice_not_understood" if kind == "audio" else "wa_unsupported", language)
            if kind == "audio":
                show_menu(dispatcher, language)
            return []

        def answer(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            question = followups.open_question(session, citizen)
            if question is None:
                return None, None
            if question.kind == "rating":
                rating = followups.rating_in(typed)
                if rating is None:
                    if number_in(typed) is not None:
                        raise PanchayatError("bad_rating")
                    return None, None
                grievances.rate(session, grievances.find_own(session, question.number, citizen), citizen, rating)
                return "rated", (question.number, rating)
            if followups.wants_download(typed):
                return "download", question.number
            return None, None

        outcome = await attempt(dispatcher, language, answer)
        if outcome is FAILED:
            return []
        done, found = outcome
        if done == "rated":
            number, rating = found
            say(dispatcher, "grievance_rated", language, number=number, rating=digits(rating, language))
            return []
        if done == "download":
            return [FollowupAction("action_download_certificate")]
        dispatcher.utter_message(response="utter_anything_else" if intent in ("affirm", "deny") else "utter_default")
        return []


# The menu's items: catalogue key of the title, and the request the item stands for.
MENU = (
    ("menu_building_permission", '/apply_service{"service": "building_permission"}'),
    ("menu_trade_noc", '/apply_service{"service": "trade_noc"}'),
    ("menu_business_noc", '/apply_service{"service": "business_noc"}'),
    ("menu_status", "/check_application_status"),
    ("menu_guest_house", "/book_guest_house"),
    ("menu_complaint", "/lodge_grievance"),
    ("menu_office", "/panchayat_info"),
    ("menu_pay", "/get_payslip"),
)


def show_menu(dispatcher: CollectingDispatcher, language: str) -> None:
    say(dispatcher, "menu", language, buttons=[{"title": text(key, language), "payload": payload}
                                               for key, payload in MENU])


class ActionShowMenu(Action):
    """What the assistant can do, each item a button (built here: a domain response would read the
    payloads' braces as slot placeholders)."""

    def name(self) -> Text:
        return "action_show_menu"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        show_menu(dispatcher, language_of(tracker))
        return []
