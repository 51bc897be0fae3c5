"""Lodging a complaint in the chat, reading one's own complaints, and rating a resolved one.

A complaint is written step by step into a draft, plain data kept in a dialogue slot so that a
paused complaint resumes where it stopped: its kind (`category`), the problem in the citizen's
words (`description`), a stored photo or "none", a place (a pin or typed words) or "none". Then
the summary is shown, and the citizen submits it or drops it. The draft may also carry
`pending_media`: a photo sent with the very message that asked to complain.
"""

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy.orm import Session

from panchayat import citizens, db, drafts, grievances
from panchayat.answers import is_correction, is_no, is_payload, is_skip, is_yes, match_option, words
from panchayat.bengali import normalize
from panchayat.catalogue import day, digits, localised, text
from panchayat.errors import PanchayatError
from panchayat.identifiers import find_identifiers, parse_grievance_number
from panchayat.journeys import Button, Reply, reply

# The order of the list a citizen picks from (its numbers are answers, so it stays put).
CATEGORIES = ("street_light", "tube_well", "drinking_water", "drainage", "sanitation", "road", "other")
MAX_DESCRIPTION = 1000

# The buttons a question offers: catalogue keys of their titles, and what pressing (or typing)
# one means. The actions read a typed title as its payload and pass it on as `button`.
BUTTONS = {
    "photo": {"grievance_button_no_photo": "/deny"},
    "place": {"grievance_button_skip": "/deny"},
    "confirm": {"grievance_button_submit": "/affirm", "grievance_button_drop": "/deny"},
}

# What villagers call each part of a complaint when they want to change it at the summary.
PARTS = {
    "category": ("category", "kind", "type", "dhoron", "dhoron ta", "ধরন", "বিষয়", "bishoy"),
    "description": ("description", "details", "problem", "somossa", "shomossha", "সমস্যা", "বিবরণ", "lekha", "লেখা"),
    "photo": ("photo", "picture", "pic", "chobi", "chhobi", "ছবি", "ফটো"),
    "place": ("place", "location", "address", "jayga", "jaiga", "জায়গা", "ঠিকানা", "thikana", "লোকেশন"),
}


@dataclass(frozen=True)
class Opening:
    """The message that asked to complain: its words, the kinds of problem understood in it, and
    a photo sent with it."""

    text: str = ""
    categories: Tuple[str, ...] = ()
    media_path: Optional[str] = None


@dataclass(frozen=True)
class Asked:
    """The draft as it now stands, and the question (or the summary) to send."""

    draft: Dict[str, Any]
    replies: List[Reply]


@dataclass(frozen=True)
class Answered:
    """What one answer did: the draft to keep, the replies, and whether the complaint was filed
    (`filed` is then its number) or dropped; either way there is no draft any more."""

    draft: Optional[Dict[str, Any]]
    replies: List[Reply] = field(default_factory=list)
    filed: Optional[str] = None
    dropped: bool = False


# --- reading answers (no database) -------------------------------------------------------


def next_step(draft: Dict) -> str:
    for step in ("category", "description", "photo", "place"):
        if not draft.get(step):
            return step
    return "confirm"


def category_answer(typed: str, categories: Sequence[str] = ()) -> Optional[str]:
    """The category an answer names: by the kinds understood in its words (`categories`), its
    number in the list, or its label."""
    found = grievances.most_specific_category(categories)
    if found:
        return found
    return match_option(
        typed,
        [
            {
                "value": code,
                "labels": [text(f"category_{code}", "en"), text(f"category_{code}", "bn"), code.replace("_", " ")],
            }
            for code in CATEGORIES
        ],
    )


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


def part_to_change(typed: str) -> Optional[str]:
    """The part of the complaint a correction names ("jayga ta bhul", "change the photo"), or None."""
    if not is_correction(typed):
        return None
    found = set(words(typed))
    named = [part for part, names in PARTS.items() if any(set(words(name)) <= found for name in names)]
    return named[0] if len(named) == 1 else None


def new_draft(opening: Opening) -> Dict[str, Any]:
    """What the message that asked to complain already says: the kind, the problem, even a photo
    (kept as `pending_media` until it is checked)."""
    draft: Dict[str, Any] = {"started": True}
    category = grievances.most_specific_category(opening.categories)
    if category:
        draft["category"] = category
        if describes_a_problem(opening.text):
            draft["description"] = opening.text.strip()[:MAX_DESCRIPTION]
    if opening.media_path:
        draft["pending_media"] = opening.media_path
    return draft


