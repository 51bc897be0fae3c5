"""Public identifiers: <PREFIX>-<YYYY>-<NNNNNN>, typed loosely by users, issued without gaps per year.

Application numbers take their prefix from the service definitions (panchayat.services); bookings
and complaints have fixed prefixes of their own.
"""

import re
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panchayat.models import IdentifierCounter
from panchayat.services import application_prefixes, service_for_number

BOOKING_PREFIX = "GH"
GRIEVANCE_PREFIX = "GR"
FIXED_PREFIXES = (BOOKING_PREFIX, GRIEVANCE_PREFIX)
BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
# How each letter of a prefix sounds when typed in Bengali script ("টিএন ২০২৬ ৪৫" is TN-2026-45).
BENGALI_LETTER_NAMES = {
    "A": "এ",
    "B": "বি",
    "C": "সি",
    "D": "ডি",
    "E": "ই",
    "F": "এফ",
    "G": "জি",
    "H": "এইচ",
    "I": "আই",
    "J": "জে",
    "K": "কে",
    "L": "এল",
    "M": "এম",
    "N": "এন",
    "O": "ও",
    "P": "পি",
    "Q": "কিউ",
    "R": "আর",
    "S": "এস",
    "T": "টি",
    "U": "ইউ",
    "V": "ভি",
    "W": "ডব্লিউ",
    "X": "এক্স",
    "Y": "ওয়াই",
    "Z": "জেড",
}
_SEP = r"[\s\-/_.:#]*"


def known_prefixes() -> Tuple[str, ...]:
    """Every prefix a number may carry: one per service, then bookings' and complaints'."""
    services = application_prefixes()
    clash = set(services) & set(FIXED_PREFIXES)
    if clash:
        raise ValueError(f"a service may not use the prefix of bookings or complaints: {sorted(clash)}")
    return services + FIXED_PREFIXES


def bengali_spelling(prefix: str) -> str:
    return "".join(BENGALI_LETTER_NAMES[letter] for letter in prefix)


@lru_cache(maxsize=8)
def _pattern(prefixes: Tuple[str, ...]) -> Tuple["re.Pattern", Dict[str, str]]:
    """The identifier regex for these prefixes, and each Bengali spelling's prefix."""
    bengali = {bengali_spelling(prefix): prefix for prefix in prefixes}
    # Longest first, so that a prefix never matches only the start of a longer one.
    alternatives = "|".join(sorted([*prefixes, *bengali], key=len, reverse=True))
    pattern = re.compile(
        rf"(?<![A-Za-z\u0980-\u09FF])({alternatives}){_SEP}(\d{{4}}){_SEP}(\d{{1,6}})(?!\d)", re.IGNORECASE
    )
    return pattern, bengali


def canonical(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}-{year:04d}-{serial:06d}"


def prefix_of(number: str) -> str:
    return number.split("-", 1)[0]


def find_identifiers(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, canonical) for every identifier in `text`; offsets refer to `text` itself."""
    pattern, bengali = _pattern(known_prefixes())
    # Digit translation is one character for one, so offsets stay valid.
    ascii_digits = text.translate(BENGALI_DIGITS)
    found = []
    for match in pattern.finditer(ascii_digits):
        raw_prefix = match.group(1)
        prefix = bengali.get(raw_prefix, raw_prefix.upper())
        found.append((match.start(), match.end(), canonical(prefix, int(match.group(2)), int(match.group(3)))))
    return found


def parse_identifier(text: str, prefixes: Optional[Tuple[str, ...]] = None) -> Optional[str]:
    """The canonical identifier in `text`, or None; optionally only of the given prefixes."""
    for _start, _end, value in find_identifiers(text or ""):
        if prefixes is None or prefix_of(value) in prefixes:
            return value
    return None


def parse_application_number(text: str) -> Optional[str]:
    """The first application (or certificate) number in `text`, of any service, canonical."""
    for _start, _end, value in find_identifiers(text or ""):
        if service_for_number(value) is not None:
            return value
    return None


def parse_booking_number(text: str) -> Optional[str]:
    """The first guest-house booking number in `text`, canonical."""
    return parse_identifier(text or "", (BOOKING_PREFIX,))


def parse_grievance_number(text: str) -> Optional[str]:
    """The first complaint number in `text`, canonical."""
    return parse_identifier(text or "", (GRIEVANCE_PREFIX,))


def next_identifier(session: Session, prefix: str, year: int) -> str:
    """Issues the next number for (prefix, year) inside the caller's transaction.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so two
    concurrent callers never receive the same number.
    """
    if prefix not in known_prefixes():
        raise ValueError(f"unknown identifier prefix {prefix!r}")
    key = (IdentifierCounter.prefix == prefix) & (IdentifierCounter.year == year)
    bumped = session.execute(update(IdentifierCounter).where(key).values(last_value=IdentifierCounter.last_value + 1))
    if bumped.rowcount == 0:
        try:
            with session.begin_nested():
                session.add(IdentifierCounter(prefix=prefix, year=year, last_value=1))
            return canonical(prefix, year, 1)
        except IntegrityError:
            # Someone else created the counter first: take the next value from it.
            session.execute(update(IdentifierCounter).where(key).values(last_value=IdentifierCounter.last_value + 1))
    value = session.execute(select(IdentifierCounter.last_value).where(key)).scalar_one()
    return canonical(prefix, year, value)
