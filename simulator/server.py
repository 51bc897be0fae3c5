"""The WhatsApp simulator: plays Meta's part for the assistant's real WhatsApp channel, and shows
each simulated phone's conversation in a WhatsApp-like web page.

One aiohttp app on one port serves

    /                                   the chat page (static HTML/CSS/JS, no build step, no CDN)
    /sim/static/..., /sim/fonts/...     its files, and the project's Bengali font
    /sim/api/phones                     GET the phones; POST {"wa_id", "name"} adds one
    /sim/api/phones/{wa_id}/messages    GET ?after=SEQ: that phone's conversation, oldest first
    /sim/api/phones/{wa_id}/send        POST JSON: text, button_reply, list_reply or location
    /sim/api/phones/{wa_id}/upload      POST multipart (kind=image|document, file, caption)
    /sim/media/{media_id}               a file the assistant sent or a phone uploaded, for the page
    /sim/api/health                     readiness

and, on the same root, the Graph API fake of simulator/graph_fake.py, which the channel
calls with WHATSAPP_API_BASE_URL pointing here. Every page action becomes a webhook that is
signed with the app secret and POSTed to the channel's webhook URL, exactly as Meta does.
"""
import asyncio
import itertools
import mimetypes
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import aiohttp
from aiohttp import web

from simulator import graph_fake

STATIC_DIR = Path(__file__).resolve().parent / "static"
FONTS_DIR = Path(__file__).resolve().parent.parent / "panchayat" / "fonts"
# The demo citizen and the demo employee (Anita Pramanik, DEMO-EMP-001 in the seed data).
DEFAULT_PHONES = (("919800000001", "Citizen"), ("910000000001", "Anita Pramanik"))
WA_ID = re.compile(r"^\d{5,15}$")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TEXT_LIMIT = 4096
INBOUND_KINDS = ("text", "button_reply", "list_reply", "location", "sticker", "audio")


class SimulatorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Simulator:
    """The state of the simulated phones, and the app that serves them and the Graph fake."""

    def __init__(self, webhook_url: str, app_secret: str, access_token: Optional[str] = None,
                 phone_number_id: str = graph_fake.DEFAULT_PHONE_NUMBER_ID, receipts: bool = True) -> None:
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.fake = graph_fake.GraphFake(access_token, phone_number_id)
        self.receipts = receipts
        self.phones: Dict[str, str] = {}
        # One timeline for every phone, in the order things happened; each entry names its phone.
        self.timeline: List[Dict[str, Any]] = []
        self._seq = itertools.count(1)
        self._outbound_seen = 0
        self._acknowledged: Set[str] = set()
        self._tasks: Set[asyncio.Task] = set()
        self._session: Optional[aiohttp.ClientSession] = None
        for wa_id, name in DEFAULT_PHONES:
            self.add_phone(wa_id, name)

    # -- Phones and their conversations --

    def add_phone(self, wa_id: str, name: Optional[str] = None) -> Dict[str, Any]:
        wa_id = str(wa_id).strip().lstrip("+").replace(" ", "")
        if not WA_ID.match(wa_id):
            raise SimulatorError(400, "a phone number is 5 to 15 digits, country code first (e.g. 919800000001)")
        if wa_id not in self.phones or name:
            self.phones[wa_id] = (name or "").strip()[:60] or self.phones.get(wa_id) or "Citizen"
        return self.phone_summary(wa_id)

    def phone_summary(self, wa_id: str) -> Dict[str, Any]:
        entries = [entry for entry in self.timeline if entry["phone"] == wa_id]
        return {"wa_id": wa_id, "name": self.phones[wa_id], "count": len(entries),
                "last_seq": entries[-1]["seq"] if entries else 0,
                "last_preview": preview(entries[-1]) if entries else ""}

    def sync(self) -> None:
        """Moves what the assistant sent since the last look into the timeline. Called before
        every read and before every inbound message, so replies keep their place in the order."""
        for sent in self.fake.messages[self._outbound_seen:]:
            to = str(sent.get("to") or "")
            if WA_ID.match(to) and to not in self.phones:
                # The assistant wrote to a number nobody opened yet (e.g. a notification): show it.
                self.add_phone(to, "Citizen")
            kind = sent.get("type", "text")
            entry = {"seq": next(self._seq), "phone": to, "direction": "received", "type": kind,
                     "content": sent.get(kind), "id": sent.get("id"), "at": sent.get("at") or time.time()}
            media_id = (entry["content"] or {}).get("id") if kind in ("document", "image") else None
            if media_id:
                entry["media_url"] = f"/sim/media/{media_id}"
            self.timeline.append(entry)
        self._outbound_seen = len(self.fake.messages)

    def conversation(self, wa_id: str, after: int = 0) -> List[Dict[str, Any]]:
        self.sync()
        return [entry for entry in self.timeline if entry["phone"] == wa_id and entry["seq"] > after]

    # -- Inbound: what a phone sends, as Meta would deliver it --

    def inbound_message(self, wa_id: str, request: Dict[str, Any]) -> Dict[str, Any]:
        """The `messages[]` entry for a page action (text, a tapped button or list row, a place)."""
        kind = request.get("type")
        if kind == "text":
            body = str(request.get("body") or "").strip()
            if not body:
                raise SimulatorError(400, "empty message")
            return graph_fake.text_message(wa_id, body[:TEXT_LIMIT])
        if kind in ("button_reply", "list_reply"):
            reply_id, title = str(request.get("id") or ""), str(request.get("title") or "")
            if not reply_id:
                raise SimulatorError(400, "a reply needs the id of the button or row")
            build = graph_fake.button_reply if kind == "button_reply" else graph_fake.list_reply
            message = build(wa_id, reply_id, title)
            if request.get("context"):
                # Meta names the message whose button was tapped.
                message["context"] = {"from": graph_fake.DEFAULT_DISPLAY_NUMBER, "id": str(request["context"])}
            return message
        if kind == "location":
            try:
                latitude, longitude = float(request.get("latitude")), float(request.get("longitude"))
            except (TypeError, ValueError):
                raise SimulatorError(400, "latitude and longitude must be numbers") from None
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise SimulatorError(400, "latitude or longitude out of range")
            return graph_fake.location_message(wa_id, latitude, longitude, str(request.get("name") or "") or None,
                                               str(request.get("address") or "") or None)
        if kind in ("sticker", "audio"):
            # What the assistant cannot read yet: it must say so, not fail.
            return graph_fake.sticker_message(wa_id) if kind == "sticker" else graph_fake.voice_message(wa_id)
        raise SimulatorError(400, f"unknown message type {kind!r}; one of {', '.join(INBOUND_KINDS)}")

    async def send(self, wa_id: str, message: Dict[str, Any], shown: Optional[Dict[str, Any]] = None
                   ) -> Dict[str, Any]:
        """Records a phone's message in its chat, then signs and delivers it to the channel."""
        if wa_id not in self.phones:
            self.add_phone(wa_id)
        self.sync()
        kind = message["type"]
        content = message[kind]
        entry = {"seq": next(self._seq), "phone": wa_id, "direction": "sent", "type": kind, "content": content,
                 "id": message["id"], "at": time.time(), "status": "sending"}
        entry.update(shown or {})
        self.timeline.append(entry)
        body = graph_fake.webhook([message], names={wa_id: self.phones[wa_id]}, phone_number_id=self.phone_number_id)
        try:
            code, answer = await graph_fake.deliver(self.webhook_url, self.app_secret, body, self._http())
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            code, answer = None, type(error).__name__
        if code == 200:
            entry["status"] = "delivered"
        else:
            entry["status"] = "failed"
            entry["error"] = f"webhook answered {code}: {answer[:200]}" if code else f"webhook unreachable ({answer})"
        return entry

    async def upload(self, wa_id: str, kind: str, data: bytes, filename: str, mime_type: Optional[str],
                     caption: Optional[str]) -> Dict[str, Any]:
        """A photo or document from a phone: held as media in the fake, then an image/document webhook."""
        if kind not in ("image", "document"):
            raise SimulatorError(400, "kind is image or document")
        if not data:
            raise SimulatorError(400, "empty file")
        filename = Path(filename.replace("\\", "/")).name or ("photo.jpg" if kind == "image" else "document.pdf")
        mime_type = mime_type if mime_type and mime_type != "application/octet-stream" else (
            mimetypes.guess_type(filename)[0] or "application/octet-stream")
        media_id = self.fake.add_media(data, mime_type)
        self.fake.media[media_id]["filename"] = filename
        caption = (caption or "").strip() or None
        if kind == "image":
            message = graph_fake.image_message(wa_id, media_id, caption, mime_type=mime_type)
        else:
            message = graph_fake.document_message(wa_id, media_id, filename, caption, mime_type=mime_type)
        return await self.send(wa_id, message, {"media_url": f"/sim/media/{media_id}"})

    # -- Receipts: the phone "reads" what the page has shown --

    def acknowledge(self, entries: List[Dict[str, Any]]) -> None:
        """Sends delivered and read receipts for assistant messages the page has just shown."""
        if not self.receipts:
            return
        fresh = [e for e in entries
                 if e["direction"] == "received" and e.get("id") and e["id"] not in self._acknowledged]
        if not fresh:
            return
        self._acknowledged.update(e["id"] for e in fresh)
        statuses = [graph_fake.status(e["id"], value, e["phone"]) for e in fresh for value in ("delivered", "read")]
        body = graph_fake.webhook(statuses=statuses, phone_number_id=self.phone_number_id)
        self._spawn(self._deliver_quietly(body))

    async def _deliver_quietly(self, body: Dict[str, Any]) -> None:
        try:
            await graph_fake.deliver(self.webhook_url, self.app_secret, body, self._http())
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass  # receipts are a courtesy; a channel that is down misses nothing else

    def _spawn(self, work) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def close(self, _app: Optional[web.Application] = None) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # -- HTTP --

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 64 * 1024, middlewares=[_errors_as_json])
        app.router.add_get("/", self._index)
        app.router.add_get("/sim/api/health", self._health)
        app.router.add_get("/sim/api/phones", self._list_phones)
        app.router.add_post("/sim/api/phones", self._add_phone)
        app.router.add_get("/sim/api/phones/{wa_id}/messages", self._messages)
        app.router.add_post("/sim/api/phones/{wa_id}/send", self._send)
        app.router.add_post("/sim/api/phones/{wa_id}/upload", self._upload)
        app.router.add_get("/sim/media/{media_id}", self._media)
        app.router.add_static("/sim/static/", STATIC_DIR)
        app.router.add_get("/sim/fonts/{name}", self._font)
        # The Graph fake's routes on the same root, after ours: its GET /{media_id} takes any
        # single-segment path, and the channel builds download URLs from the host alone.
        for route in self.fake.app().router.routes():
            app.router.add_route(route.method, route.resource.canonical, route.handler)
        app.on_cleanup.append(self.close)
        return app

    async def _index(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "phone_number_id": self.phone_number_id})

    async def _list_phones(self, _request: web.Request) -> web.Response:
        self.sync()
        return web.json_response([self.phone_summary(wa_id) for wa_id in self.phones])

    async def _add_phone(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        return web.json_response(self.add_phone(str(asked.get("wa_id") or ""), asked.get("name")), status=201)

    def _known_phone(self, request: web.Request) -> str:
        wa_id = request.match_info["wa_id"]
        if wa_id not in self.phones:
            self.add_phone(wa_id)
        return wa_id

    async def _messages(self, request: web.Request) -> web.Response:
        wa_id = self._known_phone(request)
        try:
            after = int(request.query.get("after", 0))
        except ValueError:
            raise SimulatorError(400, "after is a sequence number") from None
        entries = self.conversation(wa_id, after)
        self.acknowledge(entries)
        return web.json_response({"phone": self.phone_summary(wa_id), "messages": entries})

    async def _send(self, request: web.Request) -> web.Response:
        wa_id = self._known_phone(request)
        asked = await _json(request)
        entry = await self.send(wa_id, self.inbound_message(wa_id, asked))
        return web.json_response(entry, status=200 if entry["status"] == "delivered" else 502)

    async def _upload(self, request: web.Request) -> web.Response:
        wa_id = self._known_phone(request)
        fields: Dict[str, Any] = {}
        try:
            async for part in await request.multipart():
                if part.name == "file":
                    fields["file"] = await part.read()
                    fields["filename"] = part.filename or ""
                    fields["content_type"] = part.headers.get("Content-Type")
                elif part.name:
                    fields[part.name] = await part.text()
        except (ValueError, AssertionError):
            raise SimulatorError(400, "send the file as multipart/form-data") from None
        entry = await self.upload(wa_id, str(fields.get("kind") or ""), fields.get("file") or b"",
                                  str(fields.get("filename") or ""), fields.get("content_type"), fields.get("caption"))
        return web.json_response(entry, status=200 if entry["status"] == "delivered" else 502)

    async def _media(self, request: web.Request) -> web.Response:
        held = self.fake.media.get(request.match_info["media_id"])
        if held is None:
            raise SimulatorError(404, "no such media")
        filename = re.sub(r'[^A-Za-z0-9._-]', "_", held.get("filename") or "file")
        return web.Response(body=held["data"], content_type=held["mime_type"],
                            headers={"Content-Disposition": f'inline; filename="{filename}"'})

    async def _font(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ("NotoSansBengali-Regular.ttf", "NotoSansLatin-Regular.ttf"):
            raise SimulatorError(404, "no such font")
        return web.FileResponse(FONTS_DIR / name, headers={"Cache-Control": "max-age=86400"})


@web.middleware
async def _errors_as_json(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SimulatorError as error:
        return web.json_response({"error": str(error)}, status=error.status)


async def _json(request: web.Request) -> Dict[str, Any]:
    try:
        asked = await request.json()
    except ValueError:
        raise SimulatorError(400, "send JSON") from None
    if not isinstance(asked, dict):
        raise SimulatorError(400, "send a JSON object")
    return asked


def preview(entry: Dict[str, Any]) -> str:
    """A one-line summary of a message, for the list of chats."""
    content = entry.get("content") or {}
    kind = entry["type"]
    if kind == "text":
        text = content.get("body", "")
    elif kind == "interactive":
        inner = content.get(content.get("type"), {}) if content.get("type") in ("button_reply", "list_reply") else {}
        text = inner.get("title") or (content.get("body") or {}).get("text", "")
    elif kind == "document":
        text = "Document: " + (content.get("filename") or "")
    elif kind == "image":
        text = "Photo" + (": " + content["caption"] if content.get("caption") else "")
    elif kind == "location":
        text = "Location: " + (content.get("name") or f"{content.get('latitude')}, {content.get('longitude')}")
    elif kind == "template":
        text = "Template: " + str(content.get("name") or "")
    else:
        text = kind
    text = " ".join(str(text).split())
    return text if len(text) <= 60 else text[:59] + "…"
