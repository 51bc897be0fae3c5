"""The trainers' inbox: the citizens' messages the assistant did not understand, gathered from the
conversations in Rasa's SQL tracker store (its `events` table) and grouped for labelling.

A user message is a miss when the NLU sent it to the fallback, read it as out_of_scope, hesitated
between its two best intents (or was unsure of the best), set aside a request that named nothing
of ours (nlu.components.OurBusinessGuard: the villager may have named it in words we lack), or
when the citizen's next message corrected it, abandoned it (cancel, menu, "thak") or said it
again in other words.

Privacy comes first, and before anything is kept: no conversation id (the phone number) or
anything derived from it; no message typed while the PIN form was on; no answer to any form's
question (where names, addresses, complaints and PINs are typed: the form took the answer, so it
is no miss of the NLU's); no message that may be a PIN once redacted (a bare number, a number next
to "pin", digits the redaction left); numbers, identifiers and e-mail addresses are redacted; only
the redacted wording is kept, and only within the retention period.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import yaml
from sqlalchemy import bindparam, create_engine, delete, inspect, select, text
from sqlalchemy.orm import Session

from panchayat import config
from panchayat.answers import is_correction, is_stop, words
from panchayat.bengali import BENGALI_DIGITS, normalize, phonetic_key
from panchayat.identifiers import find_identifiers
from panchayat.models import NluInboxItem
from panchayat.our_business import SET_ASIDE_KEY

# --- What counts as a miss ---------------------------------------------------------------------

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
# Why a message is a miss (_reason); each has a console text console_tr_reason_<reason>.
REASONS = ("fallback", "out_of_scope", "set_aside", "low_margin", "corrected", "abandoned", "repeated")
# The citizen's next message says the assistant got it wrong, or gives up on it.
CORRECTING_INTENTS = frozenset({"deny"})
ABANDONING_INTENTS = frozenset({"cancel", "show_menu"})
# Messages that carry no request of their own: a "menu" after them is no sign of a miss.
CONVERSATIONAL_INTENTS = frozenset(
    {"greet", "goodbye", "affirm", "deny", "thank_you", "show_menu", "cancel", "change_language"}
)
# The next message reacts to this one only when it follows soon enough.
FOLLOW_UP_SECONDS = 120
# Two wordings are the same request said again when their phonetic keys are this alike.
REPETITION_RATIO = 0.8
VARIANTS = 5
KEY_LENGTH = 300


@lru_cache(maxsize=1)
def thresholds() -> Tuple[float, float]:
    """(threshold, ambiguity_threshold) of the FallbackClassifier in config.yml."""
    threshold, ambiguity = 0.65, 0.1
    try:
        pipeline = yaml.safe_load((config.PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")) or {}
        for component in pipeline.get("pipeline") or []:
            if component.get("name") == "FallbackClassifier":
                threshold = float(component.get("threshold", threshold))
                ambiguity = float(component.get("ambiguity_threshold", ambiguity))
    except (OSError, yaml.YAMLError, ValueError, AttributeError):
        pass
    return threshold, ambiguity


# --- Which messages are private ---------------------------------------------------------------

# The PIN form (actions/getting_pay_documents.py), the slot its question fills and the stage of
# choosing one's own PIN: every message typed while any of them is on is an employee's PIN, or
# next to one.
PIN_FORMS = frozenset({"pay_form"})
PIN_SLOTS = frozenset({"pay_answer"})
PIN_STAGES = frozenset({"own_pin"})


# --- Redaction ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# 4 or more digits (ASCII or Bengali), with spaces, dashes or dots inside, and a +91 in front.
_DIGITS = r"[0-9\u09E6-\u09EF]"
_NUMBER = re.compile(rf"(?:\+\s*9\s*1[\s\-.]*)?{_DIGITS}(?:[\s\-./]*{_DIGITS}){{3,}}")
NUMBER, EMAIL = "<number>", "<email>"


def redact(text: str) -> str:
    """The message without identifiers, long numbers (phone, account, PIN) or e-mail addresses."""
    text = text or ""
    for start, end, _ in sorted(find_identifiers(text), reverse=True):
        text = text[:start] + NUMBER + text[end:]
    text = _EMAIL.sub(EMAIL, text)
    text = _NUMBER.sub(NUMBER, text)
    return re.sub(r"\s+", " ", text).strip()


# Words that name a secret: a redacted number next to one was a PIN.
PIN_WORDS = frozenset({"pin", "পিন", "password", "pasword", "পাসওয়ার্ড", "otp", "ওটিপি", "code", "কোড"})


def _may_hold_a_pin(redacted: str) -> bool:
    """Four digits the redaction left (say "48,21"), a number with nothing else ("4821"), or a
    number next to a word that names a secret ("amar pin 4821"): kept out of the inbox."""
    if sum(ch.isdigit() for ch in redacted.translate(BENGALI_DIGITS)) >= 4:
        return True
    if NUMBER not in redacted:
        return False
    found = [word for word in words(redacted.replace(NUMBER, " ")) if not word.isdigit()]
    return not found or bool(PIN_WORDS & set(found))


# Case endings that Banglish writes apart and Bengali script glues on: "sabha er" is "সভার".
_SEPARATE_ENDINGS = frozenset({"er", "r", "ke", "te", "e", "ta", "ti"})


def group_key(redacted: str) -> str:
    """The phonetic key of every word (as nlu.components.span_key), a separately written ending
    glued back on its word: one key for the same words in both scripts."""
    glued: List[str] = []
    for word in normalize(redacted).split():
        if glued and word.lower() in _SEPARATE_ENDINGS:
            glued[-1] += word.lower()
        else:
            glued.append(word)
    key = " ".join(filter(None, (phonetic_key(word) for word in glued)))
    return (key or normalize(redacted).lower())[:KEY_LENGTH]


# --- Reading the conversations -----------------------------------------------------------------


@dataclass
class Message:
    text: str
    timestamp: float
    intent: Optional[str]
    confidence: Optional[float]
    ranking: List[Dict[str, Any]]
    # The request the classifier guessed and OurBusinessGuard set aside, if any.
    set_aside: Optional[Dict[str, Any]]
    # Typed while the PIN form was on, or answering a form's question: never looked at.
    private: bool


@dataclass
class Miss:
    key: str
    text: str
    reason: str
    guess: Optional[str]
    confidence: Optional[float]
    at: datetime


@dataclass
class Group:
    key: str
    misses: List[Miss] = field(default_factory=list)


_EVENT_TYPES = ("user", "slot", "active_loop", "session_started", "restart")


def _events(tracker_url: str, since: float, until: float) -> Iterator[Tuple[str, float, Dict[str, Any]]]:
    """(conversation, timestamp, event) in order, conversation by conversation. The conversation
    id only tells conversations apart here; it is never kept."""
    engine = create_engine(tracker_url)
    try:
        if "events" not in inspect(engine).get_table_names():
            return
        query = text(
            "SELECT sender_id, timestamp, data FROM events"
            " WHERE timestamp >= :since AND timestamp <= :until AND type_name IN :types ORDER BY sender_id, id"
        ).bindparams(
            bindparam("since", since), bindparam("until", until), bindparam("types", list(_EVENT_TYPES), expanding=True)
        )
        with engine.connect() as connection:
            for sender, stamp, data in connection.execution_options(stream_results=True).execute(query):
                try:
                    event = json.loads(data or "{}")
                except ValueError:
                    continue
                yield sender, float(stamp or 0), event
    finally:
        engine.dispose()


def _conversations(tracker_url: str, since: float, until: float) -> Iterator[List[Message]]:
    """Each conversation's user messages, each marked with what was being asked when it came."""
    current: Optional[str] = None
    messages: List[Message] = []
    slots: Dict[str, Any] = {}
    loop: Optional[str] = None
    for sender, stamp, event in _events(tracker_url, since, until):
        if sender != current:
            if messages:
                yield messages
            current, messages, slots, loop = sender, [], {}, None
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            slots, loop = {}, None
        elif kind == "slot":
            slots[str(event.get("name"))] = event.get("value")
        elif kind == "active_loop":
            loop = event.get("name")
            if loop is None:
                slots["requested_slot"] = None
        elif kind == "user":
            messages.append(_message(event, stamp, slots, loop))
    if messages:
        yield messages


