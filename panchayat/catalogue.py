"""The message catalogue: every text the core and the actions send, in Bengali and English.

Responses used directly by rules and stories live in domain.yml; texts that
actions or the notifier compose from facts live in catalogue.yml beside this file.
"""
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

CATALOGUE_FILE = Path(__file__).resolve().parent / "catalogue.yml"
LANGUAGES = ("bn", "en")


@lru_cache(maxsize=1)
def entries() -> Dict[str, Dict[str, str]]:
    with open(CATALOGUE_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, language: str = "en", **params: Any) -> str:
    """The entry `key` in `language` (English when the language is unknown), filled with `params`."""
    entry = entries()[key]
    template = entry.get(language if language in LANGUAGES else "en") or entry["en"]
    return template.format(**params)


def localised(value_en: Any, value_bn: Any, language: str) -> Any:
    """Picks the Bengali value for `bn` when there is one, else the English."""
    return value_bn if language == "bn" and value_bn else value_en


BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


def digits(value: Any, language: str) -> str:
    """Numbers in the reader's script: Bengali digits for `bn`."""
    return str(value).translate(BENGALI_DIGITS) if language == "bn" else str(value)
