"""The menu: what the assistant can do, each item a button."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language_of, say
from panchayat.catalogue import text

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
    say(
        dispatcher,
        "menu",
        language,
        buttons=[{"title": text(key, language), "payload": payload} for key, payload in MENU],
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
