"""The WhatsApp channel, driven over HTTP like Meta drives it.

Each test runs the channel's own blueprint in a real Sanic server (registered the way the
Rasa server registers channels) against the local Graph API fake; only Rasa's agent is
replaced, by a stand-in that records the UserMessages it gets and may answer. The
database is real: SQLite, and PostgreSQL where the database matters.

The inbound cases live in tests/whatsapp_fixtures/, one JSON file each: the request,
the media the fake holds, and what must reach the dialogue and go out to the citizen.
"""
import asyncio
import json
import logging
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.exceptions import RasaException
from sanic import Sanic
from sqlalchemy import select

from connectors.whatsapp import WhatsAppInput
from connectors.whatsapp.graph_api import GraphClient, GraphError
from connectors.whatsapp.outbound import OutboundRecorder
from connectors.whatsapp.payloads import TEXT_LIMIT, answer_to_menu, menu_messages, split_text
from connectors.whatsapp.redact import mask_number
from connectors.whatsapp.settings import WhatsAppSettings
from connectors.whatsapp.signing import signature
from panchayat import channel_records, db
from panchayat.catalogue import text as catalogue_text
from panchayat.channel_records import number_hash
from panchayat.models import Citizen, WhatsAppInbound, WhatsAppOutbound
from simulator import graph_fake
from tests.conftest import LoopThread

FIXTURES = Path(__file__).parent / "whatsapp_fixtures"
PHONE_NUMBER_ID = graph_fake.DEFAULT_PHONE_NUMBER_ID
VERIFY_TOKEN = "VERIFY"
APP_SECRET = "app-secret-4c1f9e"
ACCESS_TOKEN = "EAAG-access-token-77aa91"
RINA = "919800000001"
MAX_MEDIA_BYTES = 64 * 1024
WEBHOOK_PATH = "/webhooks/whatsapp/webhook"


