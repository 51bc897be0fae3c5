"""Complaints in the chat: the complaint form's slots, and the actions that show and rate complaints.
What each answer means, and what is filed, is panchayat.journeys.complaining."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.choosing_a_panchayat import AsksGramPanchayat
from actions.common import FAILED, language_of, latest_entity, run_journey, send
from actions.forms import PAUSED, PausableForm, pressed, resumed
from panchayat.journeys import complaining


def categories_in(message: Dict) -> List[str]:
    """The kinds of problem the NLU understood in a message."""
    return [e.get("value") for e in message.get("entities") or [] if e.get("entity") == "grievance_category"]


def opening_of(tracker: Tracker) -> complaining.Opening:
    """The message that asked to complain; the GP may have been asked in between."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == "lodge_grievance":
            return complaining.Opening(
                event.get("text") or "", tuple(categories_in(parse)), (event.get("metadata") or {}).get("media_path")
            )
    return complaining.Opening()


class ValidateGrievanceForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_grievance_paused"

    def name(self) -> Text:
        return "validate_grievance_form"

    async def form_slots(self, domain_slots: List[Text], tracker: Tracker) -> List[Text]:
        return (["gp_name"] if not tracker.get_slot("gp_known") else []) + ["grievance_answer"]

    async def validate_grievance_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("grievance_draft") or complaining.new_draft(opening_of(tracker)))
        typed = str(slot_value or "")
        message = tracker.latest_message
        step = complaining.next_step(draft)
        accepts = {"photo": ("text", "file"), "place": ("text", "place")}.get(step, ("text",))
        interrupted = self.not_an_answer(
            dispatcher,
            tracker,
            "grievance_answer",
            accepts=accepts,
            confirming=step in ("confirm", "photo", "place"),
            optional=step in ("photo", "place"),
        )
        if interrupted is not None:
            return dict(interrupted, grievance_draft=draft)
        button: Optional[str] = pressed(typed, complaining.BUTTONS[step]) if step in complaining.BUTTONS else None
        answered = await run_journey(
            dispatcher,
            language,
            complaining.answer,
            tracker.sender_id,
            draft,
            typed,
            language,
            intent=(message.get("intent") or {}).get("name"),
            button=button,
            categories=categories_in(message),
            metadata=message.get("metadata") or {},
        )
        if answered is FAILED:  # the citizen was told why; the draft stays as it was, to answer again
            return {"grievance_answer": None, "grievance_draft": draft}
        send(dispatcher, answered.replies, language)
        if answered.filed:
            return {"grievance_answer": answered.filed, "grievance_draft": None}
        if answered.dropped:
            return {"grievance_answer": "dropped", "grievance_draft": None}
        return {"grievance_answer": None, "grievance_draft": answered.draft}


class ActionAskGrievanceAnswer(Action):
    """Asks for whatever the complaint still needs, or shows the summary to confirm."""

    def name(self) -> Text:
        return "action_ask_grievance_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        draft = tracker.get_slot("grievance_draft")
        opening = None if draft else opening_of(tracker)
        asked = await run_journey(dispatcher, language, complaining.ask, tracker.sender_id, draft, language, opening)
        if asked is FAILED:
            return []
        send(dispatcher, asked.replies, language)
        return [] if draft else [SlotSet("grievance_draft", asked.draft)]


class ActionFinishGrievance(Action):
    def name(self) -> Text:
        return "action_finish_grievance"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot(PAUSED):  # paused: what was written stays for when the citizen comes back
            return [SlotSet("grievance_answer", None), *resumed(tracker)]
        return [SlotSet("grievance_answer", None), SlotSet("grievance_draft", None)]


class ActionRateGrievance(Action):
    """Stores the citizen's 1-5 rating of a resolved complaint (the one named, else the latest unrated)."""

    def name(self) -> Text:
        return "action_rate_grievance"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        typed = tracker.latest_message.get("text") or ""
        replies = await run_journey(
            dispatcher,
            language,
            complaining.rate,
            tracker.sender_id,
            typed,
            latest_entity(tracker, "grievance_number"),
            language,
        )
        if replies is not FAILED:
            send(dispatcher, replies, language)
        return []
