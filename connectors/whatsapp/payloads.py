"""The assistant's replies as WhatsApp message payloads, within WhatsApp's limits: pure functions
(no network, no database), which the Graph client and the output channel send.

A reply with options becomes reply buttons, a list, or a numbered text menu, whichever
holds it without losing anything; every menu also travels as `(title, payload)` options,
so that a citizen who types "2", "২" or an option's title instead of tapping is understood.
"""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from panchayat.answers import match_option
from panchayat.catalogue import digits, text as catalogue_text

# Limits of the WhatsApp Cloud API (messages endpoint).
TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
CAPTION_LIMIT = 1024
MAX_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
MAX_LIST_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20
SECTION_TITLE_LIMIT = 24

Option = Tuple[str, str]  # (title shown, payload sent to the dialogue)


@dataclass(frozen=True)
class Outgoing:
    """One message for the messages endpoint: `body` lacks only `messaging_product` and `to`."""

    kind: str  # text, buttons, list, text_menu
    body: Dict[str, Any]
    menu: Optional[List[Option]] = None


def shorten(value: str, limit: int) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def split_text(value: str, limit: int = TEXT_LIMIT) -> List[str]:
    """Pieces of at most `limit` characters, cut at a line break, else a space, else anywhere."""
    value = (value or "").strip()
    pieces = []
    while len(value) > limit:
        window = value[: limit + 1]
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(value[:cut].rstrip())
        value = value[cut:].lstrip()
    if value:
        pieces.append(value)
    return pieces


def text_messages(value: str) -> List[Outgoing]:
    return [
        Outgoing("text", {"type": "text", "text": {"body": piece, "preview_url": False}}) for piece in split_text(value)
    ]


def options_from_buttons(buttons: Iterable[Dict[str, Any]]) -> List[Option]:
    """Rasa buttons (title, payload) as options; a button without a payload answers with its title."""
    options = []
    for button in buttons or []:
        title = " ".join(str(button.get("title") or "").split())
        payload = str(button.get("payload") or title)
        if title or payload:
            options.append((title or payload, payload))
    return options


def menu_messages(body_text: str, buttons: Sequence[Dict[str, Any]], language: str) -> List[Outgoing]:
    """A reply with options, as reply buttons (up to 3 short titles), a list (up to 10) or a numbered menu."""
    options = options_from_buttons(buttons)
    if not options:
        return text_messages(body_text)
    payloads = [payload for _, payload in options]
    distinct = len(set(payloads)) == len(payloads)
    messages: List[Outgoing] = []
    body_text = (body_text or "").strip()
    if distinct and len(options) <= MAX_LIST_ROWS and len(body_text) > INTERACTIVE_BODY_LIMIT:
        # Too long for an interactive body: the text goes first, the menu under a short prompt.
        messages.extend(text_messages(body_text))
        body_text = ""
    body = body_text or catalogue_text("wa_menu_prompt", language)
    if (
        distinct
        and len(options) <= MAX_BUTTONS
        and all(len(title) <= BUTTON_TITLE_LIMIT and len(payload) <= BUTTON_ID_LIMIT for title, payload in options)
    ):
        messages.append(Outgoing("buttons", reply_buttons(body, options), options))
    elif distinct and len(options) <= MAX_LIST_ROWS and all(len(payload) <= ROW_ID_LIMIT for _, payload in options):
        messages.append(Outgoing("list", list_message(body, options, language), options))
    else:
        messages.extend(text_messages_with_menu(numbered_menu(body_text, options, language), options))
    return messages


def reply_buttons(body: str, options: Sequence[Option]) -> Dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": payload, "title": title}} for title, payload in options]
            },
        },
    }


def list_message(body: str, options: Sequence[Option], language: str) -> Dict[str, Any]:
    rows = []
    for title, payload in options:
        row = {"id": payload, "title": shorten(title, ROW_TITLE_LIMIT)}
        if len(title) > ROW_TITLE_LIMIT:
            # The row title is cut; the description shows the whole (or most of the) title.
            row["description"] = shorten(title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": shorten(catalogue_text("wa_list_button", language), LIST_BUTTON_LIMIT),
                "sections": [
                    {"title": shorten(catalogue_text("wa_list_section", language), SECTION_TITLE_LIMIT), "rows": rows}
                ],
            },
        },
    }


def numbered_menu(body_text: str, options: Sequence[Option], language: str) -> str:
    lines = [f"{digits(number, language)}. {title}" for number, (title, _) in enumerate(options, start=1)]
    parts = [body_text] if body_text else []
    parts.append("\n".join(lines))
    parts.append(catalogue_text("wa_menu_hint", language))
    return "\n\n".join(parts)


def text_messages_with_menu(value: str, options: Sequence[Option]) -> List[Outgoing]:
    """A numbered menu as text; the last piece carries the options (the one the citizen answers)."""
    pieces = text_messages(value)
    return pieces[:-1] + [Outgoing("text_menu", pieces[-1].body, list(options))]


def answer_to_menu(typed: str, options: Optional[Sequence[Option]]) -> Optional[str]:
    """The payload a typed answer picks: its number (ASCII or Bengali digits, or a number word) or
    an option's title typed whole, in either script or with a small typo (panchayat.answers)."""
    if not options or not typed:
        return None
    choices = [{"value": payload, "labels": [title, shorten(title, ROW_TITLE_LIMIT)]} for title, payload in options]
    return match_option(typed, choices, allow_contained=False)
