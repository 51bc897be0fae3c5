"""Months and financial years as people say them, in any register.

`last month`, `gato maser`, `অক্টোবর`, `10/2026`, `october 2025` -> `YYYY-MM`;
`2025-26`, `gato bochor`, `চলতি অর্থবর্ষ` -> `YYYY-YY` (April to March).
"""

import re
from datetime import date
from typing import Optional, Tuple

from panchayat.bengali import normalize

MONTH_NAMES = {
    1: ("january", "jan", "janu", "জানুয়ারি", "জানুয়ারী", "জানুয়ারি", "জানুয়ারী", "জানুয়ারি"),
    2: ("february", "feb", "febru", "februari", "ফেব্রুয়ারি", "ফেব্রুয়ারী", "ফেব্রুয়ারি", "ফেব্রুয়ারী"),
    3: ("march", "mar", "marc", "মার্চ"),
    4: ("april", "apr", "epril", "এপ্রিল"),
    5: ("may", "মে"),
    6: ("june", "jun", "জুন"),
    7: ("july", "jul", "julai", "জুলাই"),
    8: ("august", "aug", "agost", "অগস্ট", "আগস্ট", "অগাস্ট"),
    9: ("september", "sep", "sept", "septembar", "সেপ্টেম্বর"),
    10: ("october", "oct", "oktobor", "octobar", "অক্টোবর"),
    11: ("november", "nov", "nobhembor", "নভেম্বর"),
    12: ("december", "dec", "disembor", "ডিসেম্বর"),
}
_NAME_TO_MONTH = {normalize(name): month for month, names in MONTH_NAMES.items() for name in names}
_WORD = re.compile(r"[a-z\u0980-\u09ff\u09bc]+")

LAST = ("last", "previous", "prev", "gato", "goto", "gata", "ager", "agের", "গত", "আগের", "আগেরটা", "পূর্ববর্তী")
THIS = ("this", "current", "ei", "cholti", "choloti", "চলতি", "এই", "বর্তমান")


def _has(words, options) -> bool:
    options = {normalize(o) for o in options}
    return any(w in options for w in words)


def _words(text: str):
    return _WORD.findall(normalize(text).lower())


def _shift_month(year: int, month: int, delta: int) -> Tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def parse_month(text: str, today: Optional[date] = None) -> Optional[str]:
    """A calendar month as `YYYY-MM`, or None. A month named without a year is the most
    recent one not in the future."""
    today = today or date.today()
    cleaned = normalize(text).lower()
    match = re.search(r"\b(20\d\d)[-/.](0?[1-9]|1[0-2])\b", cleaned)
    if match:
        return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
    match = re.search(r"\b(0?[1-9]|1[0-2])[-/.](20\d\d|\d\d)\b", cleaned)
    if match:
        year = int(match.group(2))
        year = year + 2000 if year < 100 else year
        return f"{year:04d}-{int(match.group(1)):02d}"
    words = _words(cleaned)
    # "may I get ..." is not the month of May.
    named = [
        _NAME_TO_MONTH[w]
        for i, w in enumerate(words)
        if w in _NAME_TO_MONTH and not (w == "may" and words[i + 1 : i + 2] in (["i"], ["we"], ["you"]))
    ]
    if named:
        month = named[0]
        year_match = re.search(r"\b(20\d\d)\b", cleaned)
        if year_match:
            return f"{int(year_match.group(1)):04d}-{month:02d}"
        short_year = re.search(r"(?<![\d/.-])'?(\d\d)\b(?![-/.]\d)", cleaned)
        if short_year:
            return f"{2000 + int(short_year.group(1)):04d}-{month:02d}"
        year = today.year if month <= today.month else today.year - 1
        return f"{year:04d}-{month:02d}"
    if any(w.startswith(("mas", "মাস", "month", "mash")) for w in words):
        if _has(words, LAST):
            year, month = _shift_month(today.year, today.month, -1)
            return f"{year:04d}-{month:02d}"
        if _has(words, THIS):
            return f"{today.year:04d}-{today.month:02d}"
    return None


def financial_year_of(day: date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start:04d}-{(start + 1) % 100:02d}"


def parse_financial_year(text: str, today: Optional[date] = None) -> Optional[str]:
    """An Indian financial year (April to March) as `YYYY-YY`, or None."""
    today = today or date.today()
    cleaned = normalize(text).lower()
    match = re.search(r"\b(20\d\d)\s*[-/–]\s*(20)?(\d\d)\b", cleaned)
    if match:
        start, end = int(match.group(1)), int(match.group(3))
        if (start + 1) % 100 == end:
            return f"{start:04d}-{end:02d}"
        return None
    words = _words(cleaned)
    if any(
        w.startswith(
            (
                "bochor",
                "bochhor",
                "bachar",
                "বছর",
                "year",
                "borsho",
                "অর্থবর্ষ",
                "বর্ষ",
                "sal",
                "সাল",
                "অর্থবছর",
                "arthobochor",
                "orthobochor",
                "arthabachar",
                "financial",
                "fiscal",
                "fy",
            )
        )
        for w in words
    ):
        current_start = int(financial_year_of(today)[:4])
        if _has(words, LAST):
            return f"{current_start - 1:04d}-{current_start % 100:02d}"
        if _has(words, THIS):
            return financial_year_of(today)
    match = re.search(r"\b(20\d\d)\b", cleaned)
    if match:
        # A bare year names the financial year that starts in it.
        start = int(match.group(1))
        return f"{start:04d}-{(start + 1) % 100:02d}"
    return None
