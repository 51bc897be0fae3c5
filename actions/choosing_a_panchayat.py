"""Who is writing: reply language, privacy notice, language choice, and the citizen's gram panchayat.

The decisions are the core's (panchayat.journeys.choosing_a_panchayat); here they become slots,
and the question for the GP is asked by any form that needs it (`AsksGramPanchayat`)."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FAILED, language_of, run_journey, say, send
from actions.forms import PausableForm, typed_text
from panchayat.journeys import choosing_a_panchayat as journey


class ActionIdentifyCitizen(Action):
    """Runs after every user message (custom slot mapping): reply language and whether the GP is known."""

    def name(self) -> Text:
        return "action_identify_citizen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        identity = await run_journey(
            dispatcher,
            language_of(tracker),
            journey.identify,
            tracker.sender_id,
            typed_text(tracker),
            tracker.get_slot("language"),
        )
        if identity is FAILED:
            return []
        return [SlotSet("language", identity.language), SlotSet("gp_known", identity.gp_known)]


class ActionSessionStart(Action):
    """Starts a conversation session: slots carry over, and at first contact (or when the notice
    changed) the privacy notice comes before anything else."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        notice = await run_journey(dispatcher, language_of(tracker), journey.privacy_notice, tracker.sender_id)
        if notice and notice is not FAILED:
            dispatcher.utter_message(text=notice)
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name != "requested_slot"
        ]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]


class ActionChangeLanguage(Action):
    def name(self) -> Text:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        current = language_of(tracker)
        choice = await run_journey(
            dispatcher,
            current,
            journey.change_language,
            tracker.sender_id,
            next(tracker.get_latest_entity_values("language"), None),
        )
        if choice is FAILED:
            return []
        send(dispatcher, choice.replies, choice.language or current)
        return [SlotSet("language", choice.language)] if choice.language else []


async def choose_gram_panchayat(dispatcher: CollectingDispatcher, tracker: Tracker, typed: str) -> Optional[int]:
    """Finds and remembers the GP the citizen named, saying what was found; its LGD code when
    exactly one GP matched, else None (a list to choose from or a question was sent)."""
    language = language_of(tracker)
    choice = await run_journey(
        dispatcher,
        language,
        journey.choose_gram_panchayat,
        tracker.sender_id,
        typed,
        tracker.latest_message.get("text") or "",
        language,
    )
    if choice is FAILED:
        return None
    send(dispatcher, choice.replies, language)
    return choice.gp_code


def typed_gram_panchayat(tracker: Tracker) -> str:
    """What names the place: a GP entity, else a block or district entity, else the text."""
    for entity in ("gram_panchayat", "block", "district"):
        value = next(tracker.get_latest_entity_values(entity), None)
        if value:
            return str(value)
    return tracker.latest_message.get("text") or ""


class ActionSetPanchayat(Action):
    """The citizen names their gram panchayat outside any question."""

    def name(self) -> Text:
        return "action_set_panchayat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        code = await choose_gram_panchayat(dispatcher, tracker, typed_gram_panchayat(tracker))
        return [SlotSet("gp_known", True)] if code is not None else []


class ActionAskGpName(Action):
    def name(self) -> Text:
        return "action_ask_gp_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say(dispatcher, "gp_ask", language_of(tracker))
        return []


class AsksGramPanchayat(PausableForm):
    """For form validators whose form asks `gp_name` of a citizen with no GP on record."""

    async def validate_gp_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        interrupted = self.not_an_answer(dispatcher, tracker, "gp_name")
        if interrupted is not None:
            return interrupted
        typed = str(slot_value or "")
        if typed.startswith("/"):  # a button's payload: the entity holds the GP's code
            typed = typed_gram_panchayat(tracker)
        code = await choose_gram_panchayat(dispatcher, tracker, typed)
        if code is None:
            return {"gp_name": None}
        return {"gp_name": str(code), "gp_known": True}


class ValidateGpForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_gp_paused"

    def name(self) -> Text:
        return "validate_gp_form"
