"""Who is writing: reply language, language choice, and the citizen's gram panchayat."""
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language_of, say, say_sorry, with_session
from actions.forms import PausableForm
from panchayat import catalogue, citizens, config
from panchayat.catalogue import localised, text
from panchayat.directory import (
    gp_profile,
    gram_panchayats_of_block,
    iter_blocks_of,
    match_unit,
    resolve_gram_panchayat,
)
from panchayat.language import conversation_language

logger = logging.getLogger(__name__)


class ActionIdentifyCitizen(Action):
    """Runs after every user message (custom slot mapping): reply language and whether the GP is known."""

    def name(self) -> Text:
        return "action_identify_citizen"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message
        # A typed button title reaches us as the button's payload; its words are in the metadata.
        text = (message.get("metadata") or {}).get("typed") or message.get("text") or ""

        def decide(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            return citizens.reply_language(session, citizen, text), citizen.gp_code is not None

        try:
            language, gp_known = await with_session(decide)
        except Exception:  # the database is down: still answer in the conversation's language
            language = conversation_language(tracker.get_slot("language"), text) or "bn"
            gp_known = False
        return [SlotSet("language", language), SlotSet("gp_known", gp_known)]


class ActionSessionStart(Action):
    """Starts a conversation session: slots carry over, and at first contact (or when the notice
    changed) the privacy notice comes before anything else (DPDP Act), in both languages because
    the citizen's language is not known yet."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        def notice_due(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            return citizens.privacy_notice_due(session, citizen, citizen.language or "bn")

        try:
            due = await with_session(notice_due)
        except Exception as error:  # the database is down: the notice waits for the next session
            logger.warning("privacy notice not checked: %s", type(error).__name__)
            due = False
        if due:
            dispatcher.utter_message(text="\n\n".join(
                text("privacy_notice", language, days=catalogue.digits(config.CONVERSATION_RETENTION_DAYS, language))
                for language in ("bn", "en")))
        carried = [SlotSet(name, value) for name, value in tracker.current_slot_values().items()
                   if value is not None and name != "requested_slot"]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]


class ActionChangeLanguage(Action):
    def name(self) -> Text:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        wanted = next(tracker.get_latest_entity_values("language"), None)
        current = language_of(tracker)
        if wanted not in ("bn", "en"):
            # No language named: offer both, each in its own words.
            say(dispatcher, "language_ask", current, buttons=[
                {"title": "বাংলা", "payload": '/change_language{"language": "bn"}'},
                {"title": "English", "payload": '/change_language{"language": "en"}'},
            ])
            return []

        def remember(session):
            citizens.choose_language(session, citizens.get_or_create(session, tracker.sender_id), wanted)

        try:
            await with_session(remember)
        except Exception as error:
            say_sorry(dispatcher, current, error)
            return []
        say(dispatcher, "language_changed", wanted)
        return [SlotSet("language", wanted)]


def gp_names(profile: Dict, language: str) -> Dict[str, str]:
    return {
        "gp": localised(profile["name"]["en"], profile["name"]["bn"], language),
        "block": localised(profile["block"]["en"], profile["block"]["bn"], language),
        "district": localised(profile["district"]["en"], profile["district"]["bn"], language),
    }


async def choose_gram_panchayat(dispatcher: CollectingDispatcher, tracker: Tracker,
                                typed: str) -> Optional[Dict]:
    """Finds the GP the citizen named and remembers it. A district or block name gets the
    short list of its blocks or GPs to choose from; an ambiguous name gets a question.

    Returns the GP's profile when exactly one matched, else None.
    """
    language = language_of(tracker)

    def resolve(session):
        matches = resolve_gram_panchayat(session, typed)
        whole = (tracker.latest_message.get("text") or "").strip()
        if len(matches) != 1 and whole and whole != typed and not whole.startswith("/"):
            # The understood span may be shorter than what was typed ("Bagula" of "Bagula 1").
            exact = resolve_gram_panchayat(session, whole)
            matches = exact if len(exact) == 1 else matches
        if len(matches) == 1:
            citizens.set_gram_panchayat(session, citizens.get_or_create(session, tracker.sender_id), matches[0])
        if matches:
            return "gp", [gp_profile(gp) for gp in matches]
        unit = match_unit(session, typed)
        if unit is None:
            return "none", []
        kind, found = unit
        if kind == "district":
            return "district", [{"code": b.lgd_code, "name": {"en": b.name_en, "bn": b.name_bn or b.name_en}}
                                for b in iter_blocks_of(session, found.lgd_code)]
        return "block", [gp_profile(gp) for gp in gram_panchayats_of_block(session, found.lgd_code)]

    try:
        kind, found = await with_session(resolve)
    except Exception as error:
        say_sorry(dispatcher, language, error)
        return None
    if kind == "district":
        buttons = [{"title": localised(b["name"]["en"], b["name"]["bn"], language),
                    "payload": f'/inform_panchayat{{"block": "{b["code"]}"}}'} for b in found]
        say(dispatcher, "gp_pick_block", language, buttons=buttons)
        return None
    if kind == "block" and not found:
        say(dispatcher, "gp_none_in_block", language)
        return None
    if not found:
        say(dispatcher, "gp_not_found", language, typed=typed.strip()[:60])
        return None
    if len(found) > 1:
        buttons = [{"title": text("gp_choice", language, **gp_names(p, language)),
                    "payload": f'/inform_panchayat{{"gram_panchayat": "{p["code"]}"}}'}
                   for p in found]
        say(dispatcher, "gp_ambiguous" if kind == "gp" else "gp_pick_gp", language, buttons=buttons)
        return None
    if kind == "block":  # a block with a single GP: still let the citizen confirm it
        say(dispatcher, "gp_pick_gp", language, buttons=[
            {"title": text("gp_choice", language, **gp_names(found[0], language)),
             "payload": f'/inform_panchayat{{"gram_panchayat": "{found[0]["code"]}"}}'}])
        return None
    say(dispatcher, "gp_saved", language, **gp_names(found[0], language))
    return found[0]


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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        profile = await choose_gram_panchayat(dispatcher, tracker, typed_gram_panchayat(tracker))
        return [SlotSet("gp_known", True)] if profile else []


class ActionAskGpName(Action):
    def name(self) -> Text:
        return "action_ask_gp_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, "gp_ask", language_of(tracker))
        return []


class AsksGramPanchayat:
    """For form validators (PausableForm) whose form asks `gp_name` of a citizen with no GP on record."""

    async def validate_gp_name(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: Dict[Text, Any]) -> Dict[Text, Any]:
        interrupted = self.not_an_answer(dispatcher, tracker, "gp_name")
        if interrupted is not None:
            return interrupted
        typed = str(slot_value or "")
        if typed.startswith("/"):  # a button's payload: the entity holds the GP's code
            typed = typed_gram_panchayat(tracker)
        profile = await choose_gram_panchayat(dispatcher, tracker, typed)
        if profile is None:
            return {"gp_name": None}
        return {"gp_name": str(profile["code"]), "gp_known": True}


class ValidateGpForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_gp_paused"

    def name(self) -> Text:
        return "validate_gp_form"
