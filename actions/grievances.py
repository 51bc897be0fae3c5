"""Complaints: lodging one in the chat (kind, problem, photo, place), its status, and rating the resolution."""
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.citizen import AsksGramPanchayat, gp_names
from actions.forms import PAUSED, PausableForm, pressed, resumed
from actions.common import (FAILED, CitizenRecordsAction, attempt, day, in_executor, language_of, say, say_sorry,
                            with_session)
from panchayat import citizens, drafts, grievances
from panchayat.bengali import normalize
from panchayat.catalogue import digits, text
from panchayat.directory import gp_profile
from panchayat.errors import PanchayatError
from panchayat.identifiers import parse_identifier
from panchayat.answers import is_correction, is_no, is_payload, is_skip, is_yes, match_option, words

# The order of the list a citizen picks from (its numbers are answers, so it stays put).
CATEGORIES = ("street_light", "tube_well", "drinking_water", "drainage", "sanitation", "road", "other")
MAX_DESCRIPTION = 1000


def describe(grievance, language: str) -> str:
    note = (text("grievance_resolution_note", language, note=grievance.resolution_note)
            if grievance.resolution_note else "")
    if grievance.status == "resolved" and grievance.rating is None:
        note += text("grievance_rate_prompt", language)
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


# --- lodging a complaint ---------------------------------------------------------------

def next_step(draft: Dict) -> str:
    for step in ("category", "description", "photo", "place"):
        if not draft.get(step):
            return step
    return "confirm"


def categories_in(message: Dict) -> List[str]:
    return [e.get("value") for e in message.get("entities") or [] if e.get("entity") == "grievance_category"]


def category_answer(typed: str, message: Dict) -> Optional[str]:
    """The category an answer names: by the understood words, its number in the list, or its label."""
    found = grievances.most_specific_category(categories_in(message))
    if found:
        return found
    return match_option(typed, [{"value": code, "labels": [text(f"category_{code}", "en"),
                                                            text(f"category_{code}", "bn"), code.replace("_", " ")]}
                                 for code in CATEGORIES])


def describes_a_problem(typed: str) -> bool:
    """Whether a message says more than "I have a complaint": then it is kept as the description."""
    return len(re.findall(r"[\w\u0980-\u09ff]+", typed or "")) >= 3 and not typed.startswith("/")


def place_of(metadata: Dict, typed: str) -> Optional[Dict]:
    """A WhatsApp location pin from the channel's metadata, or a typed place."""
    pin = metadata.get("location") or {}
    if pin.get("latitude") is not None and pin.get("longitude") is not None:
        label = " ".join(str(pin.get(k) or "") for k in ("name", "address")).strip()
        return {"latitude": float(pin["latitude"]), "longitude": float(pin["longitude"]), "text": label or None}
    typed = (typed or "").strip()
    if typed.startswith("/") or len(typed) < 3:
        return None
    return {"text": typed[:300]}


def category_buttons(language: str) -> List[Dict]:
    return [{"title": text(f"category_{code}", language),
             "payload": f'/inform{{"grievance_category": "{code}"}}'} for code in CATEGORIES]


def start_draft(tracker: Tracker) -> Dict:
    """What the message that asked to complain already says: the kind, the problem, even a photo."""
    draft: Dict[str, Any] = {"started": True}
    # The message that opened the form; the GP may have been asked in between.
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == "lodge_grievance":
            category = grievances.most_specific_category(categories_in(parse))
            typed = event.get("text") or ""
            if category:
                draft["category"] = category
                if describes_a_problem(typed):
                    draft["description"] = typed.strip()[:MAX_DESCRIPTION]
            media = (event.get("metadata") or {}).get("media_path")
            if media:
                draft["pending_media"] = media
            break
    return draft


# The summary's buttons: catalogue keys of their titles, and what pressing (or typing) one means.
SUMMARY_BUTTONS = {"grievance_button_submit": "/affirm", "grievance_button_drop": "/deny"}

# What villagers call each part of a complaint when they want to change it at the summary.
PARTS = {
    "category": ("category", "kind", "type", "dhoron", "dhoron ta", "ধরন", "বিষয়", "bishoy"),
    "description": ("description", "details", "problem", "somossa", "shomossha", "সমস্যা", "বিবরণ", "lekha", "লেখা"),
    "photo": ("photo", "picture", "pic", "chobi", "chhobi", "ছবি", "ফটো"),
    "place": ("place", "location", "address", "jayga", "jaiga", "জায়গা", "ঠিকানা", "thikana", "লোকেশন"),
}


