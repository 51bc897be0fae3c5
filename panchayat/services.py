"""Certificate services defined as data: one YAML file per service in service_definitions/.

This module is the one reader of the definitions. Everything that differs between services
comes from here: the number prefix, the names (in titles, in sentences, on buttons), what
villagers call it, the fields, documents, fee and time, and the certificate's title, statement
and conditions. A new service is a new YAML file (plus NLU training examples), not new code.
"""

import os
import re
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from panchayat.answers import stem, words
from panchayat.bengali import phonetic_key
from panchayat.errors import PanchayatError

DEFINITIONS_DIR = Path(__file__).resolve().parent / "service_definitions"
# More definition folders (separated like PATH), read after the shipped ones: a district's own
# services, or a test's, without touching the code or the shipped files.
EXTRA_DIRS_VARIABLE = "PANCHAYAT_SERVICE_DIRS"
# Two to four capital letters: what users type before the year in a number (TN-2026-000045).
PREFIX_PATTERN = re.compile(r"^[A-Z]{2,4}$")
# Words that say "a certificate" without saying which one ("certificate", "শংসাপত্র", "praman
# potro"): a service's name may contain them, but they never pick that service by themselves.
CERTIFICATE_WORDS = ("certificate", "সার্টিফিকেট", "শংসাপত্র", "praman", "প্রমাণ", "potro", "পত্র", "প্রমাণপত্র")
_CERTIFICATE_KEYS = {
    key for word in CERTIFICATE_WORDS for key in (phonetic_key(word), phonetic_key(stem(word))) if len(key) >= 3
}  # a shorter key ("pt") would take ordinary words with it
# What a certificate statement may name besides the service's fields.
STATEMENT_EXTRAS = ("gp", "block", "district", "number")


@dataclass(frozen=True)
class Service:
    code: str
    prefix: str
    name: Dict[str, str]
    summary: Dict[str, str]
    fee_rupees: int
    processing_days: int
    validity_years: int
    signatory_role: str
    holder_field: str
    fields: List[dict]
    documents: List[dict]
    certificate: dict = field(default_factory=dict)
    order: int = 99
    # What villagers call the service ("barir plan", "ট্রেড লাইসেন্স"), to pick it from a list.
    also: tuple = ()
    # The name inside a sentence ("Application TN-2026-000045 (trade NOC) ..."); `name` titles.
    short_name: Dict[str, str] = field(default_factory=dict)

    def title(self, language: str) -> str:
        return self.name.get(language) or self.name["en"]

    def in_sentence(self, language: str) -> str:
        return self.short_name.get(language) or self.short_name.get("en") or self.title(language)

    def button_title(self, language: str) -> str:
        """The short name as a menu row or button shows it ("Trade NOC")."""
        named = self.in_sentence(language)
        return named[:1].upper() + named[1:]

    @property
    def field_names(self) -> List[str]:
        return [f["name"] for f in self.fields]

    @property
    def fee_paise(self) -> int:
        return self.fee_rupees * 100

    @property
    def apply_payload(self) -> str:
        """The request a menu row or button for this service stands for."""
        return f'/apply_service{{"service": "{self.code}"}}'

    def shown_value(self, name: str, value, language: str) -> str:
        """An answer as a reader sees it: a choice by its label, anything else as stored."""
        field_ = next((f for f in self.fields if f["name"] == name), {})
        choice = next((c for c in field_.get("choices", []) if c["value"] == value), None)
        if choice:
            return choice.get(language) or choice["en"]
        return str(value)

    def certificate_statement(self, values: Dict[str, str]) -> Optional[Dict[str, str]]:
        """The certificate's own sentence in both languages, filled with the application's
        answers (`values` holds the fields and STATEMENT_EXTRAS, per language where they differ);
        None for a service whose certificate has none."""
        statement = self.certificate.get("statement")
        if not statement:
            return None
        # A field answered before the definition gained it reads as blank, not as an error.
        values = {**{name: "" for name in self.field_names}, **values}
        return {
            language: template.format(**{name: _in_language(value, language) for name, value in values.items()})
            for language, template in statement.items()
        }


def _in_language(value, language: str) -> str:
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return str(value)


