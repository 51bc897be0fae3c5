"""Public identifiers: <PREFIX>-<YYYY>-<NNNNNN>, typed loosely by users, issued without gaps per year."""
import re
from typing import List, Optional, Tuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panchayat.models import IdentifierCounter

PREFIXES = ("BP", "TN", "BN", "GH", "GR")
BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
# How the prefixes sound when typed in Bengali script ("টিএন ২০২৬ ৪৫").
BENGALI_PREFIXES = {"বিপি": "BP", "টিএন": "TN", "বিএন": "BN", "জিএইচ": "GH", "জিআর": "GR"}

_prefix_alternatives = "|".join(list(PREFIXES) + sorted(BENGALI_PREFIXES, key=len, reverse=True))
_SEP = r"[\s\-/_.:#]*"
IDENTIFIER_RE = re.compile(
    rf"(?<![A-Za-z\u0980-\u09FF])({_prefix_alternatives}){_SEP}(\d{{4}}){_SEP}(\d{{1,6}})(?!\d)",
    re.IGNORECASE,
)


def canonical(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}-{year:04d}-{serial:06d}"


def find_identifiers(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, canonical) for every identifier in `text`; offsets refer to `text` itself."""
    # Digit translation is one character for one, so offsets stay valid.
    ascii_digits = text.translate(BENGALI_DIGITS)
    found = []
    for match in IDENTIFIER_RE.finditer(ascii_digits):
        raw_prefix = match.group(1)
        prefix = BENGALI_PREFIXES.get(raw_prefix, raw_prefix.upper())
        found.append((match.start(), match.end(), canonical(prefix, int(match.group(2)), int(match.group(3)))))
    return found


def parse_identifier(text: str, prefixes: Optional[Tuple[str, ...]] = None) -> Optional[str]:
    """The canonical identifier in `text`, or None; optionally only of the given prefixes."""
    for _start, _end, value in find_identifiers(text or ""):
        if prefixes is None or value[:2] in prefixes:
            return value
    return None


def next_identifier(session: Session, prefix: str, year: int) -> str:
    """Issues the next number for (prefix, year) inside the caller's transaction.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so two
    concurrent callers never receive the same number.
    """
    if prefix not in PREFIXES:
        raise ValueError(f"unknown identifier prefix {prefix!r}")
    key = (IdentifierCounter.prefix == prefix) & (IdentifierCounter.year == year)
    bumped = session.execute(
        update(IdentifierCounter).where(key).values(last_value=IdentifierCounter.last_value + 1)
    )
    if bumped.rowcount == 0:
        try:
            with session.begin_nested():
                session.add(IdentifierCounter(prefix=prefix, year=year, last_value=1))
            return canonical(prefix, year, 1)
        except IntegrityError:
            # Someone else created the counter first: take the next value from it.
            session.execute(
                update(IdentifierCounter).where(key).values(last_value=IdentifierCounter.last_value + 1)
            )
    value = session.execute(select(IdentifierCounter.last_value).where(key)).scalar_one()
    return canonical(prefix, year, value)