def _message(event: Dict[str, Any], stamp: float, slots: Dict[str, Any], loop: Optional[str]) -> Message:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [r for r in parse.get("intent_ranking") or [] if isinstance(r, dict)]
    asked = slots.get("requested_slot") if loop else None
    # Any answer to a form's question: the form took it whatever the NLU made of it, and that is
    # where citizens type their names, addresses, complaints and PINs. Never kept.
    private = bool(loop in PIN_FORMS or asked in PIN_SLOTS or slots.get("pay_stage") in PIN_STAGES or (loop and asked))
    return Message(
        text=str(event.get("text") or ""),
        timestamp=float(event.get("timestamp") or stamp),
        intent=intent.get("name"),
        confidence=_float(intent.get("confidence")),
        ranking=ranking,
        set_aside=parse.get(SET_ASIDE_KEY) if isinstance(parse.get(SET_ASIDE_KEY), dict) else None,
        private=private,
    )


def _float(value: Any) -> Optional[float]:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _is_payload(text: str) -> bool:
    return text.strip().startswith("/")


def _guess(message: Message) -> Tuple[Optional[str], Optional[float]]:
    """The assistant's best guess: under a fallback, the best intent other than the fallback; for a
    request set aside, that request."""
    if message.set_aside and message.set_aside.get("name"):
        return str(message.set_aside["name"]), _float(message.set_aside.get("confidence"))
    if message.intent == FALLBACK:
        for entry in message.ranking:
            if entry.get("name") and entry.get("name") != FALLBACK:
                return entry["name"], _float(entry.get("confidence"))
        return None, None
    return message.intent, message.confidence