def load_definition(path: Path) -> Service:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    service = Service(
        code=raw["code"],
        prefix=raw["prefix"],
        name=raw["name"],
        summary=raw.get("summary", raw["name"]),
        fee_rupees=int(raw.get("fee_rupees", 0)),
        processing_days=int(raw.get("processing_days", 7)),
        validity_years=int(raw.get("validity_years", 1)),
        signatory_role=raw.get("signatory_role", "pradhan"),
        holder_field=raw.get("holder_field") or raw["fields"][0]["name"],
        fields=list(raw.get("fields", [])),
        documents=list(raw.get("documents", [])),
        certificate=raw.get("certificate", {}),
        order=int(raw.get("order", 99)),
        also=tuple(raw.get("also") or ()),
        short_name=raw.get("short_name") or {},
    )
    problems = _problems(service)
    if problems:
        raise ValueError(f"service definition {path.name}: " + "; ".join(problems))
    return service


def _problems(service: Service) -> List[str]:
    """What would break at run time, found when the definition is read instead."""
    problems = []
    # Stored in applications.service, a column of 40 characters.
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", service.code):
        problems.append(f"code {service.code!r} is not lower_case_with_underscores of at most 40")
    if not PREFIX_PATTERN.match(str(service.prefix)):
        problems.append(f"prefix {service.prefix!r} is not 2 to 4 capital letters")
    for names in ("name", "short_name"):
        given = getattr(service, names)
        if given and not (given.get("en") and given.get("bn")):
            problems.append(f"{names} needs both en and bn")
    if service.holder_field not in service.field_names:
        problems.append(f"holder_field {service.holder_field!r} is not one of the fields")
    statement = service.certificate.get("statement") or {}
    if statement and set(statement) != {"en", "bn"}:
        problems.append("certificate statement needs en and bn")
    known = set(service.field_names) | set(STATEMENT_EXTRAS)
    for language, template in statement.items():
        unknown = {name for _, name, _, _ in string.Formatter().parse(template) if name} - known
        if unknown:
            problems.append(f"certificate statement ({language}) names unknown {sorted(unknown)}")
    return problems


@cache
def _load_dir(directory: str) -> Dict[str, Service]:
    loaded = [load_definition(path) for path in sorted(Path(directory).glob("*.yml"))]
    return {service.code: service for service in loaded}


def definition_dirs(extra_dirs: Iterable[Path] = ()) -> List[Path]:
    configured = [Path(part) for part in os.environ.get(EXTRA_DIRS_VARIABLE, "").split(os.pathsep) if part]
    return [DEFINITIONS_DIR, *configured, *map(Path, extra_dirs)]


def all_services(extra_dirs: Iterable[Path] = ()) -> Dict[str, Service]:
    """Every service by code, in the order menus list them (`order`, then code)."""
    return dict(_services_in(tuple(str(directory) for directory in definition_dirs(extra_dirs))))


@cache
def _services_in(directories: Tuple[str, ...]) -> Dict[str, Service]:
    # Merged, checked and sorted once per set of folders: the NLU, the channel and the actions
    # ask for the services several times on every message.
    services: Dict[str, Service] = {}
    for directory in directories:
        services.update(_load_dir(directory))
    by_prefix: Dict[str, str] = {}
    for service in services.values():
        taken = by_prefix.setdefault(service.prefix, service.code)
        if taken != service.code:
            raise ValueError(f"services {taken} and {service.code} both use the prefix {service.prefix}")
    return {service.code: service for service in sorted(services.values(), key=lambda s: (s.order, s.code))}


def get_service(code: str) -> Service:
    service = all_services().get(code)
    if service is None:
        raise PanchayatError("unknown_service", service=code)
    return service


def application_prefixes() -> Tuple[str, ...]:
    """The prefixes of application (and certificate) numbers, one per service."""
    return tuple(service.prefix for service in all_services().values())


def service_for_number(number: str) -> Optional[Service]:
    """The service a canonical number belongs to by its prefix (TN-2026-000045 -> trade NOC);
    None for a booking's, a complaint's or an unknown prefix."""
    prefix = (number or "").split("-", 1)[0].upper()
    return next((service for service in all_services().values() if service.prefix == prefix), None)


def names_in_a_list(language: str) -> str:
    """Every service's short name, for a sentence that lists them ("building permission, trade NOC
    and business NOC")."""
    names = [service.in_sentence(language) for service in all_services().values()]
    joiner = " আর " if language == "bn" else " and "
    return joiner.join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def without_certificate_words(typed: str) -> str:
    """What names a service in `typed` once the words for "certificate" are left out ("basosthan
    praman potro" -> "basosthan"; "notun certificate chai" -> "notun chai")."""
    return " ".join(
        word for word in words(typed) if not {phonetic_key(word), phonetic_key(stem(word))} & _CERTIFICATE_KEYS
    )
