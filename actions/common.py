"""What every action needs: the reply language, the database off the event loop, catalogue texts."""
import asyncio
import functools
import logging
from typing import Any, Callable, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from panchayat import catalogue, db

logger = logging.getLogger(__name__)


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "bn"


async def in_executor(func: Callable, *args: Any) -> Any:
    """Runs blocking work (queries, PDF rendering) in a thread, keeping the event loop free for other users."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args))


async def with_session(func: Callable, *args: Any) -> Any:
    """Runs `func(session, *args)` in one transaction, off the event loop."""

    def unit_of_work():
        with db.session_scope() as session:
            return func(session, *args)

    return await in_executor(unit_of_work)


def say(dispatcher: CollectingDispatcher, key: str, language: str, buttons: Optional[list] = None,
        **params: Any) -> None:
    dispatcher.utter_message(text=catalogue.text(key, language, **params), buttons=buttons or [])


def say_sorry(dispatcher: CollectingDispatcher, language: str, error: Exception) -> None:
    """A failure on our side: log it for the operator, tell the user plainly, leak nothing."""
    logger.exception("action failed: %s", type(error).__name__)
    say(dispatcher, "try_again", language)


# Returned by `attempt` and `run_journey` when the citizen has already been told why the work was not done.
FAILED = object()


async def run_journey(dispatcher: CollectingDispatcher, language: str, step: Callable, *args: Any,
                      **kwargs: Any) -> Any:
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
        dispatcher.utter_message(text=one.text(language),
                                 buttons=[{"title": b.title, "payload": b.payload} for b in one.buttons])


async def attempt(dispatcher: CollectingDispatcher, language: str, func: Callable, *args: Any) -> Any:
    """`with_session(func, *args)`, or FAILED after telling the citizen why: a PanchayatError's own
    message (a wrong rating, a refused date), else the sorry reply."""
    from panchayat.errors import PanchayatError

    try:
        return await with_session(func, *args)
    except PanchayatError as error:
        dispatcher.utter_message(text=error.message(language))
    except Exception as error:
        say_sorry(dispatcher, language, error)
    return FAILED


def day(value, language: str) -> str:
    """A date as villagers write it (15/12/2026), in the reader's digits."""
    return catalogue.digits(value.strftime("%d/%m/%Y"), language)


def rupees(paise: int, language: str) -> str:
    amount = f"{paise / 100:,.2f}".replace(".00", "")
    return catalogue.digits(amount, language)


def latest_entity(tracker, name: str):
    return next(tracker.get_latest_entity_values(name), None)


class CitizenRecordsAction:
    """Shows one of the citizen's own records by its number, or a list of all of them.

    Someone else's number gets the same answer as an unknown one, so a stranger learns
    nothing. Subclasses (with rasa_sdk.Action) name the entity and prefixes and say how
    to find and describe records; texts are composed while the session is open.
    """

    entity = ""
    prefixes: tuple = ()
    not_found_key = ""
    none_key = ""

    def find_own(self, session, number, citizen):
        raise NotImplementedError

    def list_own(self, session, citizen) -> list:
        raise NotImplementedError

    def describe_one(self, record, language: str) -> list:
        raise NotImplementedError

    def describe_all(self, records: list, language: str) -> list:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list:
        from panchayat import citizens
        from panchayat.identifiers import parse_identifier

        language = language_of(tracker)
        number = latest_entity(tracker, self.entity) or parse_identifier(
            tracker.latest_message.get("text") or "", self.prefixes)

        def load(session):
            citizen = citizens.get_or_create(session, tracker.sender_id)
            if number:
                record = self.find_own(session, number, citizen)
                return self.describe_one(record, language) if record else None
            records = self.list_own(session, citizen)
            if len(records) == 1:  # one record: all about it, with what to do next
                return self.describe_one(records[0], language)
            return self.describe_all(records[-10:], language) if records else []

        try:
            messages = await with_session(load)
        except Exception as error:
            say_sorry(dispatcher, language, error)
            return []
        if messages is None:
            say(dispatcher, self.not_found_key, language, number=number)
        elif not messages:
            say(dispatcher, self.none_key, language)
        for message in messages or []:
            dispatcher.utter_message(text=message)
        return []
