"""The WhatsApp simulator's HTTP side, without a browser and without Rasa.

A small stand-in channel receives the simulator's webhooks (checking the signature as the
real channel does), and the real outbound client, `connectors.whatsapp.graph_api.GraphClient`, sends
to the simulator's Graph API: what it sends must show in the right phone's chat.
"""
import asyncio
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import aiohttp
from aiohttp import web

from connectors.whatsapp.graph_api import GraphClient
from connectors.whatsapp.settings import WhatsAppSettings
from connectors.whatsapp.signing import valid_signature
from simulator.server import STATIC_DIR, Simulator

APP_SECRET = "sim-test-app-secret"
ACCESS_TOKEN = "sim-test-access-token"
PHONE_NUMBER_ID = "100000000000077"
CITIZEN, EMPLOYEE = "919800000001", "910000000001"
PDF = b"%PDF-1.4\n% a certificate\n%%EOF\n"


class Channel:
    """Stands in for the WhatsApp channel's webhook: 403 on a bad signature, as the real one."""

    def __init__(self) -> None:
        self.bodies: List[Dict[str, Any]] = []
        self.refuse = False

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.refuse or not valid_signature(APP_SECRET, body, request.headers.get("X-Hub-Signature-256")):
            return web.json_response({"error": "invalid signature"}, status=403)
        self.bodies.append(json.loads(body))
        return web.json_response({"status": "received"})

    def messages(self) -> List[Dict[str, Any]]:
        return [m for b in self.bodies for e in b["entry"] for c in e["changes"] for m in c["value"].get("messages", [])]

    def statuses(self) -> List[Dict[str, Any]]:
        return [s for b in self.bodies for e in b["entry"] for c in e["changes"] for s in c["value"].get("statuses", [])]


class Recorder:
    """The outbound client's record of sent messages, kept in memory (no database here)."""

    async def sent(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def failed(self, *args: Any, **kwargs: Any) -> None:
        pass


async def started(app: web.Application) -> (web.AppRunner, str):
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def run(scenario):
    """Runs `scenario(sim, base_url, channel, http)` against a served simulator and channel."""

    async def main():
        channel = Channel()
        channel_app = web.Application()
        channel_app.router.add_post("/webhooks/whatsapp/webhook", channel.receive)
        channel_runner, channel_url = await started(channel_app)
        sim = Simulator(f"{channel_url}/webhooks/whatsapp/webhook", APP_SECRET, ACCESS_TOKEN, PHONE_NUMBER_ID)
        sim_runner, base = await started(sim.app())
        try:
            async with aiohttp.ClientSession() as http:
                return await scenario(sim, base, channel, http)
        finally:
            await sim_runner.cleanup()
            await channel_runner.cleanup()

    return asyncio.run(main())


def client(base: str, tmp_path: Path) -> GraphClient:
    settings = WhatsAppSettings(verify_token="v", app_secret=APP_SECRET, access_token=ACCESS_TOKEN,
                                phone_number_id=PHONE_NUMBER_ID, api_base_url=base, media_dir=tmp_path / "media",
                                send_attempts=1)
    return GraphClient(settings, recorder=Recorder())


async def conversation(http: aiohttp.ClientSession, base: str, wa_id: str, after: int = 0) -> List[Dict]:
    async with http.get(f"{base}/sim/api/phones/{wa_id}/messages", params={"after": after}) as reply:
        assert reply.status == 200
        return (await reply.json())["messages"]


def test_typed_text_is_signed_and_delivered_as_meta_does():
    async def scenario(sim, base, channel, http):
        async with http.post(f"{base}/sim/api/phones/{CITIZEN}/send", json={"type": "text", "body": "নমস্কার"}) as reply:
            assert reply.status == 200
            entry = await reply.json()
        assert entry["status"] == "delivered" and entry["direction"] == "sent"
        (body,) = channel.bodies
        assert body["object"] == "whatsapp_business_account"
        value = body["entry"][0]["changes"][0]["value"]
        assert value["metadata"]["phone_number_id"] == PHONE_NUMBER_ID
        assert value["contacts"] == [{"profile": {"name": "Citizen"}, "wa_id": CITIZEN}]
        (message,) = value["messages"]
        assert message["from"] == CITIZEN and message["type"] == "text" and message["text"] == {"body": "নমস্কার"}
        assert message["id"].startswith("wamid.") and message["id"] == entry["id"]
        shown = await conversation(http, base, CITIZEN)
        assert [(m["direction"], m["content"]) for m in shown] == [("sent", {"body": "নমস্কার"})]

    run(scenario)


def test_taps_and_places_become_interactive_and_location_webhooks():
    async def scenario(sim, base, channel, http):
        for request in ({"type": "button_reply", "id": "/affirm", "title": "জমা দিন", "context": "wamid.x"},
                        {"type": "list_reply", "id": '/apply_service{"service":"trade_noc"}', "title": "Trade NOC"},
                        {"type": "location", "latitude": "23.335", "longitude": "88.628", "name": "Kalitala"}):
            async with http.post(f"{base}/sim/api/phones/{CITIZEN}/send", json=request) as reply:
                assert reply.status == 200, await reply.text()
        button, row, place = channel.messages()
        assert button["interactive"] == {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "জমা দিন"}}
        assert button["context"]["id"] == "wamid.x"
        assert row["interactive"]["list_reply"]["id"] == '/apply_service{"service":"trade_noc"}'
        assert place["type"] == "location" and place["location"] == {"latitude": 23.335, "longitude": 88.628,
                                                                     "name": "Kalitala"}
        async with http.post(f"{base}/sim/api/phones/{CITIZEN}/send", json={"type": "location", "latitude": "north",
                                                                              "longitude": 1}) as reply:
            assert reply.status == 400

    run(scenario)


