"""The trainers' inbox (panchayat/nlu_inbox.py): the misses found in Rasa's SQL tracker store, grouped
across scripts, and nothing private ever kept (no PIN, name, phone number or conversation id).

The tracker store is a table `events` with Rasa's schema, filled with events of the shape a real
Rasa 3.6 server writes (copied from a `scripts/stack.py serve` run)."""

import json
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest
from sqlalchemy import create_engine, select, text

from panchayat import db, nlu_inbox, retention
from panchayat.models import NluInboxItem
from tests.conftest import _create_pg_database, _drop_pg_database

NOW = datetime(2026, 12, 2, 12, 0, 0)
EPOCH = datetime(1970, 1, 1)
METADATA = {"model_id": "67bf633f030a4729821216c86465fd4e", "assistant_id": "smart-panchayat"}
INTENTS = ["greet", "inform", "talk_to_human", "show_menu", "cancel", "goodbye", "apply_service", "get_payslip"]

EVENTS_TABLE = """CREATE TABLE events (
    id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT, PRIMARY KEY (id))"""


class Conversation:
    """One citizen's events, in Rasa's JSON, a second or so apart."""

    def __init__(self, sender: str, start: datetime = NOW - timedelta(hours=1)) -> None:
        self.sender = sender
        self.clock = (start - EPOCH).total_seconds()
        self.events: List[Dict[str, Any]] = []
        self.action("action_session_start")
        self._add({"event": "session_started"})
        self.action("action_listen")

    def _add(self, event: Dict[str, Any], seconds: float = 0.01) -> "Conversation":
        self.clock += seconds
        self.events.append({"event": event["event"], "timestamp": self.clock, "metadata": METADATA, **event})
        return self

    def action(self, name: str) -> "Conversation":
        return self._add({"event": "action", "name": name, "policy": "RulePolicy", "confidence": 1.0,
                          "action_text": None, "hide_rule_turn": False})

    def slot(self, name: str, value: Any) -> "Conversation":
        return self._add({"event": "slot", "name": name, "value": value})

    def loop(self, name: Optional[str]) -> "Conversation":
        return self._add({"event": "active_loop", "name": name})

    def bot(self, said: str) -> "Conversation":
        return self._add({"event": "bot", "text": said, "data": {"buttons": None, "custom": None}})

    def user(self, typed: str, intent: str, confidence: float = 0.98, second: Optional[tuple] = None,
             after: float = 20, set_aside: Optional[tuple] = None) -> "Conversation":
        """`typed`, read as `intent`; `second` the next best (name, confidence). A message under the
        fallback has it first (confidence = the threshold), the guess after it, as Rasa writes them."""
        ranking = []
        if intent == "nlu_fallback":
            ranking.append({"name": "nlu_fallback", "confidence": 0.65})
            guess = second or ("inform", 0.41)
            ranking.append({"name": guess[0], "confidence": guess[1]})
        else:
            ranking.append({"name": intent, "confidence": confidence})
            if second:
                ranking.append({"name": second[0], "confidence": second[1]})
        rest = (1 - sum(r["confidence"] for r in ranking if r["name"] != "nlu_fallback")) / 10
        ranking += [{"name": n, "confidence": max(rest, 0.0)} for n in INTENTS if n not in {r["name"] for r in ranking}]
        parse = {"intent": {"name": intent, "confidence": ranking[0]["confidence"]}, "entities": [], "text": typed,
                 "message_id": "2c33d87f72154eeaa4944e5a07b89ad3", "metadata": {},
                 "text_tokens": [[0, len(typed)]], "intent_ranking": ranking}
        if set_aside:  # a request nlu.components.OurBusinessGuard set aside, as it writes it
            parse["request_set_aside"] = {"name": set_aside[0], "confidence": set_aside[1]}
        self._add({"event": "user", "text": typed, "parse_data": parse, "input_channel": "rest",
                   "message_id": "2c33d87f72154eeaa4944e5a07b89ad3"}, seconds=after)
        self.slot("language", "bn").slot("gp_known", True)
        return self._add({"event": "user_featurization", "use_text_for_featurization": False})


