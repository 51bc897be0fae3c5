"""What a citizen or an employee does in a conversation, one module per journey.

    applying.py            applying for a certificate or NOC, checking it, downloading it
    booking_a_room.py      booking a guest-house room, and cancelling a booking
    complaining.py         lodging a complaint, reading and rating it
    getting_pay_documents.py  an employee's pay slip and annual statement, behind a PIN
    my_records.py          the citizen's own applications, complaints and bookings
    choosing_a_panchayat.py  the citizen's gram panchayat, language and privacy notice
    reading_panchayat_info.py  the office hours, officials, contact and address of the citizen's GP
    answering_notifications.py  the short answer to a notification (a rating, "download")

A journey's functions take plain inputs (the sender's WhatsApp number, the draft dict kept in a
slot, the typed text, message metadata, the reply language) and return small result objects:
`Reply`s (a catalogue key with its parameters, already in the reader's digits), the new draft, a
record number. Each public function that touches the database is wrapped in `db.transaction`,
so it owns exactly one unit of work; it raises `PanchayatError` for anything the citizen must be
told (nothing is written then). Nothing here knows Rasa: the actions in `actions/` turn slots
into these calls and replies into messages, and the WhatsApp channel and the notifier call the
same functions.
"""

import asyncio
import functools
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Tuple, TypeVar

from panchayat import catalogue

Result = TypeVar("Result")


@dataclass(frozen=True)
class Button:
    """A button under a reply: its title as shown (already in the reader's language) and its payload."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message: the catalogue text `key` filled with `params`, with optional buttons."""

    key: str
    params: Dict[str, Any] = field(default_factory=dict)
    buttons: Tuple[Button, ...] = ()

    def text(self, language: str) -> str:
        return catalogue.text(self.key, language, **self.params)


def reply(key: str, buttons: Tuple[Button, ...] = (), **params: Any) -> Reply:
    return Reply(key, params, tuple(buttons))


def in_thread(func: Callable[..., Result], *args: Any, **kwargs: Any) -> Awaitable[Result]:
    """Runs blocking work (a journey's transaction, a PDF) in a worker thread, so that one
    citizen's slow query never holds up the event loop that serves everybody else.
    The one such helper: actions, the channel and the notifier all use it."""
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