def test_an_uploaded_document_reaches_the_channel_through_the_media_endpoints(tmp_path):
    async def scenario(sim, base, channel, http):
        form = aiohttp.FormData()
        form.add_field("kind", "document")
        form.add_field("caption", "dokaner dolil")
        form.add_field("file", PDF, filename="dolil.pdf", content_type="application/pdf")
        async with http.post(f"{base}/sim/api/phones/{CITIZEN}/upload", data=form) as reply:
            assert reply.status == 200
        (message,) = channel.messages()
        document = message["document"]
        assert (document["filename"], document["caption"], document["mime_type"]) == (
            "dolil.pdf", "dokaner dolil", "application/pdf")
        # The channel downloads it the way it downloads from Meta: media info, then the URL, with the token.
        graph = client(base, tmp_path)
        try:
            data, declared = await graph.fetch_media(document["id"], 1024 * 1024)
        finally:
            await graph.close()
        assert data == PDF and declared == "application/pdf"
        async with http.get(f"{base}/{document['id']}") as reply:
            assert reply.status == 401  # the Graph API wants the bearer token

    run(scenario)


def test_what_the_assistant_sends_shows_in_that_phones_chat_only(tmp_path):
    async def scenario(sim, base, channel, http):
        graph = client(base, tmp_path)
        certificate = tmp_path / "TN-2026-000001.pdf"
        certificate.write_bytes(PDF)
        try:
            await graph.send_text(CITIZEN, "প্রথম লাইন\nদ্বিতীয় লাইন")
            await graph.send_message(CITIZEN, {"type": "interactive", "interactive": {
                "type": "button", "body": {"text": "জমা দেব?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "/affirm", "title": "জমা দিন"}}]}}},
                "buttons")
            await graph.send_document(CITIZEN, certificate, caption="আপনার শংসাপত্র")
            await graph.send_template("919800000002", "panchayat_update", "bn", ["আবেদন মঞ্জুর"])
        finally:
            await graph.close()
        text, buttons, document = await conversation(http, base, CITIZEN)
        assert text["type"] == "text" and text["content"]["body"] == "প্রথম লাইন\nদ্বিতীয় লাইন"
        assert buttons["content"]["action"]["buttons"][0]["reply"]["id"] == "/affirm"
        assert document["content"]["filename"] == "TN-2026-000001.pdf"
        assert document["content"]["caption"] == "আপনার শংসাপত্র"
        async with http.get(base + document["media_url"]) as reply:
            assert reply.status == 200 and (await reply.read()).startswith(b"%PDF")
            assert "TN-2026-000001.pdf" in reply.headers["Content-Disposition"]
        assert await conversation(http, base, EMPLOYEE) == []
        # A number nobody opened gets its own chat when the assistant writes to it.
        async with http.get(f"{base}/sim/api/phones") as reply:
            phones = {p["wa_id"]: p for p in await reply.json()}
        assert set(phones) == {CITIZEN, EMPLOYEE, "919800000002"}
        (template,) = await conversation(http, base, "919800000002")
        assert template["type"] == "template" and template["content"]["name"] == "panchayat_update"
        # What the page showed was delivered and read, as a phone would report.
        await asyncio.sleep(0.3)
        receipts = {(s["id"], s["status"]) for s in channel.statuses()}
        assert (document["id"], "read") in receipts and (template["id"], "delivered") in receipts

    run(scenario)


def test_a_refused_webhook_shows_as_failed():
    async def scenario(sim, base, channel, http):
        channel.refuse = True
        async with http.post(f"{base}/sim/api/phones/{CITIZEN}/send", json={"type": "text", "body": "hello"}) as reply:
            assert reply.status == 502
            entry = await reply.json()
        assert entry["status"] == "failed" and "403" in entry["error"]

    run(scenario)


def test_phones_are_added_by_number_and_checked():
    async def scenario(sim, base, channel, http):
        async with http.post(f"{base}/sim/api/phones", json={"wa_id": "+44 7700900123", "name": "Visitor"}) as reply:
            assert reply.status == 201 and (await reply.json())["wa_id"] == "447700900123"
        async with http.post(f"{base}/sim/api/phones", json={"wa_id": "12ab"}) as reply:
            assert reply.status == 400
        async with http.get(f"{base}/sim/api/phones") as reply:
            assert [p["wa_id"] for p in await reply.json()] == [CITIZEN, EMPLOYEE, "447700900123"]

    run(scenario)


def test_the_page_is_served_whole_from_this_machine():
    async def scenario(sim, base, channel, http):
        async with http.get(base + "/") as reply:
            page = await reply.text()
        assert 'data-testid="composer-text"' in page and 'data-testid="attach-document"' in page
        for asset in re.findall(r'(?:src|href)="([^"]+)"', page):
            if asset == "data:,":
                continue  # the empty favicon: no request at all
            assert asset.startswith("/sim/"), asset
            async with http.get(base + asset) as reply:
                assert reply.status == 200, asset
        async with http.get(base + "/sim/fonts/NotoSansBengali-Regular.ttf") as reply:
            assert reply.status == 200 and len(await reply.read()) > 10000
        async with http.get(base + "/sim/fonts/..%2fOFL.txt") as reply:
            assert reply.status == 404

    run(scenario)
    # No CDN, no remote font: every file of the page names only local addresses.
    for path in STATIC_DIR.iterdir():
        assert not re.search(r"https?://", path.read_text()), path.name