def _reason(message: Message, following: Optional[Message]) -> Optional[str]:
    """Why this message is a miss, or None when the assistant understood it."""
    if message.intent == FALLBACK:
        return "fallback"
    if message.intent == OUT_OF_SCOPE:
        return "out_of_scope"
    if message.set_aside:
        return "set_aside"
    threshold, ambiguity = thresholds()
    ranked = [r for r in message.ranking if r.get("name") != FALLBACK]
    if message.confidence is not None:
        scores = sorted((_float(r.get("confidence")) or 0.0 for r in ranked), reverse=True)
        if message.confidence < threshold or (len(scores) > 1 and scores[0] - scores[1] < ambiguity):
            return "low_margin"
    if following is None or following.timestamp - message.timestamp > FOLLOW_UP_SECONDS:
        return None
    if message.intent in CONVERSATIONAL_INTENTS:
        return None
    if following.intent in CORRECTING_INTENTS or (not following.private and is_correction(following.text)):
        return "corrected"
    if following.intent in ABANDONING_INTENTS or (not following.private and is_stop(following.text)):
        return "abandoned"
    if not _is_payload(following.text) and _said_again(message.text, following.text):
        return "repeated"
    return None


def _said_again(first: str, second: str) -> bool:
    a, b = group_key(redact(first)), group_key(redact(second))
    return bool(a and b) and (a == b or SequenceMatcher(None, a, b).ratio() >= REPETITION_RATIO)