def part_to_change(typed: str) -> Optional[str]:
    """The part of the complaint a correction names ("jayga ta bhul", "change the photo"), or None."""
    if not is_correction(typed):
        return None
    found = set(words(typed))
    named = [part for part, names in PARTS.items() if any(set(words(name)) <= found for name in names)]
    return named[0] if len(named) == 1 else None


class ValidateGrievanceForm(AsksGramPanchayat, PausableForm, FormValidationAction):
    paused_response = "utter_grievance_paused"

    def name(self) -> Text:
        return "validate_grievance_form"

    async def form_slots(self, domain_slots: List[Text], tracker: Tracker) -> List[Text]:
        return (["gp_name"] if not tracker.get_slot("gp_known") else []) + ["grievance_answer"]

    async def validate_grievance_answer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: Dict[Text, Any]) -> Dict[Text, Any]:
        language = language_of(tracker)
        draft = dict(tracker.get_slot("grievance_draft") or start_draft(tracker))
        typed = str(slot_value or "")
        message = tracker.latest_message
        metadata = message.get("metadata") or {}
        intent = (message.get("intent") or {}).get("name")
        step = next_step(draft)
        accepts = {"photo": ("text", "file"), "place": ("text", "place")}.get(step, ("text",))
        interrupted = self.not_an_answer(dispatcher, tracker, "grievance_answer", accepts=accepts,
                                         confirming=step in ("confirm", "photo", "place"),
                                         optional=step in ("photo", "place"))
        if interrupted is not None:
            return dict(interrupted, grievance_draft=draft)
        declined = intent in ("deny", "cancel") or typed == "/deny" or is_skip(typed) or is_no(typed)
        changing = part_to_change(typed)
        if changing and step != "category":
            draft.pop(changing, None)
            say(dispatcher, "grievance_changing", language)
            return {"grievance_answer": None, "grievance_draft": draft}
        if step == "category":
            category = category_answer(typed, message)
            if category is None:
                say(dispatcher, "grievance_bad_category", language, buttons=category_buttons(language))
            else:
                draft["category"] = category
                if categories_in(message) and describes_a_problem(typed):
                    draft["description"] = typed.strip()[:MAX_DESCRIPTION]
        elif step == "description":
            if is_payload(typed) or len(typed.strip()) < 3:
                say(dispatcher, "grievance_description_short", language)
            else:
                draft["description"] = typed.strip()[:MAX_DESCRIPTION]
        elif step == "photo":
            media = metadata.get("media_path") or (typed if drafts.looks_like_a_file(typed) else None)
            if media:
                try:
                    draft["photo"] = await in_executor(drafts.store_document, media)
                    say(dispatcher, "grievance_photo_received", language)
                except PanchayatError as error:
                    dispatcher.utter_message(text=error.message(language))
            elif declined or pressed(typed, {"grievance_button_no_photo": "/deny"}):
                draft["photo"] = "none"
            else:
                say(dispatcher, "grievance_photo_expected", language)
        elif step == "place":
            place = place_of(metadata, typed)
            skipped = declined or pressed(typed, {"grievance_button_skip": "/deny"})
            if place and not (skipped and "location" not in metadata):
                draft["place"] = place
            elif declined or pressed(typed, {"grievance_button_skip": "/deny"}):
                draft["place"] = "none"
            else:
                say(dispatcher, "grievance_place_short", language)
        elif intent == "affirm" or pressed(typed, SUMMARY_BUTTONS) == "/affirm" or is_yes(typed):
            return await self.lodge(dispatcher, tracker, draft, language)
        elif intent in ("deny", "cancel") or pressed(typed, SUMMARY_BUTTONS) == "/deny" or is_no(typed):
            say(dispatcher, "grievance_dropped", language)
            return {"grievance_answer": "dropped", "grievance_draft": None}
        else:
            say(dispatcher, "grievance_confirm_expected", language)
        return {"grievance_answer": None, "grievance_draft": draft}

    async def lodge(self, dispatcher: CollectingDispatcher, tracker: Tracker, draft: Dict,
                    language: str) -> Dict[Text, Any]:
        place = draft["place"] if isinstance(draft.get("place"), dict) else {}

        def file_it(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            grievance = grievances.lodge(
                session, citizen, draft["category"], draft["description"],
                location_text=place.get("text"), latitude=place.get("latitude"), longitude=place.get("longitude"),
                photo=draft["photo"] if isinstance(draft.get("photo"), dict) else None)
            return grievance.number

        try:
            number = await with_session(file_it)
        except PanchayatError as error:
            dispatcher.utter_message(text=error.message(language))
            return {"grievance_answer": None, "grievance_draft": draft}
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return {"grievance_answer": None, "grievance_draft": draft}
        say(dispatcher, "grievance_done", language, number=number)
        return {"grievance_answer": number, "grievance_draft": None}


class ActionAskGrievanceAnswer(Action):
    """Asks for whatever the complaint still needs, or shows the summary to confirm."""

    def name(self) -> Text:
        return "action_ask_grievance_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        draft = tracker.get_slot("grievance_draft")
        events: List[Dict[Text, Any]] = []
        if not draft:
            draft = start_draft(tracker)
            pending = draft.pop("pending_media", None)
            if pending and draft.get("category"):
                try:
                    draft["photo"] = await in_executor(drafts.store_document, pending)
                except PanchayatError as error:
                    dispatcher.utter_message(text=error.message(language))
            events.append(SlotSet("grievance_draft", draft))
        step = next_step(draft)
        if step == "category":
            say(dispatcher, "grievance_ask_category", language, buttons=category_buttons(language))
        elif step == "description":
            say(dispatcher, "grievance_ask_description", language,
                category=text(f"category_{draft['category']}", language))
        elif step == "photo":
            say(dispatcher, "grievance_ask_photo", language, buttons=[
                {"title": text("grievance_button_no_photo", language), "payload": "/deny"}])
        elif step == "place":
            say(dispatcher, "grievance_ask_place", language, buttons=[
                {"title": text("grievance_button_skip", language), "payload": "/deny"}])
        else:
            await self.summarise(dispatcher, tracker, draft, language)
        return events

    async def summarise(self, dispatcher: CollectingDispatcher, tracker: Tracker, draft: Dict,
                        language: str) -> None:
        def gram_panchayat(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            return gp_names(gp_profile(citizen.gram_panchayat), language)["gp"] if citizen.gram_panchayat else "-"

        try:
            gp_name = await with_session(gram_panchayat)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return
        place = draft["place"]
        if not isinstance(place, dict):
            where = text("grievance_summary_none", language)
        elif place.get("latitude") is not None:
            where = text("grievance_summary_pin", language, latitude=digits(f"{place['latitude']:.5f}", language),
                         longitude=digits(f"{place['longitude']:.5f}", language))
            where = f"{place['text']}, {where}" if place.get("text") else where
        else:
            where = place["text"]
        photo = text("grievance_summary_photo_yes" if isinstance(draft["photo"], dict) else
                     "grievance_summary_none", language)
        say(dispatcher, "grievance_summary", language, category=text(f"category_{draft['category']}", language),
            description=draft["description"], photo=photo, place=where, gram_panchayat=gp_name, buttons=[
                {"title": text(key, language), "payload": payload} for key, payload in SUMMARY_BUTTONS.items()])


class ActionFinishGrievance(Action):
    def name(self) -> Text:
        return "action_finish_grievance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot(PAUSED):  # paused: what was written stays for when the citizen comes back
            return [SlotSet("grievance_answer", None), *resumed(tracker)]
        return [SlotSet("grievance_answer", None), SlotSet("grievance_draft", None)]


class ActionRateGrievance(Action):
    """Stores the citizen's 1-5 rating of a resolved complaint (the one named, else the latest unrated)."""

    def name(self) -> Text:
        return "action_rate_grievance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        typed = tracker.latest_message.get("text") or ""
        number = (next(tracker.get_latest_entity_values("grievance_number"), None)
                  or parse_identifier(typed, ("GR",)))
        rest = typed.replace(number, " ") if number else typed
        figures = re.findall(r"\d+", normalize(re.sub(r"(?i)\bgr\W*\d{4}\W*\d+", " ", rest)))
        rating = int(figures[-1]) if figures else None

        def rate(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            grievance = (grievances.find_own(session, number, citizen) if number
                         else grievances.awaiting_rating(session, citizen))
            if grievance is None:
                return None
            if rating is None or not 1 <= rating <= 5:
                raise PanchayatError("bad_rating")
            grievances.rate(session, grievance, citizen, rating)
            return grievance.number

        rated = await attempt(dispatcher, language, rate)
        if rated is FAILED:
            return []
        if rated is None:
            say(dispatcher, "grievance_nothing_to_rate", language)
        else:
            say(dispatcher, "grievance_rated", language, number=rated, rating=digits(rating, language))
        return []
