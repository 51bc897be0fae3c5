"""Errors the core raises for bad input or a wrong state.

Each carries a catalogue key and parameters, so the CLI and the chat can both
explain it in the user's language; nothing is written when one is raised.
"""

import logging
import traceback
from typing import Any


class PanchayatError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str = "en") -> str:
        from panchayat.catalogue import text

        return text(f"error_{self.key}", language, **self.params)


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Logs a failure for the operator: its kind and where it happened, without its message.

    An error's message can carry what the user typed or stored: PostgreSQL repeats the
    conflicting value ("Key (wa_id)=(91...) already exists"). The frames say where to look.
    """
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s: %s\n%s", what, type(error).__name__, frames.rstrip())