class TrackerStore:
    """An `events` table in a SQLite file or a PostgreSQL database, as Rasa's SQLTrackerStore keeps it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.next_id = 1
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(EVENTS_TABLE))
        engine.dispose()

    def add(self, *conversations: Conversation) -> None:
        engine = create_engine(self.url)
        with engine.begin() as connection:
            for conversation in conversations:
                for event in conversation.events:
                    connection.execute(
                        text("INSERT INTO events (id, sender_id, type_name, timestamp, intent_name, action_name, data)"
                             " VALUES (:id, :s, :t, :ts, :i, :a, :d)"),
                        {"id": self.next_id, "s": conversation.sender, "t": event["event"], "ts": event["timestamp"],
                         "i": (event.get("parse_data") or {}).get("intent", {}).get("name"),
                         "a": event.get("name") if event["event"] in ("action", "slot") else None,
                         "d": json.dumps(event)},
                    )
                    self.next_id += 1
        engine.dispose()


@pytest.fixture
def store(tmp_path) -> TrackerStore:
    return TrackerStore(f"sqlite:///{tmp_path / 'trackers.db'}")


def collect(database: str, store: TrackerStore, now: datetime = NOW, days: int = 90) -> Dict[str, int]:
    with db.session_scope(database) as session:
        return nlu_inbox.collect(session, store.url, now=now, retention_days=days)


def rows(database: str, status: Optional[str] = "new") -> List[Dict[str, Any]]:
    with db.session_scope(database) as session:
        items = nlu_inbox.inbox(session, status=status) if status else session.execute(select(NluInboxItem)).scalars()
        return [{c.name: getattr(item, c.name) for c in NluInboxItem.__table__.columns} for item in items]


def everything_kept(database: str) -> str:
    """Every column of every inbox row, as one text to search."""
    return json.dumps(rows(database, status=None), default=str, ensure_ascii=False)


def by_text(database: str) -> Dict[str, Dict[str, Any]]:
    return {row["text"]: row for row in rows(database)}


def test_each_kind_of_miss_is_found_and_an_understood_message_is_not(database, store):
    store.add(
        Conversation("919800000001")
        .user("qwzx blorp fnord", "nlu_fallback", second=("lodge_grievance", 0.59))
        .user("who won the cricket match", "out_of_scope", 0.99)
        .user("jomir kagoj kothay pabo", "service_info", 0.48, second=("apply_service", 0.44)),
        Conversation("919800000002")
        .user("certificate ta pathan", "download_certificate", 0.93).user("na", "deny", 0.97),
        Conversation("919800000003")
        .user("ghor banabo onumoti", "book_guest_house", 0.9).user("cancel", "cancel", 0.99),
        Conversation("919800000004")
        .user("amar dokaner kagoj", "check_booking", 0.88).user("আমার দোকানের কাগজ", "check_booking", 0.9),
        # Understood, and the next message is a new request minutes later.
        Conversation("919800000005")
        .user("amar payslip chai", "get_payslip", 0.997).user("menu", "show_menu", 0.99, after=600),
    )
    counts = collect(database, store)
    found = by_text(database)
    assert {text: row["reason"] for text, row in found.items()} == {
        "qwzx blorp fnord": "fallback",
        "who won the cricket match": "out_of_scope",
        "jomir kagoj kothay pabo": "low_margin",
        "certificate ta pathan": "corrected",
        "ghor banabo onumoti": "abandoned",
        "amar dokaner kagoj": "repeated",
    }
    fallback = found["qwzx blorp fnord"]
    assert fallback["guess_intent"] == "lodge_grievance" and fallback["confidence"] == pytest.approx(0.59)
    assert found["jomir kagoj kothay pabo"]["guess_intent"] == "service_info"
    assert counts["messages"] == 11 and counts["misses"] == 6 and counts["groups"] == 6


def test_a_request_set_aside_for_naming_nothing_of_ours_is_a_miss_with_its_guess(database, store):
    """A villager's real request in words the assistant lacks ("kobe thik hobe") is set aside as an
    answer by the NLU; the trainers must see it, with the request that was guessed."""
    store.add(
        Conversation("919800000006")
        .user("kobe thik hobe bolun to", "inform", 1.0, set_aside=("check_grievance_status", 0.91))
        .user("kemon achen", "greet", 0.99, after=600),
    )
    collect(database, store)
    (row,) = rows(database)
    assert (row["text"], row["reason"]) == ("kobe thik hobe bolun to", "set_aside")
    assert row["guess_intent"] == "check_grievance_status" and row["confidence"] == pytest.approx(0.91)


@pytest.mark.parametrize("banglish, bengali", [
    ("gram sabha er meeting kobe hobe", "গ্রাম সভার মিটিং কবে হবে"),  # an ending written apart
    ("amar dokan er kagoj", "আমার দোকানের কাগজ"),
    ("certificate ta pathan", "সার্টিফিকেটটা পাঠান"),
])
def test_an_ending_written_apart_in_banglish_is_the_same_group_as_glued_in_bengali(banglish, bengali):
    assert nlu_inbox.group_key(banglish) == nlu_inbox.group_key(bengali)
    assert nlu_inbox.group_key(banglish) != nlu_inbox.group_key("gram sabha meeting kobe hobe na")


def test_the_same_words_in_either_script_are_one_group_counted_newest_first(database, store):
    store.add(
        Conversation("919800000011", start=NOW - timedelta(days=3)).user("amar trade licence", "nlu_fallback"),
        Conversation("919800000012", start=NOW - timedelta(days=2)).user("আমার ট্রেড লাইসেন্স", "nlu_fallback"),
        Conversation("919800000013", start=NOW - timedelta(days=1)).user("amar trade licence", "nlu_fallback"),
        Conversation("919800000014", start=NOW - timedelta(hours=5)).user("who won the match", "out_of_scope"),
    )
    collect(database, store)
    listed = rows(database)
    assert [row["text"] for row in listed] == ["who won the match", "amar trade licence"]
    group = listed[1]
    assert group["count"] == 3 and group["variants"] == ["আমার ট্রেড লাইসেন্স"]
    assert group["first_seen_at"] < NOW - timedelta(days=2, hours=23)
    assert group["last_seen_at"] > NOW - timedelta(days=1)


def test_collecting_twice_gives_the_same_inbox(database, store):
    store.add(Conversation("919800000021").user("qwzx blorp", "nlu_fallback").user("kisu bujhlam na", "nlu_fallback"),
              Conversation("919800000022").user("qwzx blorp", "nlu_fallback"))
    first = collect(database, store)
    before = rows(database)
    assert collect(database, store) == first
    assert rows(database) == before and {row["text"]: row["count"] for row in before} == {
        "qwzx blorp": 2, "kisu bujhlam na": 1}


def test_a_labelled_group_keeps_its_label_and_wording(database, store):
    store.add(Conversation("919800000031").user("amar trade licence", "nlu_fallback"))
    collect(database, store)
    with db.session_scope(database) as session:
        item = nlu_inbox.inbox(session)[0]
        item_id = item.id
        item.status, item.label_intent, item.labelled_by = "labelled", "apply_service", "trainer"
        item.label_entities = [{"start": 5, "end": 18, "entity": "service", "value": "trade_noc"}]
    store.add(Conversation("919800000032").user("আমার ট্রেড লাইসেন্স", "nlu_fallback"))
    collect(database, store)
    assert rows(database) == []
    with db.session_scope(database) as session:
        item = nlu_inbox.find(session, item_id)
        assert item is not None and item.status == "labelled" and item.label_intent == "apply_service"
        assert item.text == "amar trade licence" and item.count == 2
        assert [i.id for i in nlu_inbox.inbox(session, status="labelled")] == [item_id]


def test_old_conversations_and_groups_go_with_the_retention_period(database, store, monkeypatch):
    monkeypatch.setattr(retention, "transient_folders", lambda: ())  # no file of this machine is touched
    store.add(Conversation("919800000041", start=NOW - timedelta(days=200)).user("purono kotha", "nlu_fallback"),
              Conversation("919800000042", start=NOW - timedelta(days=10)).user("notun kotha", "nlu_fallback"))
    collect(database, store, now=NOW - timedelta(days=150))  # back then, the old message was recent
    assert {row["text"] for row in rows(database)} == {"purono kotha"}
    with db.session_scope(database) as session:
        item = nlu_inbox.inbox(session)[0]
        item.status = "not_for_us"
    collect(database, store)
    assert {row["text"] for row in rows(database, status=None)} == {"notun kotha"}
    # The retention purge covers the inbox too.
    with db.session_scope(database) as session:
        assert retention.purge(session, 90, actor="test", now=NOW + timedelta(days=30), dry_run=True)[
            "nlu_inbox_items"] == 0
        counts = retention.purge(session, 90, actor="test", now=NOW + timedelta(days=120))
    assert counts["nlu_inbox_items"] == 1 and rows(database, status=None) == []


PIN_TYPED = ["4821", "৪৮২১", "pin 4821", "amar pin 4821", "4 8 2 1", "pin ৪৮২১ dilam"]


@pytest.mark.parametrize("intent", ["nlu_fallback", "rate_grievance", "inform"])
def test_a_pin_typed_in_the_chat_never_reaches_the_inbox(database, store, intent):
    employee = Conversation("910000000001").user("amar payslip chai", "get_payslip", 0.998)
    employee.action("action_send_pay_document").action("pay_form").loop("pay_form").slot("requested_slot", "pay_answer")
    employee.bot("আপনার বেতনের তথ্য সুরক্ষিত রাখতে আপনার পিন পাঠান।").action("action_listen")
    for typed in PIN_TYPED:
        # Each is a miss by itself: the NLU is unsure and the employee says it again.
        employee.user(typed, intent, 0.5, second=("greet", 0.45)).slot("pay_answer", None).action("action_listen")
    # The first-time employee choosing a PIN of their own.
    employee.slot("pay_stage", "own_pin").user("1357", intent, 0.5).user("1357", intent, 0.5)
    # The form ends (a refused PIN); the employee goes on typing it anyway.
    employee.slot("pay_answer", "refused").slot("pay_stage", None).slot("requested_slot", None).loop(None)
    for typed in PIN_TYPED:
        employee.user(typed, intent, 0.5, second=("greet", 0.45))
    employee.user("menu", "show_menu", 0.99)
    store.add(employee)
    counts = collect(database, store)
    kept = everything_kept(database)
    for digits in ("4821", "৪৮২১", "1357"):
        assert digits not in kept
    assert all(not any(ch.isdigit() for ch in row["text"] + row["key"] + "".join(row["variants"]))
               for row in rows(database, status=None))
    # In the form as an answer; after it, as a bare number or a number next to "pin".
    assert counts["private_skipped"] == 2 * len(PIN_TYPED) + 2 and rows(database) == []


def test_names_and_answers_typed_into_forms_are_not_kept(database, store):
    applicant = Conversation("919800000051").user("trade licence apply korbo", "apply_service", 0.99)
    applicant.action("application_form").loop("application_form").slot("service", "trade_noc")
    applicant.slot("application_draft", {"service": "trade_noc", "fields": {"trade_name": "Maa Tara Stores",
                                                                            "nature_of_trade": "grocery",
                                                                            "premises_address": "Uttarpara"},
                                         "documents": {}, "editing": None})
    applicant.slot("requested_slot", "application_answer").bot("মালিকের পুরো নাম কী?").action("action_listen")
    applicant.user("Rahim Sheikh", "nlu_fallback").user("রহিম শেখ", "nlu_fallback").user("cancel", "cancel")
    # Asked for the gram panchayat, a citizen types their own name: an answer all the same.
    citizen = Conversation("919800000052").user("complaint korbo", "lodge_grievance", 0.99)
    citizen.action("grievance_form").loop("grievance_form").slot("requested_slot", "gp_name")
    citizen.user("Sukumar Das", "nlu_fallback").user("Sukumar Das", "nlu_fallback").user("menu", "show_menu")
    store.add(applicant, citizen)
    counts = collect(database, store)
    kept = everything_kept(database)
    for name in ("Rahim", "রহিম", "Sukumar", "Maa Tara", "Uttarpara", "rhm"):
        assert name not in kept
    assert rows(database) == [] and counts["private_skipped"] == 6


def test_numbers_identifiers_and_email_addresses_are_redacted(database, store):
    store.add(Conversation("919800000061")
              .user("amar phone +91 98300 12345 e call korun", "nlu_fallback")
              .user("TN-2026-000045 er ki holo", "nlu_fallback")
              .user("আমার অ্যাকাউন্ট ১২৩৪ ৫৬৭৮ ৯০১২", "nlu_fallback")
              .user("mail koren ramesh.das@example.com e", "nlu_fallback"))
    collect(database, store)
    assert set(by_text(database)) == {"amar phone <number> e call korun", "<number> er ki holo",
                                      "আমার অ্যাকাউন্ট <number>", "mail koren <email> e"}
    kept = everything_kept(database)
    for private in ("98300", "12345", "000045", "2026-000045", "১২৩৪", "ramesh", "example.com"):
        assert private not in kept


@pytest.mark.parametrize("typed, redacted", [
    ("call 9830012345", "call <number>"),
    ("+91-98300-12345 te", "<number> te"),
    ("আমার নম্বর ৯৮৩০০ ১২৩৪৫", "আমার নম্বর <number>"),
    ("TN 2026 45 kothay", "<number> kothay"),
    ("জে এল নম্বর ১২", "জে এল নম্বর ১২"),
    ("a/c 1234-5678-9012-3456", "a/c <number>"),
    ("x@y.in", "<email>"),
    ("amar trade licence", "amar trade licence"),
])
def test_redact(typed, redacted):
    assert nlu_inbox.redact(typed) == redacted


def test_no_conversation_id_is_kept(database, store):
    senders = ["919830012345", "wa-5f2c9a0d1e", "t1-sender-abc"]
    store.add(*(Conversation(sender).user("qwzx blorp fnord", "nlu_fallback") for sender in senders))
    collect(database, store)
    kept = everything_kept(database)
    assert rows(database)[0]["count"] == 3
    for sender in senders:
        assert sender not in kept and sender[-6:] not in kept
    assert not {"sender", "sender_id", "conversation"} & {c.name for c in NluInboxItem.__table__.columns}


def test_a_postgresql_tracker_store(database):
    url = _create_pg_database()
    try:
        store = TrackerStore(url)
        store.add(Conversation("919800000071", start=NOW - timedelta(hours=2)).user("আমার ট্রেড লাইসেন্স", "nlu_fallback"),
                  Conversation("919800000072").user("amar trade licence", "nlu_fallback").user("menu", "show_menu"),
                  Conversation("919800000073", start=NOW - timedelta(days=120)).user("purono", "nlu_fallback"))
        counts = collect(database, store)
        assert counts == {"messages": 3, "misses": 2, "private_skipped": 0, "groups": 1}
        assert [(row["text"], row["count"]) for row in rows(database)] == [("amar trade licence", 2)]
    finally:
        _drop_pg_database(url)


def test_no_tracker_store_yet_gives_an_empty_inbox(database, tmp_path):
    with db.session_scope(database) as session:
        counts = nlu_inbox.collect(session, f"sqlite:///{tmp_path / 'none.db'}", now=NOW)
        assert counts["messages"] == 0 and nlu_inbox.inbox(session) == []
