"""Dates of a stay as villagers say them, in any register.

`kal`, `porshu`, `next saturday`, `শনিবার`, `১৫ ডিসেম্বর`, `15/12`, `15 theke 17 december`,
`২ রাত` ... -> a check-in date and, when said, a check-out date or a number of nights.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

from panchayat.answers import NUMBER_WORDS, number_in
from panchayat.bengali import normalize
from panchayat.periods import MONTH_NAMES

WEEKDAYS = {
    0: ("monday", "mon", "sombar", "shombar", "সোমবার", "সোম"),
    1: ("tuesday", "tue", "tues", "mongolbar", "mangalbar", "মঙ্গলবার", "মঙ্গল"),
    2: ("wednesday", "wed", "budhbar", "budhbaar", "বুধবার", "বুধ"),
    3: ("thursday", "thu", "thurs", "brihospotibar", "bishudbar", "bishyudbar", "বৃহস্পতিবার", "বিষ্যুদবার"),
    4: ("friday", "fri", "shukrobar", "sukrobar", "শুক্রবার", "শুক্র"),
    5: ("saturday", "sat", "shonibar", "sonibar", "শনিবার", "শনি"),
    6: ("sunday", "sun", "robibar", "rabibar", "রবিবার", "রবি"),
}
RELATIVE_DAYS = {
    0: ("today", "aaj", "aj", "ajke", "aajke", "আজ", "আজকে"),
    1: ("tomorrow", "tmrw", "kal", "kaal", "kalke", "কাল", "কালকে", "আগামীকাল"),
    2: ("porshu", "porsu", "parshu", "পরশু", "overmorrow"),
}
_WORD = re.compile(r"[a-z\u0980-\u09ff\u09bc]+")
_MONTHS = {normalize(name): month for month, names in MONTH_NAMES.items() for name in names}
_WEEKDAYS = {normalize(name): day for day, names in WEEKDAYS.items() for name in names}
_RELATIVE = {normalize(name): offset for offset, names in RELATIVE_DAYS.items() for name in names}
_NUMBER_WORD = "(?:" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + ")"
_RANGE = r"\s*(?:-|–|to|till|theke|থেকে|hote|হতে|porjonto|পর্যন্ত)\s*"


@dataclass
class Stay:
    check_in: date
    check_out: Optional[date] = None
    nights: Optional[int] = None


def _upcoming(today: date, month: int, day: int, year: Optional[int]) -> Optional[date]:
    try:
        if year:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def parse_stay(text: str, today: Optional[date] = None) -> Optional[Stay]:
    """The stay named in `text`, or None when it names no date."""
    today = today or date.today()
    cleaned = normalize(text).lower()
    nights = None
    # "2 raat", "২ রাত", "dui raat", "two nights", "এক রাতের জন্য"
    match = re.search(r"(\d+|" + _NUMBER_WORD + r")\s*(?:ta|ti|টা|টি)?\s*(?:din|দিন|days?|raat|rat|রাত|nights?)", cleaned)
    if match:
        nights = number_in(match.group(1))
        cleaned = cleaned[: match.start()] + " " + cleaned[match.end() :]
    if re.search(r"day after tomorrow|day after tmrw", cleaned):
        return Stay(today + timedelta(days=2), nights=nights)

    # "15 theke 17 december", "15-17 dec 2026"
    match = re.search(r"\b(\d{1,2})" + _RANGE + r"(\d{1,2})\s*([a-z\u0980-\u09ff\u09bc]+)\s*(\d{4})?", cleaned)
    if match and normalize(match.group(3)) in _MONTHS:
        month = _MONTHS[normalize(match.group(3))]
        year = int(match.group(4)) if match.group(4) else None
        start = _upcoming(today, month, int(match.group(1)), year)
        end = _upcoming(start or today, month, int(match.group(2)), start.year if start else year)
        if start and end and end > start:
            return Stay(start, end)
        return None
    # "15/12 to 17/12", "15/12/2026 - 17/12/2026"
    numeric = r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?"
    match = re.search(numeric + _RANGE + numeric, cleaned)
    if match:
        d1, m1, y1, d2, m2, y2 = match.groups()
        start = _upcoming(today, int(m1), int(d1), _year(y1))
        end = _upcoming(start or today, int(m2), int(d2), _year(y2) or (start.year if start else None))
        if start and end and end > start:
            return Stay(start, end)
        return None
    match = re.search(r"\b" + numeric + r"\b", cleaned)
    if match:
        day_typed, month_typed, year_typed = match.groups()
        start = _upcoming(today, int(month_typed), int(day_typed), _year(year_typed))
        return Stay(start, nights=nights) if start else None
    # "১৫ ডিসেম্বর", "december 15"
    # The first number that a month name follows ("1 room ... from 29 dec": the 29th).
    match = next(
        (
            m
            for m in re.finditer(
                r"\b(\d{1,2})\s*(?:th|st|nd|rd|e|তারিখ)?\s*([a-z\u0980-\u09ff\u09bc]+)"
                r"\s*(\d{4})?",
                cleaned,
            )
            if normalize(m.group(2)) in _MONTHS
        ),
        None,
    )
    if match:
        start = _upcoming(
            today,
            _MONTHS[normalize(match.group(2))],
            int(match.group(1)),
            int(match.group(3)) if match.group(3) else None,
        )
        return Stay(start, nights=nights) if start else None
    match = next((m for m in re.finditer(r"([a-z]+)\s+(\d{1,2})\b", cleaned) if m.group(1) in _MONTHS), None)
    if match:
        start = _upcoming(today, _MONTHS[match.group(1)], int(match.group(2)), None)
        return Stay(start, nights=nights) if start else None
    # "২৪ তারিখ", "24 tarikh", "the 24th": that day of this month, else of the next.
    match = re.search(r"\b(\d{1,2})\s*(?:th|st|nd|rd|তারিখ|tarikh|tarik|tarich|date)(?![a-z])", cleaned)
    if match:
        day = int(match.group(1))
        for months_ahead in range(3):
            month = (today.month - 1 + months_ahead) % 12 + 1
            year = today.year + (today.month - 1 + months_ahead) // 12
            try:
                start = date(year, month, day)
            except ValueError:
                continue
            if start >= today:
                return Stay(start, nights=nights)
        return None
    for word in _WORD.findall(cleaned):
        if word in _RELATIVE:
            return Stay(today + timedelta(days=_RELATIVE[word]), nights=nights)
        if word in _WEEKDAYS:
            # "saturday" or "next saturday": the coming one; said on a Saturday, a week ahead.
            ahead = (_WEEKDAYS[word] - today.weekday()) % 7 or 7
            return Stay(today + timedelta(days=ahead), nights=nights)
    return None


def nights_in(text: str) -> Optional[int]:
    """The number of nights said without a date: "2 raat", "dui rater jonno", "for 3 nights"."""
    match = re.search(
        r"(\d+|" + _NUMBER_WORD + r")\s*(?:ta|ti|টা|টি)?\s*(?:din|দিন|days?|raat|rat|রাত|nights?)",
        normalize(text).lower(),
    )
    return number_in(match.group(1)) if match else None


def _year(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year
