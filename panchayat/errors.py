"""Errors the core raises for bad input or a wrong state.

Each carries a catalogue key and parameters, so the CLI and the chat can both
explain it in the user's language; nothing is written when one is raised.
"""

from typing import Any


class PanchayatError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str = "en") -> str:
        from panchayat.catalogue import text

        return text(f"error_{self.key}", language, **self.params)
