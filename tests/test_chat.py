"""The terminal chat (scripts/chat.py) against a stand-in REST channel: replies shown, buttons
pressed by number, and a turn that answered nothing shown as the try-again message."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import chat  # noqa: E402
from panchayat.catalogue import text as catalogue_text  # noqa: E402


class RestChannel:
    """Answers each POST with the next prepared list of bot messages; records what it got."""

    def __init__(self, answers: List[list]) -> None:
        self.answers, self.received = list(answers), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                body = json.dumps(outer.answers.pop(0)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def rest_channel() -> Iterator:
    servers = []

    def make(answers: List[list]) -> RestChannel:
        servers.append(RestChannel(answers))
        return servers[-1]

    yield make
    for channel in servers:
        channel.server.shutdown()


def typed(monkeypatch, lines: List[str]) -> None:
    feed = iter(lines)

    def fake_input(_prompt: str = "") -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError

    monkeypatch.setattr("builtins.input", fake_input)


def test_a_button_is_pressed_by_its_bengali_number(rest_channel, monkeypatch, capsys):
    channel = rest_channel([[{"text": "Choose:", "buttons": [{"title": "Yes", "payload": "/affirm"},
                                                            {"title": "No", "payload": "/deny"}]}],
                            [{"text": "Done."}]])
    typed(monkeypatch, ["hello", "২"])
    chat.converse(channel.url, "demo-citizen")
    assert [m["message"] for m in channel.received] == ["hello", "/deny"]
    out = capsys.readouterr().out
    assert "bot> Choose:" in out and "2. No" in out and "bot> Done." in out


@pytest.mark.parametrize("line, language", [("amar booking ta confirm koro", "bn"), ("confirm my booking", "en"),
                                            ("আমার বুকিং নিশ্চিত করুন", "bn")])
def test_a_turn_that_answered_nothing_shows_try_again(rest_channel, monkeypatch, capsys, line, language):
    channel = rest_channel([[]])
    typed(monkeypatch, [line])
    chat.converse(channel.url, "demo-citizen")
    assert f"bot> {catalogue_text('try_again', language)}" in capsys.readouterr().out
