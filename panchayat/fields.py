"""Reading one answer for one field of a service definition, as villagers type it.

Each field type turns free text (either script, Bengali digits) into a stored
value, or raises PanchayatError("field_invalid_<type>") whose catalogue text
tells the user what is expected.
"""

import re
from datetime import date
from typing import Any, Dict, Optional

from panchayat.answers import match_option, number_in, options_from
from panchayat.bengali import normalize, phonetic_key
from panchayat.errors import PanchayatError
from panchayat.periods import MONTH_NAMES

# West Bengal land measures, in square feet.
AREA_UNITS = {
    "katha": 720.0,
    "kattha": 720.0,
    "kotha": 720.0,
    "কাঠা": 720.0,
    "decimal": 435.6,
    "decimel": 435.6,
    "dec": 435.6,
    "satak": 435.6,
    "শতক": 435.6,
    "ডেসিমেল": 435.6,
    "ডেসিমাল": 435.6,
    "শতাংশ": 435.6,
    "bigha": 14400.0,
    "বিঘা": 14400.0,
    "acre": 43560.0,
    "acres": 43560.0,
    "একর": 43560.0,
    "chatak": 45.0,
    "ছটাক": 45.0,
    "sqft": 1.0,
    "sq ft": 1.0,
    "sq. ft": 1.0,
    "square feet": 1.0,
    "square foot": 1.0,
    "sft": 1.0,
    "ft": 1.0,
    "বর্গফুট": 1.0,
    "বর্গ ফুট": 1.0,
    "ফুট": 1.0,
    "ফিট": 1.0,
    "স্কোয়ার ফুট": 1.0,
    "স্কয়ার ফিট": 1.0,
    "sqm": 10.7639,
    "sq m": 10.7639,
    "square metre": 10.7639,
    "square meter": 10.7639,
    "বর্গমিটার": 10.7639,
}
_NUMBER = r"(\d+(?:[.,]\d+)?)"


def _clean(text: str) -> str:
    return " ".join(normalize(text or "").split())


def parse_area(text: str) -> str:
    """'৫ কাঠা' -> '5 katha (3,600 sq ft)'; a bare number is not enough (which unit?)."""
    cleaned = _clean(text).lower()
    match = re.search(r"(?<![-\d.])" + _NUMBER + r"\s*(.*)$", cleaned)
    if not match or "-" + match.group(1) in cleaned:
        raise PanchayatError("field_invalid_area")
    amount = float(match.group(1).replace(",", "."))
    unit_text = match.group(2).strip(" .")
    unit = next(
        (name for name in sorted(AREA_UNITS, key=len, reverse=True) if unit_text.startswith(normalize(name))), None
    )
    if unit is None:
        # Spelt another way ("স্কয়ার ফুট", "squre feet", "sq. feet"): the same sound.
        said = unit_text.split()
        for count in (2, 1):
            key = "".join(phonetic_key(word) for word in said[:count])
            unit = next(
                (
                    name
                    for name in AREA_UNITS
                    if len(key) >= 2 and "".join(phonetic_key(w) for w in name.split()) == key
                ),
                None,
            )
            if unit:
                break
    if unit is None or amount <= 0:
        raise PanchayatError("field_invalid_area")
    square_feet = amount * AREA_UNITS[unit]
    shown_amount = f"{amount:g}"
    english_unit = {
        720.0: "katha",
        435.6: "decimal",
        14400.0: "bigha",
        43560.0: "acre",
        45.0: "chatak",
        1.0: "sq ft",
        10.7639: "sq m",
    }[AREA_UNITS[unit]]
    if english_unit == "sq ft":
        return f"{square_feet:,.0f} sq ft"
    return f"{shown_amount} {english_unit} ({square_feet:,.0f} sq ft)"


def parse_date(text: str, today: Optional[date] = None) -> str:
    cleaned = _clean(text).lower()
    match = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", cleaned)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = re.search(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b", cleaned)
        if match:
            day, month, year = map(int, match.groups())
        else:
            match = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\s*([a-z\u0980-\u09ff\u09bc]+)\s*,?\s*(\d{4})\b", cleaned)
            names = {normalize(n): m for m, ns in MONTH_NAMES.items() for n in ns}
            if not match or match.group(2) not in names:
                raise PanchayatError("field_invalid_date")
            day, month, year = int(match.group(1)), names[match.group(2)], int(match.group(3))
    if year < 100:
        year += 2000
    try:
        return date(year, month, day).isoformat()
    except ValueError as impossible:
        raise PanchayatError("field_invalid_date") from impossible


def parse_choice(field: Dict, text: str) -> str:
    """One of the field's choices: by number, title in either script (typos allowed), or a
    natural equivalent from the definition's `also` list (panchayat.answers)."""
    found = match_option(text, options_from(field["choices"]))
    if found is None:
        raise PanchayatError("field_invalid_choice")
    return found


def parse_field(field: Dict, text: str) -> Any:
    """The stored value of `field` for the answer `text`."""
    kind = field.get("type", "text")
    cleaned = _clean(text)
    if not cleaned:
        raise PanchayatError("field_empty")
    if kind == "area":
        return parse_area(cleaned)
    if kind == "date":
        return parse_date(cleaned)
    if kind == "choice":
        return parse_choice(field, cleaned)
    if kind == "integer":
        # "2", "২", "dui tola", "two floors"; a number among other figures is not an answer.
        found = number_in(cleaned)
        low, high = field.get("min", 0), field.get("max", 10**9)
        if found is None or len(re.findall(r"\d+", cleaned)) > 1 or not low <= found <= high:
            raise PanchayatError("field_invalid_integer", min=low, max=high)
        return found
    if kind == "number":
        # Land record numbers: digits, sometimes with a slash ("1123/2").
        match = re.search(r"\d+(?:\s*/\s*\d+)?", cleaned)
        if not match:
            raise PanchayatError("field_invalid_number")
        return match.group(0).replace(" ", "")
    if kind == "person_name":
        if len(cleaned) < 3 or re.search(r"\d", cleaned) or len(cleaned) > 80:
            raise PanchayatError("field_invalid_name")
        return cleaned
    if len(cleaned) < (10 if kind == "address" else 2) or len(cleaned) > 300:
        raise PanchayatError("field_invalid_address" if kind == "address" else "field_invalid_text")
    return cleaned