def media_bytes(kind: str, size: int) -> bytes:
    head = {"jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "text": b"this is not an image, only words\n"}[kind]
    return (head + bytes(range(256)) * (size // 256 + 1))[:size]


# --- The harness: one event loop in a thread, a Sanic server with the channel, the Graph fake ---


DIALOGUE_REPLY = "(the assistant's answer)"


class Dialogue:
    """Stands in for Rasa's agent: records each UserMessage and sends `answer(message)`'s replies
    through the message's output channel, as Rasa does."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        # Like the real assistant, every message gets an answer unless a test says otherwise.
        self.answer: Callable[[UserMessage], List[Dict]] = lambda message: [{"text": DIALOGUE_REPLY}]
        self.fail: Optional[Exception] = None
        self.pause: Optional[float] = None
        self.active: Dict[str, int] = {}
        self.finished = 0
        self.overlapped = False  # two messages of one sender in the dialogue at once

    async def handle_message(self, message: UserMessage) -> None:
        self.active[message.sender_id] = self.active.get(message.sender_id, 0) + 1
        self.overlapped = self.overlapped or self.active[message.sender_id] > 1
        try:
            self.received.append(message)
            if self.pause:
                await asyncio.sleep(self.pause)
            if self.fail is not None:
                raise self.fail
            for reply in self.answer(message):
                await message.output_channel.send_response(message.sender_id, dict(reply))
        finally:
            self.active[message.sender_id] -= 1
            self.finished += 1


class Harness:
    def __init__(self, runner: LoopThread, database_url: str, folder: Path, **overrides: Any) -> None:
        self.runner, self.database_url, self.folder = runner, database_url, folder
        self.dialogue = Dialogue()
        self.fake = graph_fake.GraphFake(ACCESS_TOKEN, PHONE_NUMBER_ID)
        self.overrides = overrides
        runner.run(self._start())

    async def _start(self) -> None:
        base_url = await self.fake.start()
        self.settings = WhatsAppSettings(
            verify_token=VERIFY_TOKEN, app_secret=APP_SECRET, access_token=ACCESS_TOKEN,
            phone_number_id=PHONE_NUMBER_ID, api_base_url=base_url, media_dir=self.folder / "whatsapp-media",
            max_media_bytes=MAX_MEDIA_BYTES, retry_base_delay=0.001, send_attempts=4,
            outbound_file_dirs=(self.folder / "outbox",), **self.overrides)
        self.channel = WhatsAppInput(self.settings)
        self.app = Sanic(f"whatsapp_test_{uuid.uuid4().hex}")
        self.app.ctx.agent = self.dialogue
        register([self.channel], self.app, "/webhooks/")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}{WEBHOOK_PATH}"
        self.server = await self.app.create_server(sock=listener, return_asyncio_server=True, access_log=False)
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()

    async def _stop(self) -> None:
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()  # the channel drains and closes its Graph client here
        await self.fake.stop()

    def close(self) -> None:
        self.runner.run(self._stop())

    # -- Requests --

    def post(self, body: bytes, signed: Optional[str] = "valid", copies: int = 1, chunked: bool = False) -> List:
        headers = {"Content-Type": "application/json"}
        if signed == "valid":
            headers["X-Hub-Signature-256"] = signature(APP_SECRET, body)
        elif signed == "wrong":
            headers["X-Hub-Signature-256"] = signature("not-the-secret", body)

        async def one(session: aiohttp.ClientSession):
            async def pieces():
                for start in range(0, len(body), 65536):
                    yield body[start:start + 65536]

            async with session.post(self.url, data=pieces() if chunked else body, headers=headers) as reply:
                return reply.status, await reply.text()

        async def all_at_once():
            async with aiohttp.ClientSession() as session:
                return await asyncio.gather(*(one(session) for _ in range(copies)))

        return self.runner.run(all_at_once())

    def deliver(self, *messages: Dict, statuses=()) -> int:
        [(status, _)] = self.post(graph_fake.encode(graph_fake.webhook(messages, statuses)))
        self.drain()
        return status

    def get(self, query: Dict[str, str]):
        async def call():
            async with aiohttp.ClientSession() as session:
                async with session.get(self.url, params=query) as reply:
                    return reply.status, await reply.text()

        return self.runner.run(call())

    def drain(self) -> None:
        self.runner.run(self.channel.drain())

    def send(self, coroutine_factory: Callable[[WhatsAppInput], Any]) -> Any:
        return self.runner.run(coroutine_factory(self.channel))

    # -- The database --

    def outbound(self) -> List[WhatsAppOutbound]:
        with db.session_scope(self.database_url) as session:
            return list(session.execute(select(WhatsAppOutbound).order_by(WhatsAppOutbound.id)).scalars())

    def inbound(self) -> List[WhatsAppInbound]:
        with db.session_scope(self.database_url) as session:
            return list(session.execute(select(WhatsAppInbound).order_by(WhatsAppInbound.id)).scalars())


@pytest.fixture
def make_harness(loop_thread, tmp_path, monkeypatch, new_database):
    # Several Sanic apps in one process, as sanic-testing runs them: the touch-up of Sanic's
    # internals then starts from the original code each time, and app names may repeat.
    monkeypatch.setattr(Sanic, "test_mode", True)
    harnesses = []

    def build(database_url: Optional[str] = None, **overrides: Any) -> Harness:
        if database_url is None:
            database_url = new_database("sqlite", seeded=False)
        harness = Harness(loop_thread, database_url, tmp_path, **overrides)
        harnesses.append(harness)
        return harness

    yield build
    for harness in harnesses:
        harness.close()
    db.dispose_engines()


@pytest.fixture
def harness(make_harness) -> Harness:
    return make_harness()


# --- The fixture cases ----------------------------------------------------------------------


def fixture_names() -> List[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


def test_every_inbound_type_and_negative_case_has_a_fixture():
    required = {"text", "button_reply", "list_reply", "button", "image", "document", "location", "audio", "video",
                "sticker", "reaction", "contacts", "unknown_type", "statuses_only", "batch_two_users",
                "batch_messages_and_statuses", "missing_signature", "wrong_signature", "wrong_verify_token",
                "duplicate_delivery", "unknown_status", "malformed_json", "oversized_body", "media_wrong_type",
                "media_too_big"}
    assert required <= set(fixture_names())


@pytest.mark.parametrize("name", fixture_names())
def test_fixture(name, harness):
    case = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    request, expect = case["request"], case["expect"]
    for media_id, media in case.get("media", {}).items():
        harness.fake.add_media(media_bytes(media["content"], media["size"]), media["mime_type"], media_id)
    with db.session_scope(harness.database_url) as session:
        for citizen in case.get("citizens", []):
            session.add(Citizen(wa_id=citizen["wa_id"], language=citizen["language"], language_explicit=True))
    for sent in case.get("outbound", []):
        channel_records.record_outbound(recipient_hash=number_hash(APP_SECRET, sent["to"]), kind="text",
                                        provider_message_id=sent["provider_message_id"],
                                        database_url=harness.database_url)

    if request["method"] == "GET":
        answers = [harness.get(request["query"])]
    else:
        if "raw_body" in request:
            body = request["raw_body"].encode()
        else:
            payload = dict(request["body"])
            if request.get("padding_bytes"):
                payload["padding"] = "x" * request["padding_bytes"]
            body = graph_fake.encode(payload)
        copies = request.get("repeat", 1)
        if request.get("concurrent"):
            answers = harness.post(body, request["signature"], copies=copies)
        else:
            answers = [answer for _ in range(copies) for answer in harness.post(body, request["signature"])]
            harness.drain()
        # A redelivery after the first was fully handled.
        answers += harness.post(body, request["signature"]) if copies > 1 else []
    harness.drain()

    assert {status for status, _ in answers} == {expect["status"]}, answers
    for _, body_text in answers:
        assert "Traceback" not in body_text
        if "body" in expect:
            assert body_text == expect["body"]
        if "body_lacks" in expect:
            assert expect["body_lacks"] not in body_text

    # Different senders are served side by side: the order holds per sender only.
    received = sorted(harness.dialogue.received, key=lambda m: m.sender_id)
    wanted_dialogue = sorted(expect.get("dialogue", []), key=lambda d: d["sender"])
    assert [(m.sender_id, m.text) for m in received] == [(d["sender"], d["text"]) for d in wanted_dialogue]
    for message, wanted in zip(received, wanted_dialogue, strict=True):
        assert message.input_channel == "whatsapp" and message.message_id.startswith("wamid.")
        for key, value in wanted.get("metadata", {}).items():
            assert message.metadata[key] == value, key
        if "media" in wanted:
            stored = Path(message.metadata["media_path"])
            assert stored.parent == harness.settings.media_dir
            assert stored.read_bytes() == harness.fake.media[wanted["media"]]["data"]
            assert message.metadata["media_size"] == stored.stat().st_size

    sent = [(m["to"], m["type"], m.get("text", {}).get("body")) for m in harness.fake.messages
            if m.get("text", {}).get("body") != DIALOGUE_REPLY]
    assert len(harness.fake.messages) - len(sent) == len(received)  # the dialogue's own answers
    replies = [(r["to"], "text", catalogue_text(r["key"], r["language"], **r.get("params", {})))
               for r in expect.get("replies", [])]
    assert sent == replies

    rows = {row.provider_message_id: row for row in harness.outbound()}
    for message_id, status in expect.get("outbound_status", {}).items():
        assert rows[message_id].status == status
    for message_id, code in expect.get("outbound_error", {}).items():
        assert code in rows[message_id].error
    if request["method"] == "POST" and expect["status"] == 200:
        handled = {row.wamid for row in harness.inbound()}
        assert {m.message_id for m in received} <= handled
        assert all(row.processed and RINA not in row.sender_hash for row in harness.inbound())


# --- Inbound behaviour beyond single fixtures -------------------------------------------------


def test_a_chunked_body_over_the_cap_is_refused_while_reading(harness):
    body = graph_fake.encode({"entry": [], "padding": "x" * (1024 * 1024 + 10)})
    assert harness.post(body, chunked=True) == [(413, '{"error":"payload too large"}')]
    assert harness.dialogue.received == []


def test_media_larger_than_declared_is_cut_off_while_downloading(harness):
    media_id = harness.fake.add_media(media_bytes("jpeg", MAX_MEDIA_BYTES + 1), "image/jpeg", declared_size=1000)
    harness.deliver(graph_fake.image_message(RINA, media_id))
    assert harness.dialogue.received == []
    assert harness.fake.texts(RINA) == [catalogue_text("wa_media_too_big", "bn", max_mb="১")]
    assert not harness.settings.media_dir.exists() or not any(harness.settings.media_dir.iterdir())


def test_a_png_sent_as_document_is_accepted_by_its_bytes_not_its_declared_type(harness):
    media_id = harness.fake.add_media(media_bytes("png", 500), "application/octet-stream")
    harness.deliver(graph_fake.document_message(RINA, media_id, "..\\..\\photo.png", mime_type="application/pdf"))
    [message] = harness.dialogue.received
    assert message.metadata["media_mime"] == "image/png"
    assert message.metadata["media_path"].endswith(".png")
    assert message.metadata["media_filename"] == "photo.png"


def test_messages_of_one_sender_are_handed_over_in_order_one_at_a_time(harness):
    harness.dialogue.pause = 0.05
    first = graph_fake.webhook([graph_fake.text_message(RINA, "one"), graph_fake.text_message(RINA, "two")])
    second = graph_fake.webhook([graph_fake.text_message(RINA, "three"),
                                 graph_fake.text_message("447700900123", "other sender")])
    harness.post(graph_fake.encode(first))
    harness.post(graph_fake.encode(second))
    harness.drain()
    texts = [m.text for m in harness.dialogue.received if m.sender_id == RINA]
    assert texts == ["one", "two", "three"]
    assert len(harness.dialogue.received) == 4 and not harness.dialogue.overlapped


def test_the_webhook_is_acknowledged_before_the_dialogue_answers(harness):
    harness.dialogue.pause = 1.0
    started = time.monotonic()
    [(status, _)] = harness.post(graph_fake.encode(graph_fake.webhook([graph_fake.text_message(RINA, "hi")])))
    assert status == 200 and time.monotonic() - started < 0.8
    assert harness.dialogue.finished == 0  # the dialogue was still at work when the 200 arrived
    harness.drain()
    assert harness.dialogue.finished == 1


def test_a_webhook_for_another_business_number_is_ignored(harness):
    body = graph_fake.webhook([graph_fake.text_message(RINA, "hi")], phone_number_id="999")
    [(status, _)] = harness.post(graph_fake.encode(body))
    harness.drain()
    assert status == 200 and harness.dialogue.received == []


def test_redelivery_after_processing_produces_nothing_on_each_database(make_harness, migrated_database):
    harness = make_harness(migrated_database)
    harness.dialogue.answer = lambda message: [{"text": "Your application is under review."}]
    message = graph_fake.text_message(RINA, "status")
    body = graph_fake.encode(graph_fake.webhook([message]))
    assert harness.post(body, copies=3)[0][0] == 200
    harness.drain()
    harness.post(body)
    harness.drain()
    assert [m.text for m in harness.dialogue.received] == ["status"]
    assert harness.fake.texts(RINA) == ["Your application is under review."]
    [row] = harness.inbound()
    assert row.wamid == message["id"] and row.processed and row.sender_hash == number_hash(APP_SECRET, RINA)


def test_claiming_a_message_id_is_exclusive_under_concurrency(migrated_database):

    def claim(_):
        return channel_records.claim_inbound("wamid.SAME", "hash", "text", database_url=migrated_database)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, range(8)))
    assert results.count(True) == 1 and results.count(False) == 7
    with db.session_scope(migrated_database) as session:
        assert session.execute(select(WhatsAppInbound)).scalars().all()[0].processed is False


def test_delivery_receipts_never_go_back_a_stage(migrated_database):
    channel_records.record_outbound(recipient_hash="h", kind="text", provider_message_id="wamid.X",
                                    database_url=migrated_database)
    assert channel_records.record_status("wamid.X", "read", database_url=migrated_database)
    assert channel_records.record_status("wamid.X", "delivered", database_url=migrated_database)
    assert not channel_records.record_status("wamid.X", "deleted", database_url=migrated_database)
    assert not channel_records.record_status("wamid.unknown", "read", database_url=migrated_database)
    with db.session_scope(migrated_database) as session:
        assert session.execute(select(WhatsAppOutbound.status)).scalar() == "read"


# --- Outbound mapping: WhatsApp's limits --------------------------------------------------


def buttons(count: int, title: str = "Option {n}") -> List[Dict[str, str]]:
    return [{"title": title.format(n=n), "payload": f"/choose{{\"n\":{n}}}"} for n in range(1, count + 1)]


def test_three_short_options_become_reply_buttons():
    [message] = menu_messages("Which service?", buttons(3), "en")
    assert message.kind == "buttons"
    action = message.body["interactive"]["action"]
    assert [b["reply"]["id"] for b in action["buttons"]] == [b["payload"] for b in buttons(3)]
    assert message.body["interactive"]["body"]["text"] == "Which service?"


def test_a_button_title_of_twenty_characters_fits_but_twenty_one_makes_a_list():
    assert menu_messages("?", buttons(2, "x" * 19 + "{n}"), "en")[0].kind == "buttons"
    [message] = menu_messages("?", buttons(2, "x" * 20 + "{n}"), "en")
    assert message.kind == "list"
    assert [row["title"] for row in message.body["interactive"]["action"]["sections"][0]["rows"]] == [
        "x" * 20 + "1", "x" * 20 + "2"]


@pytest.mark.parametrize("count", [4, 10])
def test_four_to_ten_options_become_a_list(count):
    [message] = menu_messages("কোন ব্লক?", buttons(count), "bn")
    assert message.kind == "list"
    action = message.body["interactive"]["action"]
    assert len(action["sections"][0]["rows"]) == count
    assert action["button"] == catalogue_text("wa_list_button", "bn") and len(action["button"]) <= 20
    assert len(action["sections"][0]["title"]) <= 24
    assert message.menu == [(b["title"], b["payload"]) for b in buttons(count)]


def test_long_row_titles_are_cut_to_24_and_shown_whole_in_the_description():
    long_title = "Bagula-I, Hanskhali block, Nadia district, West Bengal"
    [message] = menu_messages("Which one?", buttons(4, long_title + " {n}"), "en")
    row = message.body["interactive"]["action"]["sections"][0]["rows"][0]
    assert len(row["title"]) == 24 and row["title"].endswith("…")
    assert len(row["description"]) <= 72 and row["description"].startswith("Bagula-I, Hanskhali block")


def test_eleven_options_become_a_numbered_text_menu_in_the_readers_digits():
    [message] = menu_messages("কোন গ্রাম পঞ্চায়েত?", buttons(11), "bn")
    assert message.kind == "text_menu" and message.body["type"] == "text"
    body = message.body["text"]["body"]
    assert body.startswith("কোন গ্রাম পঞ্চায়েত?") and "১. Option 1" in body and "১১. Option 11" in body
    assert len(message.menu) == 11
    [english] = menu_messages("Which one?", buttons(11), "en")
    assert "11. Option 11" in english.body["text"]["body"]


def test_text_up_to_4096_characters_goes_whole_and_longer_is_split_at_lines_then_words():
    assert split_text("a" * TEXT_LIMIT) == ["a" * TEXT_LIMIT]
    lines = "\n".join(f"line {n} " + "w" * 50 for n in range(200))
    pieces = split_text(lines)
    assert len(pieces) > 1 and all(len(p) <= TEXT_LIMIT for p in pieces)
    assert all(p.endswith("w") for p in pieces)  # no line cut in the middle
    assert "\n".join(pieces) == lines
    words = " ".join(["শব্দ"] * 2000)
    pieces = split_text(words)
    assert all(len(p) <= TEXT_LIMIT and p.split(" ")[-1] == "শব্দ" for p in pieces)
    assert " ".join(pieces) == words
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_a_body_too_long_for_an_interactive_message_goes_first_as_text():
    messages = menu_messages("y" * 1500, buttons(2), "en")
    assert [m.kind for m in messages] == ["text", "buttons"]
    assert messages[1].body["interactive"]["body"]["text"] == catalogue_text("wa_menu_prompt", "en")


@pytest.mark.parametrize("typed, expected", [
    ("2", "/b"), ("২", "/b"), (" 3. ", "/c"), ("৩)", "/c"), ("Second option", "/b"), ("second  OPTION", "/b"),
    ("4", None), ("0", None), ("something else", None), ("", None),
    ("secnd option", "/b"), ("two", "/b"), ("option", None),
])
def test_a_typed_answer_picks_a_menu_option_by_number_or_title(typed, expected):
    options = [("First option", "/a"), ("Second option", "/b"), ("Third option", "/c")]
    assert answer_to_menu(typed, options) == expected


@pytest.mark.parametrize("typed, expected", [
    ("জমা দিন", "/affirm"), ("joma din", "/affirm"), ("জমা দেন", "/affirm"), ("kichu bodlabo", "/deny"),
    ("batil", "/cancel"), ("৩", "/cancel"), ("malik er naam ta bhul", None),
])
def test_a_button_title_typed_in_the_other_script_or_misspelt_picks_it(typed, expected):
    options = [("জমা দিন", "/affirm"), ("কিছু বদলাব", "/deny"), ("বাতিল", "/cancel")]
    assert answer_to_menu(typed, options) == expected


# --- Outbound through the channel ---------------------------------------------------------


def test_menus_sent_as_buttons_lists_or_text_are_answered_by_typing(harness):
    menus = {"hi": buttons(3), "more": buttons(7), "all": buttons(12)}
    harness.dialogue.answer = lambda m: [{"text": "Choose:", "buttons": menus[m.text]}] if m.text in menus else [
        {"text": "Noted."}]
    harness.deliver(graph_fake.text_message(RINA, "hi"))
    harness.deliver(graph_fake.text_message(RINA, "Option 2"))
    harness.deliver(graph_fake.text_message(RINA, "more"))
    harness.deliver(graph_fake.text_message(RINA, "৭"))
    harness.deliver(graph_fake.text_message(RINA, "all"))
    harness.deliver(graph_fake.text_message(RINA, "12"))
    # The menu answered, a number means a number again.
    harness.deliver(graph_fake.text_message(RINA, "2"))
    assert [m.text for m in harness.dialogue.received] == [
        "hi", '/choose{"n":2}', "more", '/choose{"n":7}', "all", '/choose{"n":12}', "2"]
    assert harness.dialogue.received[3].metadata["typed"] == "৭"
    kinds = [(m["type"], m.get("interactive", {}).get("type")) for m in harness.fake.messages]
    assert kinds[0] == ("interactive", "button") and kinds[2] == ("interactive", "list") and kinds[4] == ("text", None)
    assert [row.kind for row in harness.outbound()][:6:2] == ["buttons", "list", "text_menu"]


def test_a_tapped_button_reply_is_not_remapped(harness):
    harness.dialogue.answer = lambda m: [{"text": "Choose:", "buttons": buttons(3)}] if m.text == "hi" else []
    harness.deliver(graph_fake.text_message(RINA, "hi"))
    harness.deliver(graph_fake.button_reply(RINA, '/choose{"n":3}', "Option 3"))
    assert harness.dialogue.received[1].text == '/choose{"n":3}'


def test_a_certificate_is_uploaded_and_sent_as_a_document(harness):
    outbox = harness.folder / "outbox"
    outbox.mkdir()
    pdf = outbox / "TN-2026-000001.pdf"
    pdf.write_bytes(media_bytes("pdf", 3000))
    custom = {"document": str(pdf), "filename": pdf.name, "caption": "Your trade NOC", "mime_type": "application/pdf"}
    harness.dialogue.answer = lambda m: [{"custom": custom}]
    harness.deliver(graph_fake.text_message(RINA, "certificate download"))
    [sent] = harness.fake.messages
    assert sent["type"] == "document" and sent["to"] == RINA
    assert sent["document"]["filename"] == "TN-2026-000001.pdf" and sent["document"]["caption"] == "Your trade NOC"
    uploaded = harness.fake.media[sent["document"]["id"]]
    assert uploaded["data"] == pdf.read_bytes() and uploaded["mime_type"] == "application/pdf"
    assert [(row.kind, row.status) for row in harness.outbound()] == [("document", "accepted")]


def test_a_file_outside_the_allowed_folders_is_never_sent(harness, tmp_path):
    secret_file = tmp_path / "elsewhere.pdf"
    secret_file.write_bytes(media_bytes("pdf", 100))
    harness.dialogue.answer = lambda m: [{"custom": {"document": str(secret_file), "caption": "x"}},
                                         {"custom": {"unknown": "shape"}}]
    harness.deliver(graph_fake.text_message(RINA, "hi"))
    # Nothing of the refused file goes out; the citizen is asked to try again, not left in silence.
    assert harness.fake.media == {} and all(m["type"] == "text" for m in harness.fake.messages)
    assert harness.fake.texts(RINA) == [catalogue_text("try_again", "en")]


@pytest.mark.parametrize("failure, typed, language", [
    ("silent", "amar booking ta confirm koro", "bn"),   # Rasa swallowed a failed action: no events, no reply
    ("raises", "please confirm my booking", "en"),      # the dialogue itself failed
])
def test_a_turn_that_answers_nothing_gets_a_try_again_in_the_citizens_language(harness, failure, typed, language):
    if failure == "silent":
        harness.dialogue.answer = lambda m: []
    else:
        harness.dialogue.fail = RuntimeError("action server unreachable")
    harness.deliver(graph_fake.text_message(RINA, typed))
    assert harness.fake.texts(RINA) == [catalogue_text("try_again", language)]
    [row] = harness.inbound()
    assert row.processed  # handled once; a redelivery does not run the turn again
    harness.dialogue.fail = None
    harness.dialogue.answer = lambda m: [{"text": "Booking GH-2026-000001 is confirmed."}]
    harness.deliver(graph_fake.text_message(RINA, "confirm"))
    assert harness.fake.texts(RINA)[1:] == ["Booking GH-2026-000001 is confirmed."]


def test_a_turn_that_answered_gets_no_try_again(harness):
    harness.dialogue.answer = lambda m: [{"text": "Choose:", "buttons": buttons(3)}]
    harness.deliver(graph_fake.text_message(RINA, "hi"))
    assert [m["type"] for m in harness.fake.messages] == ["interactive"]


def test_throttling_and_server_errors_are_retried_until_sent(harness):
    harness.fake.fail_next(1, status=500)
    harness.fake.fail_next(1, status=400, code=130429, message="Rate limit hit")
    message_id = harness.send(lambda channel: channel.client.send_text(RINA, "Your booking is confirmed."))[0]
    assert [path for _, path in harness.fake.calls].count(f"/{PHONE_NUMBER_ID}/messages") == 3
    assert harness.fake.texts(RINA) == ["Your booking is confirmed."]
    assert [(row.provider_message_id, row.status) for row in harness.outbound()] == [(message_id, "accepted")]


def test_retries_give_up_after_the_configured_attempts(harness):
    harness.fake.fail_next(10, status=503)
    with pytest.raises(GraphError) as raised:
        harness.send(lambda channel: channel.client.send_text(RINA, "hello"))
    assert raised.value.retryable and len(harness.fake.calls) == harness.settings.send_attempts
    assert [row.status for row in harness.outbound()] == ["failed"]


def test_a_permanent_error_is_recorded_without_retry(harness):
    harness.fake.fail_next(1, status=400, code=100, message="Invalid parameter")
    with pytest.raises(GraphError) as raised:
        harness.send(lambda channel: channel.client.send_text(RINA, "hello"))
    assert raised.value.code == 100 and not raised.value.retryable
    assert len(harness.fake.calls) == 1
    [row] = harness.outbound()
    assert row.status == "failed" and row.provider_message_id is None and "code 100" in row.error
    assert row.recipient_hash == number_hash(APP_SECRET, RINA)


def test_a_template_goes_out_with_its_language_and_parameters(harness):
    harness.send(lambda channel: channel.client.send_template(RINA, "application_approved", "bn",
                                                              ["TN-2026-000001", "ট্রেড এনওসি"]))
    [sent] = harness.fake.messages
    assert sent["template"] == {"name": "application_approved", "language": {"code": "bn"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "TN-2026-000001"},
                                        {"type": "text", "text": "ট্রেড এনওসি"}]}]}


def test_a_wrong_access_token_is_a_permanent_error(harness):
    client = GraphClient(replace(harness.settings, access_token="stale"), OutboundRecorder(APP_SECRET))

    async def attempt(_channel):
        try:
            return await client.send_text(RINA, "hi")
        finally:
            await client.close()

    with pytest.raises(GraphError) as raised:
        harness.send(attempt)
    assert raised.value.status == 401 and raised.value.code == 190 and len(harness.fake.calls) == 1


# --- Secrets and numbers stay out of the logs ------------------------------------------------


def test_logs_never_contain_the_token_the_secret_or_a_full_number(harness, caplog):
    caplog.set_level(logging.DEBUG)
    harness.dialogue.answer = lambda m: [{"text": "ok"}]
    harness.fake.fail_next(1, status=500)
    harness.fake.fail_next(1, status=400, code=131030, message=f"Recipient phone number {RINA} not in allowed list")
    harness.deliver(graph_fake.text_message(RINA, "hello"))
    harness.deliver(graph_fake.image_message(RINA, "404404"))
    harness.post(b"{}", signed="wrong")
    harness.deliver(statuses=[graph_fake.status("wamid.nothing", "failed", RINA,
                                                [{"code": 131026, "title": f"Undeliverable to {RINA}"}])])
    harness.get({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    [row] = [row for row in harness.outbound() if row.status == "failed"]
    assert RINA not in row.error and mask_number(RINA) in row.error
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert "gave up sending" in caplog.text and mask_number(RINA) in caplog.text
    for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, RINA):
        assert secret not in caplog.text


def test_a_masked_number_keeps_country_code_and_last_four_digits():
    assert mask_number("919800000001") == "91******0001"
    assert mask_number("8801712345678") == "88*******5678"
    assert mask_number("12345") == "*****"


# --- Configuration ------------------------------------------------------------------------


def test_credentials_fall_back_to_the_environment_and_secrets_stay_out_of_repr(tmp_path):
    environ = {"WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": "s3cr3t", "WHATSAPP_ACCESS_TOKEN": "t0k3n",
               "WHATSAPP_PHONE_NUMBER_ID": "42", "WHATSAPP_MAX_MEDIA_BYTES": "1000"}
    settings = WhatsAppSettings.from_credentials({"phone_number_id": "77", "api_base_url": "http://fake/"}, environ)
    assert (settings.phone_number_id, settings.access_token, settings.api_base_url) == ("77", "t0k3n", "http://fake")
    assert settings.max_media_bytes == 1000
    assert "s3cr3t" not in repr(settings) and "t0k3n" not in repr(settings)
    assert WhatsAppSettings.from_credentials(None, environ).api_base_url == "https://graph.facebook.com/v21.0"


def test_missing_credentials_are_named_without_values():
    with pytest.raises(RasaException) as raised:
        WhatsAppSettings.from_credentials({"verify_token": "v", "access_token": "t0k3n"}, {})
    assert "app_secret" in str(raised.value) and "phone_number_id" in str(raised.value)
    assert "t0k3n" not in str(raised.value)


def test_the_channel_is_found_by_its_module_path_like_credentials_yml_names_it(monkeypatch, tmp_path):
    from rasa.core.run import create_http_input_channels

    for key, value in {"VERIFY_TOKEN": "v", "APP_SECRET": "s", "ACCESS_TOKEN": "t", "PHONE_NUMBER_ID": "1"}.items():
        monkeypatch.setenv(f"WHATSAPP_{key}", value)
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("connectors.whatsapp.WhatsAppInput:\n")
    [channel] = create_http_input_channels(None, str(credentials))
    assert isinstance(channel, WhatsAppInput) and channel.url_prefix() == "whatsapp"
