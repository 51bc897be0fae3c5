"""The message catalogue: every text the core and the actions send, in Bengali and English.

Responses used directly by rules and stories live in domain.yml; texts that
actions, the notifier or the channel compose from facts live in texts/*.yml beside
this file, one file per topic. A key may be defined only once across the files.
Service names (`service_<code>`) come from the service definitions themselves.
"""

import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
LANGUAGES = ("bn", "en")


def entries() -> Dict[str, Dict[str, str]]:
    """Every text: those of texts/*.yml and each service's name (`service_<code>`, from its definition)."""
    written = _written()
    names = _service_names()
    twice = sorted(set(names) & set(written))
    if twice:
        raise ValueError(f"service codes give names that texts/*.yml defines too: {twice}")
    return {**written, **names}


def _service_names() -> Dict[str, Dict[str, str]]:
    from panchayat.services import all_services

    return {
        f"service_{code}": {language: service.in_sentence(language) for language in LANGUAGES}
        for code, service in all_services().items()
    }


@lru_cache(maxsize=1)
def _written() -> Dict[str, Dict[str, str]]:
    merged: Dict[str, Dict[str, str]] = {}
    for path in sorted(TEXTS_DIR.glob("*.yml")):
        with open(path, encoding="utf-8") as handle:
            topic = yaml.safe_load(handle) or {}
        twice = sorted(set(topic) & set(merged))
        if twice:
            raise ValueError(f"{path.name} defines texts that another file defines too: {twice}")
        merged.update(topic)
    return merged


def placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, language: str = "en", **params: Any) -> str:
    """The entry `key` in `language` (English when the language is unknown), filled with `params`."""
    entry = _written().get(key) or entries()[key]
    template = entry.get(language if language in LANGUAGES else "en") or entry["en"]
    return template.format(**params)


def localised(value_en: Any, value_bn: Any, language: str) -> Any:
    """Picks the Bengali value for `bn` when there is one, else the English."""
    return value_bn if language == "bn" and value_bn else value_en


BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


def digits(value: Any, language: str) -> str:
    """Numbers in the reader's script: Bengali digits for `bn`."""
    return str(value).translate(BENGALI_DIGITS) if language == "bn" else str(value)


def day(value: Any, language: str) -> str:
    """A date as villagers write it (15/12/2026), in the reader's digits."""
    return digits(value.strftime("%d/%m/%Y"), language)


def rupees(paise: int, language: str) -> str:
    """An amount in rupees with thousands separators and no ".00", in the reader's digits."""
    amount = f"{paise / 100:,.2f}".replace(".00", "")
    return digits(amount, language)
