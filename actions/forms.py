"""What every form does with a message that is not an answer to its question.

Villagers stop half-way ("থাক, পরে করব"), thank, greet, send a sticker or a voice note, or a
photo or a place where words were asked. Each form's validator asks `not_an_answer` first; it
answers such a message in the citizen's language and either asks the same question again or
pauses the form, keeping the draft for later. The form's own steps then only read answers.
"""

from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language_of, say
from panchayat.answers import is_no, is_payload, is_skip, is_stop, match_option, words
from panchayat.catalogue import text

# Set by a validator to end its form at once (its draft stays); the form's finishing action
# clears it. Rules see the form end as usual.
PAUSED = "form_paused"

# Message kinds that carry no words the assistant can read (the WhatsApp channel's wa_type).
UNREADABLE = frozenset({"audio", "video", "sticker", "reaction", "contacts", "unsupported", "unknown"})

# Small talk answered in the middle of a form, before the question is asked again.
SMALL_TALK = {"thank_you": "utter_you_are_welcome", "greet": "utter_greet", "bot_challenge": "utter_iamabot"}


def typed_text(tracker: Tracker) -> str:
    """What the citizen typed: a typed button title reaches the dialogue as its payload."""
    message = tracker.latest_message
    return (message.get("metadata") or {}).get("typed") or message.get("text") or ""


def pressed(typed: str, buttons: Dict[str, str]) -> Optional[str]:
    """The payload of the offered button whose title was typed ("joma din", "submitt", "বাতিল"),
    in either language; `buttons` maps catalogue keys of the titles to payloads. On WhatsApp the
    channel already turns a typed title into its payload; the terminal chat and REST come here."""
    if is_payload(typed):
        return typed.strip()
    options = [{"value": payload, "labels": [text(key, "bn"), text(key, "en")]} for key, payload in buttons.items()]
    return match_option(typed, options, allow_contained=False) if len(words(typed)) <= 4 else None


class PausableForm:
    """Mixin for a FormValidationAction: `required_slots` ends the form once it is paused;
    subclasses give their slots in `form_slots` and their pause reply in `paused_response`."""

    paused_response = "utter_anything_else"

    async def form_slots(self, domain_slots: List[Text], tracker: Tracker) -> List[Text]:
        return domain_slots

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Text]:
        if tracker.get_slot(PAUSED):
            return []
        return await self.form_slots(domain_slots, tracker)

    def not_an_answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        accepts: Sequence[str] = ("text",),
        confirming: bool = False,
        optional: bool = False,
        cancel_pauses: bool = True,
    ) -> Optional[Dict[Text, Any]]:
        """The slot values for a message that is not an answer (after replying to it), or None.

        `accepts` names what the current question takes: "text", "file" (a photo or PDF),
        "place" (a location pin). At a yes/no question "না থাক" is a no, and at an optional one
        "ছবি নেই, বাদ দিন" skips it: neither pauses. A form whose mapping lets the cancel intent
        through pauses on it too, unless cancelling is its very question (`cancel_pauses`).
        """
        message = tracker.latest_message
        metadata = message.get("metadata") or {}
        intent = (message.get("intent") or {}).get("name")
        confidence = float((message.get("intent") or {}).get("confidence") or 0)
        typed = typed_text(tracker)
        language = language_of(tracker)
        kind = metadata.get("wa_type")
        if kind in UNREADABLE:
            say(dispatcher, "form_voice_note" if kind == "audio" else "form_unreadable", language)
            return {slot: None}
        if metadata.get("media_path") and "file" not in accepts:
            say(dispatcher, "form_file_not_asked", language)
            return {slot: None}
        if metadata.get("location") and "place" not in accepts:
            say(dispatcher, "form_place_not_asked", language)
            return {slot: None}
        if is_payload(typed):
            return None
        stopping = is_stop(typed) or (cancel_pauses and intent == "cancel")
        if stopping and not (confirming and is_no(typed)) and not (optional and is_skip(typed)):
            dispatcher.utter_message(response=self.paused_response)
            return {slot: None, PAUSED: True}
        if intent in SMALL_TALK and confidence >= 0.8 and len(words(typed)) <= 6:
            dispatcher.utter_message(response=SMALL_TALK[intent])
            return {slot: None}
        return None


def resumed(tracker: Tracker) -> List[Dict[Text, Any]]:
    """Events that clear the pause mark, for the action that runs when a form has ended."""
    return [SlotSet(PAUSED, None)] if tracker.get_slot(PAUSED) else []


def opening_message(tracker: Tracker, form: str) -> Optional[Dict[Text, Any]]:
    """The user message that opened `form` this time, as {text, message_id, metadata, parse_data}:
    the one before the form's activation, or the newest one while the form is being activated."""
    newest, activated = None, False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "active_loop":
            if event.get("name") != form:
                break
            activated = True
        elif kind == "user":
            found = {
                "text": event.get("text") or "",
                "message_id": event.get("message_id"),
                "metadata": event.get("metadata") or {},
                "parse_data": event.get("parse_data") or {},
            }
            if activated:
                return found
            newest = newest or found
    return newest
