"""Questions the panchayat asks in its own notifications, and the bare answers to them.

A resolved complaint's notification asks for a rating from 1 to 5; an approval tells the
citizen to ask for the certificate. The villager answers the way people answer a message:
`৫`, `4 dilam`, `khub bhalo`, `ok pathan`. Such an answer carries no intent of its own, so it
is read against the newest question of this kind that is still open.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat.answers import YES_WORDS, is_no, is_yes, number_in, words
from panchayat.bengali import normalize
from panchayat.models import Application, Citizen, Grievance, Notification, utcnow

# The notification kinds that ask something, and what they ask.
QUESTIONS = {"grievance_resolved": "rating", "application_approved": "download"}
# How long a notification's question stays open for a bare answer.
OPEN_FOR = timedelta(days=7)

# Ratings said in words, in the three registers.
_RATING_WORDS = {
    5: (
        "khub bhalo",
        "khub valo",
        "darun",
        "excellent",
        "very good",
        "very satisfied",
        "খুব ভালো",
        "দারুণ",
        "অসাধারণ",
        "sobcheye bhalo",
    ),
    4: ("bhalo", "valo", "good", "satisfied", "ভালো", "সন্তুষ্ট"),
    3: ("motamuti", "mota muti", "average", "okay okay", "so so", "মোটামুটি", "চলনসই"),
    2: ("kharap", "kharaap", "bad", "poor", "not good", "unsatisfied", "খারাপ", "ভালো না", "bhalo na"),
    1: ("khub kharap", "very bad", "worst", "very poor", "খুব খারাপ", "জঘন্য", "kichui hoyni", "কিছুই হয়নি"),
}
_DOWNLOAD_WORDS = frozenset(
    normalize(w)
    for w in (
        "download",
        "pathan",
        "pathao",
        "pathiye",
        "send",
        "din",
        "dao",
        "chai",
        "certificate",
        "sonshapotro",
        "ডাউনলোড",
        "পাঠান",
        "পাঠাও",
        "দিন",
        "দাও",
        "চাই",
        "শংসাপত্র",
        "সার্টিফিকেট",
        "please",
        "pls",
        "ta",
        "টা",
    )
)


@dataclass(frozen=True)
class OpenQuestion:
    kind: str  # "rating" or "download"
    number: str  # the complaint or application the notification named


def open_question(session: Session, citizen: Citizen, now: Optional[datetime] = None) -> Optional[OpenQuestion]:
    """The question of the newest asking notification to the citizen, while it is still open."""
    now = now or utcnow()
    newest = session.execute(
        select(Notification)
        .where(
            Notification.citizen_id == citizen.id,
            Notification.kind.in_(tuple(QUESTIONS)),
            Notification.created_at >= now - OPEN_FOR,
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if newest is None:
        return None
    kind, number = QUESTIONS[newest.kind], str((newest.params or {}).get("number") or "")
    if kind == "rating":
        grievance = session.execute(select(Grievance).where(Grievance.number == number)).scalar_one_or_none()
        if grievance is None or grievance.rating is not None or grievance.status != "resolved":
            return None
    else:
        application = session.execute(select(Application).where(Application.number == number)).scalar_one_or_none()
        if application is None or application.status != "approved":
            return None
    return OpenQuestion(kind, number)


def rating_in(text: str) -> Optional[int]:
    """A rating from 1 to 5 in a bare answer (`৫`, `4 dilam`, `5 star`, `khub bhalo`), or None."""
    found = words(text)
    if not found or len(found) > 6:
        return None
    number = number_in(text)
    if number is not None:
        return number if 1 <= number <= 5 else None
    joined = f" {' '.join(found)} "
    # The longest phrase wins: "khub kharap" before "kharap", "bhalo na" before "bhalo".
    phrases = sorted(
        ((normalize(p), rating) for rating, ps in _RATING_WORDS.items() for p in ps),
        key=lambda item: len(item[0]),
        reverse=True,
    )
    return next((rating for phrase, rating in phrases if f" {phrase} " in joined), None)


def wants_download(text: str) -> bool:
    """A bare "yes, send it" to "your certificate is ready" (`ok`, `pathan`, `হ্যাঁ দিন`, `download TN-2026-45`)."""
    from panchayat.identifiers import find_identifiers

    for start, end, _value in reversed(find_identifiers(text)):
        text = text[:start] + " " + text[end:]
    found = words(text)
    if not found or len(found) > 5 or is_no(text):
        return False
    return is_yes(text) or (
        all(w in _DOWNLOAD_WORDS or w in YES_WORDS for w in found)
        and any(w in _DOWNLOAD_WORDS or is_yes(w) for w in found)
    )
