"""What a villager asks about the panchayat office: hours, officials, contact or address."""

import re
import unicodedata
from typing import List

# Word beginnings per topic; Bengali words take suffixes ("সচিবের"), so stems match by prefix.
TOPIC_STEMS = {
    "office_hours": (
        "kokhon",
        "kakhon",
        "khola",
        "khole",
        "kholbe",
        "bondho",
        "bandho",
        "somoy",
        "samay",
        "time",
        "timing",
        "hour",
        "open",
        "close",
        "kota",
        "কখন",
        "খোলা",
        "খোলে",
        "খুলবে",
        "বন্ধ",
        "সময়",
        "টাইম",
        "কটা",
        "কয়টা",
    ),
    "officials": (
        "pradhan",
        "prodhan",
        "secretary",
        "secretery",
        "sochib",
        "sochiv",
        "sachib",
        "sachiv",
        "official",
        "officer",
        "upa",
        "member",
        "প্রধান",
        "উপপ্রধান",
        "সচিব",
        "আধিকারিক",
        "কর্মকর্তা",
        "অফিসার",
        "সেক্রেটারি",
    ),
    "contact": (
        "phone",
        "fon",
        "mobile",
        "contact",
        "call",
        "email",
        "mail",
        "jogajog",
        "jogajok",
        "ফোন",
        "যোগাযোগ",
        "নম্বর",
        "নাম্বার",
        "মোবাইল",
        "ইমেল",
    ),
    "address": ("address", "adress", "thikana", "where", "kothay", "kothai", "location", "ঠিকানা", "কোথায়", "কোথা"),
}


TOPIC_STEMS = {topic: tuple(unicodedata.normalize("NFC", s) for s in stems) for topic, stems in TOPIC_STEMS.items()}


def _words(text: str) -> List[str]:
    text = unicodedata.normalize("NFC", text or "").lower()
    return re.findall(r"[\w\u0980-\u09FF]+", text)


def info_topics(text: str) -> List[str]:
    """The topics a question touches, in a stable order; empty means "everything"."""
    words = _words(text)
    return [
        topic for topic, stems in TOPIC_STEMS.items() if any(word.startswith(stem) for word in words for stem in stems)
    ]