def category_buttons(language: str) -> Tuple[Button, ...]:
    return tuple(
        Button(text(f"category_{code}", language), f'/inform{{"grievance_category": "{code}"}}') for code in CATEGORIES
    )


def _buttons(step: str, language: str) -> Tuple[Button, ...]:
    return tuple(Button(text(key, language), payload) for key, payload in BUTTONS[step].items())


def _told(error: PanchayatError) -> Reply:
    """A refusal the flow goes on after (a file that is no photo), as a reply instead of an error."""
    return Reply(f"error_{error.key}", dict(error.params))


# --- the complaint form --------------------------------------------------------------------


def ask(sender: str, draft: Optional[Dict], language: str, opening: Optional[Opening] = None) -> Asked:
    """The question for whatever the complaint still needs, or its summary to confirm. Without a
    draft a new complaint begins from the `opening` message; a photo sent with it is checked now
    (a refused file is explained, and the photo asked for as usual)."""
    replies: List[Reply] = []
    if not draft:
        draft = new_draft(opening or Opening())
        pending = draft.pop("pending_media", None)
        if pending and draft.get("category"):
            try:
                draft["photo"] = drafts.store_document(pending)
            except PanchayatError as error:
                replies.append(_told(error))
    step = next_step(draft)
    if step == "category":
        replies.append(reply("grievance_ask_category", category_buttons(language)))
    elif step == "description":
        replies.append(reply("grievance_ask_description", category=text(f"category_{draft['category']}", language)))
    elif step == "photo":
        replies.append(reply("grievance_ask_photo", _buttons("photo", language)))
    elif step == "place":
        replies.append(reply("grievance_ask_place", _buttons("place", language)))
    else:
        replies.append(_summary(draft, _gram_panchayat_name(sender, language), language))
    return Asked(draft, replies)


def answer(
    sender: str,
    draft: Dict,
    typed: str,
    language: str,
    intent: Optional[str] = None,
    button: Optional[str] = None,
    categories: Sequence[str] = (),
    metadata: Optional[Dict] = None,
) -> Answered:
    """Reads the citizen's answer to the complaint's current question.

    `intent` is what the message was understood as ("affirm", "deny", ...), `button` the payload of
    the question's button that was pressed or whose title was typed, `categories` the kinds of
    problem understood in the words, `metadata` the channel's (an uploaded photo's `media_path`, a
    `location` pin). At the summary a yes files the complaint: a PanchayatError then (no GP on
    record, say) is raised with nothing written, and the draft stays as it was.
    """
    draft = dict(draft)
    metadata = metadata or {}
    step = next_step(draft)
    declined = intent in ("deny", "cancel") or typed == "/deny" or is_skip(typed) or is_no(typed)
    changing = part_to_change(typed)
    if changing and step != "category":
        draft.pop(changing, None)
        return Answered(draft, [reply("grievance_changing")])
    if step == "category":
        category = category_answer(typed, categories)
        if category is None:
            return Answered(draft, [reply("grievance_bad_category", category_buttons(language))])
        draft["category"] = category
        if categories and describes_a_problem(typed):
            draft["description"] = typed.strip()[:MAX_DESCRIPTION]
        return Answered(draft)
    if step == "description":
        if is_payload(typed) or len(typed.strip()) < 3:
            return Answered(draft, [reply("grievance_description_short")])
        draft["description"] = typed.strip()[:MAX_DESCRIPTION]
        return Answered(draft)
    if step == "photo":
        media = metadata.get("media_path") or (typed if drafts.looks_like_a_file(typed) else None)
        if media:
            try:
                draft["photo"] = drafts.store_document(media)
            except PanchayatError as error:
                return Answered(draft, [_told(error)])
            return Answered(draft, [reply("grievance_photo_received")])
        if declined or button:
            draft["photo"] = "none"
            return Answered(draft)
        return Answered(draft, [reply("grievance_photo_expected")])
    if step == "place":
        place = place_of(metadata, typed)
        skipped = declined or bool(button)
        # A pin sent with "skip" typed under it is still a place; typed words that say skip are not.
        if place and not (skipped and "location" not in metadata):
            draft["place"] = place
        elif skipped:
            draft["place"] = "none"
        else:
            return Answered(draft, [reply("grievance_place_short")])
        return Answered(draft)
    if intent == "affirm" or button == "/affirm" or is_yes(typed):
        number = _lodge(sender, draft)
        return Answered(None, [reply("grievance_done", number=number)], filed=number)
    if intent in ("deny", "cancel") or button == "/deny" or is_no(typed):
        return Answered(None, [reply("grievance_dropped")], dropped=True)
    return Answered(draft, [reply("grievance_confirm_expected")])


