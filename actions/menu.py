"""The menu: what the assistant can do, each item a button."""

from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language_of, say
from panchayat.catalogue import digits, text
from panchayat.services import all_services

# The items after the services: catalogue key of the button title (its line in the menu text is
# the key + "_line"), and the request the item stands for.
FIXED_ITEMS = (
    ("menu_status", "/check_application_status"),
    ("menu_guest_house", "/book_guest_house"),
    ("menu_complaint", "/lodge_grievance"),
    ("menu_office", "/panchayat_info"),
    ("menu_pay", "/get_payslip"),
)


def menu_items(language: str) -> List[Tuple[str, str, str]]:
    """(line, button title, payload) for each item: a service each, from its definition, so a new
    service appears here without code, then the fixed ones."""
    items = [
        (
            text("menu_service_line", language, service=service.title(language)),
            service.button_title(language),
            service.apply_payload,
        )
        for service in all_services().values()
    ]
    items += [(text(f"{key}_line", language), text(key, language), payload) for key, payload in FIXED_ITEMS]
    return items


def show_menu(dispatcher: CollectingDispatcher, language: str) -> None:
    items = menu_items(language)
    lines = "\n".join(
        text("menu_line", language, number=digits(number, language), item=line)
        for number, (line, _title, _payload) in enumerate(items, start=1)
    )
    say(
        dispatcher,
        "menu",
        language,
        lines=lines,
        buttons=[{"title": title, "payload": payload} for _line, title, payload in items],
    )


class ActionShowMenu(Action):
    """What the assistant can do, each item a button (built here: a domain response would read the
    payloads' braces as slot placeholders)."""

    def name(self) -> Text:
        return "action_show_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        show_menu(dispatcher, language_of(tracker))
        return []
