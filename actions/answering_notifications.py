"""Messages outside any form that are not requests: a bare answer to the panchayat's own question
(a rating, "send the certificate"), and messages with no words (voice notes, stickers)."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.applying import send_certificate
from actions.common import FAILED, language_of, run_journey, say, send
from actions.forms import UNREADABLE, typed_text
from actions.menu import show_menu
from panchayat.journeys import answering_notifications


class ActionBareAnswer(Action):
    """A message the assistant cannot place (a fallback, a bare number, a yes out of context):
    the answer to the question of the panchayat's newest notification, if one is open; else a
    request to say it another way."""

    def name(self) -> Text:
        return "action_bare_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = (tracker.latest_message.get("metadata") or {}).get("wa_type")
        if kind in UNREADABLE:
            # A voice note, a sticker and the like: say what can be read (and, for a voice, the menu).
            say(dispatcher, "voice_not_understood" if kind == "audio" else "wa_unsupported", language)
            if kind == "audio":
                show_menu(dispatcher, language)
            return []
        answered = await run_journey(
            dispatcher, language, answering_notifications.answer, tracker.sender_id, typed_text(tracker), language
        )
        if answered is FAILED:
            return []
        if answered.download:
            # The certificate the notification was about, not merely the newest one.
            await send_certificate(dispatcher, tracker, answered.download)
            return []
        if answered.understood:
            send(dispatcher, answered.replies, language)
            return []
        dispatcher.utter_message(response="utter_anything_else" if intent in ("affirm", "deny") else "utter_default")
        return []