@db.transaction
def _lodge(session: Session, sender: str, draft: Dict) -> str:
    citizen = citizens.get_or_create(session, sender)
    place = draft["place"] if isinstance(draft.get("place"), dict) else {}
    grievance = grievances.lodge(
        session,
        citizen,
        draft["category"],
        draft["description"],
        location_text=place.get("text"),
        latitude=place.get("latitude"),
        longitude=place.get("longitude"),
        photo=draft["photo"] if isinstance(draft.get("photo"), dict) else None,
    )
    return grievance.number


@db.transaction
def _gram_panchayat_name(session: Session, sender: str, language: str) -> str:
    """The name of the GP the complaint will go to: the citizen's own."""
    gp = citizens.get_or_create(session, sender).gram_panchayat
    return localised(gp.name_en, gp.name_bn or gp.name_en, language) if gp is not None else "-"


def _summary(draft: Dict, gram_panchayat: str, language: str) -> Reply:
    place = draft["place"]
    if not isinstance(place, dict):
        where = text("grievance_summary_none", language)
    elif place.get("latitude") is not None:
        where = text(
            "grievance_summary_pin",
            language,
            latitude=digits(f"{place['latitude']:.5f}", language),
            longitude=digits(f"{place['longitude']:.5f}", language),
        )
        where = f"{place['text']}, {where}" if place.get("text") else where
    else:
        where = place["text"]
    photo = text(
        "grievance_summary_photo_yes" if isinstance(draft["photo"], dict) else "grievance_summary_none", language
    )
    return reply(
        "grievance_summary",
        _buttons("confirm", language),
        category=text(f"category_{draft['category']}", language),
        description=draft["description"],
        photo=photo,
        place=where,
        gram_panchayat=gram_panchayat,
    )


# --- the citizen's own complaints ------------------------------------------------------------


def status_reply(grievance, language: str) -> Reply:
    """All about one complaint: its kind, date and state, the panchayat's note, and the rating
    prompt while a resolved one waits for its rating."""
    note = (
        text("grievance_resolution_note", language, note=grievance.resolution_note) if grievance.resolution_note else ""
    )
    if grievance.status == "resolved" and grievance.rating is None:
        note += text("grievance_rate_prompt", language)
    return reply(
        "grievance_status",
        number=grievance.number,
        category=text(f"category_{grievance.category}", language),
        date=day(grievance.created_at, language),
        status=text(f"status_{grievance.status}", language),
        note=note,
    )


def list_replies(own: list, language: str) -> List[Reply]:
    """The citizen's complaints, a line each."""
    lines = "\n".join(
        text(
            "my_grievance_line",
            language,
            number=g.number,
            category=text(f"category_{g.category}", language),
            status=text(f"status_{g.status}", language),
        )
        for g in own
    )
    return [reply("my_grievances", lines=lines)]


# --- rating a resolved complaint -------------------------------------------------------------


@db.transaction
def rate(session: Session, sender: str, typed: str, number: Optional[str], language: str) -> List[Reply]:
    """Stores the citizen's 1-5 rating in `typed` for their resolved complaint: the one `number`
    names (else the one `typed` names), else the newest one still unrated. Raises PanchayatError
    for a rating outside 1-5 or a complaint rated already; nothing is written then."""
    number = number or parse_grievance_number(typed)
    # The figures of any number written in the message, however loosely ("gr 2026 17",
    # "জিআর ২০২৬ ১৭"), are no rating: only what is left is read.
    rest = typed
    for start, end, _value in reversed(find_identifiers(typed)):
        rest = rest[:start] + " " + rest[end:]
    figures = re.findall(r"\d+", normalize(rest))
    rating = int(figures[-1]) if figures else None
    citizen = citizens.get_or_create(session, sender)
    grievance = (
        grievances.find_own(session, number, citizen) if number else grievances.awaiting_rating(session, citizen)
    )
    if grievance is None:
        return [reply("grievance_nothing_to_rate")]
    if rating is None or not 1 <= rating <= 5:
        raise PanchayatError("bad_rating")
    grievances.rate(session, grievance, citizen, rating)
    return [thanks_for_rating(grievance.number, rating, language)]


def thanks_for_rating(number: str, rating: int, language: str) -> Reply:
    return reply("grievance_rated", number=number, rating=digits(rating, language))
