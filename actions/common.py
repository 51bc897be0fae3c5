"""What every action needs: the reply language, catalogue texts, and the one error funnel around journeys."""

import logging
from typing import Any, Callable, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from panchayat import catalogue
from panchayat.errors import log_failure

logger = logging.getLogger(__name__)


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "bn"


def say(
    dispatcher: CollectingDispatcher, key: str, language: str, buttons: Optional[list] = None, **params: Any
) -> None:
    dispatcher.utter_message(text=catalogue.text(key, language, **params), buttons=buttons or [])


def say_sorry(dispatcher: CollectingDispatcher, language: str, error: Exception) -> None:
    """A failure on our side: log it for the operator, tell the user plainly, leak nothing."""
    log_failure(logger, "action failed", error)
    say(dispatcher, "try_again", language)


# Returned by `run_journey` when the citizen has already been told why the work was not done.
FAILED = object()


async def run_journey(
    dispatcher: CollectingDispatcher, language: str, step: Callable, *args: Any, **kwargs: Any
) -> Any:
    """The one error funnel of the actions: runs a journey's step off the event loop and returns
    its result, or FAILED after telling the citizen why: a PanchayatError's own message (a refused
    date, a wrong rating), else the plain sorry reply (the error goes to the log, never to them)."""
    from panchayat.errors import PanchayatError
    from panchayat.journeys import in_thread

    try:
        return await in_thread(step, *args, **kwargs)
    except PanchayatError as error:
        dispatcher.utter_message(text=error.message(language))
    except Exception as error:
        say_sorry(dispatcher, language, error)
    return FAILED


def send(dispatcher: CollectingDispatcher, replies: Any, language: str) -> None:
    """Sends a journey's replies (one Reply or a list), each with its buttons."""
    from panchayat.journeys import Reply

    for one in [replies] if isinstance(replies, Reply) else replies or []:
        dispatcher.utter_message(
            text=one.text(language), buttons=[{"title": b.title, "payload": b.payload} for b in one.buttons]
        )


def latest_entity(tracker, name: str):
    return next(tracker.get_latest_entity_values(name), None)