def _misses(tracker_url: str, since: float, until: float, counts: Dict[str, int]) -> Iterator[Miss]:
    for conversation in _conversations(tracker_url, since, until):
        for index, message in enumerate(conversation):
            counts["messages"] += 1
            if _is_payload(message.text) or not message.text.strip():
                continue
            redacted = redact(message.text)
            # The PIN form and every form's answers; and, to be safe, anything that may be a PIN.
            if message.private or _may_hold_a_pin(redacted):
                counts["private_skipped"] += 1
                continue
            following = conversation[index + 1] if index + 1 < len(conversation) else None
            reason = _reason(message, following)
            if reason is None:
                continue
            key = group_key(redacted)
            if not key:
                continue
            guess, confidence = _guess(message)
            counts["misses"] += 1
            yield Miss(key, redacted, reason, guess, confidence, datetime.utcfromtimestamp(message.timestamp))


# --- The inbox ---------------------------------------------------------------------------------


def collect(
    session: Session,
    tracker_url: str,
    now: Optional[datetime] = None,
    retention_days: int = config.CONVERSATION_RETENTION_DAYS,
) -> Dict[str, int]:
    """Rebuilds the inbox from the conversations of the last `retention_days`: the groups still
    new are recomputed (collecting twice gives the same counts); groups a trainer has labelled or
    set aside keep their status and wording, their counts refreshed. Returns counts."""
    now = now or datetime.utcnow()
    cutoff = now - timedelta(days=retention_days)
    counts = {"messages": 0, "misses": 0, "private_skipped": 0, "groups": 0}
    groups: Dict[str, Group] = {}
    epoch = datetime(1970, 1, 1)
    since, until = (cutoff - epoch).total_seconds(), (now - epoch).total_seconds()
    for miss in _misses(tracker_url, since, until, counts):
        groups.setdefault(miss.key, Group(miss.key)).misses.append(miss)

    existing = {item.key: item for item in session.execute(select(NluInboxItem)).scalars()}
    for key, group in groups.items():
        misses = sorted(group.misses, key=lambda m: m.at, reverse=True)
        newest = misses[0]
        item = existing.get(key)
        if item is None:
            item = NluInboxItem(key=key, status="new")
            session.add(item)
        item.count = len(misses)
        item.first_seen_at = misses[-1].at
        item.last_seen_at = newest.at
        if item.status == "new":
            # A labelled item keeps its wording: its labelled entities are offsets into it.
            item.text = newest.text
            item.reason = newest.reason
            item.guess_intent = newest.guess
            item.confidence = newest.confidence
            item.variants = _variants(newest.text, (m.text for m in misses[1:]))
    # New groups no longer seen (their conversations purged) go; a trainer's decisions stay.
    gone = [item.id for key, item in existing.items() if key not in groups and item.status == "new"]
    if gone:
        session.execute(delete(NluInboxItem).where(NluInboxItem.id.in_(gone)))
    session.flush()
    purge_expired(session, retention_days, now=now)
    counts["groups"] = len(groups)
    return counts


def _variants(text: str, others: Iterable[str]) -> List[str]:
    variants: List[str] = []
    for other in others:
        if other != text and other not in variants:
            variants.append(other)
        if len(variants) == VARIANTS:
            break
    return variants


def inbox(session: Session, status: str = "new", limit: int = 200) -> List[NluInboxItem]:
    """The groups of one status, newest first."""
    query = (
        select(NluInboxItem)
        .where(NluInboxItem.status == status)
        .order_by(NluInboxItem.last_seen_at.desc(), NluInboxItem.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def find(session: Session, item_id: int) -> Optional[NluInboxItem]:
    return session.get(NluInboxItem, item_id)


def purge_expired(session: Session, days: int, now: Optional[datetime] = None, dry_run: bool = False) -> int:
    """Deletes the groups not seen for `days` (whatever their status); returns how many."""
    cutoff = (now or datetime.utcnow()) - timedelta(days=days)
    old = [item_id for (item_id,) in session.execute(select(NluInboxItem.id).where(NluInboxItem.last_seen_at < cutoff))]
    if old and not dry_run:
        session.execute(delete(NluInboxItem).where(NluInboxItem.id.in_(old)))
        session.flush()
    return len(old)
