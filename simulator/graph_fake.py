"""A local stand-in for the WhatsApp Cloud (Graph) API, and the means to play Meta's part.
Not a production channel: the simulator serves it (python -m simulator), and the tests run it.

Outbound, it answers what the channel calls:

    POST /{phone_number_id}/messages    records the message; {"messages": [{"id": "wamid.fake..."}]}
    POST /{phone_number_id}/media       stores an upload (multipart); {"id": ...}
    GET  /{media_id}                    {"url", "mime_type", "file_size", "sha256", "id"} of media it holds
    GET  /media-download/{media_id}     the bytes (bearer token required, as at Meta)

and `fail_next()` makes the next calls fail with a chosen HTTP status and Graph error code.

Inbound, `deliver()` signs and POSTs a webhook the way Meta does; the builders
(`text_message`, `image_message`, ..., `webhook`) make its JSON.

Point the channel at it with WHATSAPP_API_BASE_URL=<its base URL>.
"""
import hashlib
import itertools
import json
import socket
import time
import uuid
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Mapping, Optional, Tuple

import aiohttp
from aiohttp import web

from connectors.whatsapp.signing import signed_headers

DEFAULT_PHONE_NUMBER_ID = "100000000000001"
DEFAULT_DISPLAY_NUMBER = "919000000000"
ENDPOINTS = ("messages", "media_upload", "media_info", "media_download")


class GraphFake:
    """The fake Graph API. Give `access_token` to require that exact bearer token; without it
    any non-empty bearer token is taken."""

    def __init__(self, access_token: Optional[str] = None, phone_number_id: str = DEFAULT_PHONE_NUMBER_ID) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.messages: List[Dict[str, Any]] = []
        self.media: Dict[str, Dict[str, Any]] = {}
        self.calls: List[Tuple[str, str]] = []
        self._failures: Deque[Tuple[str, int, Optional[int], str]] = deque()
        self._ids = itertools.count(1)
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    # -- Control --

    def fail_next(self, count: int = 1, status: int = 500, code: Optional[int] = None,
                  message: str = "Simulated failure", endpoint: str = "messages") -> None:
        """The next `count` calls to `endpoint` (one of ENDPOINTS, or "any") fail with this error."""
        for _ in range(count):
            self._failures.append((endpoint, status, code, message))

    def add_media(self, data: bytes, mime_type: str, media_id: Optional[str] = None,
                  declared_size: Optional[int] = None) -> str:
        """Holds a file as if a citizen had sent it; its id goes into an image or document message."""
        media_id = media_id or f"{900000 + next(self._ids)}"
        self.media[media_id] = {"data": data, "mime_type": mime_type, "filename": None,
                                "file_size": len(data) if declared_size is None else declared_size}
        return media_id

    def sent_to(self, wa_id: str) -> List[Dict[str, Any]]:
        return [message for message in self.messages if message["to"] == wa_id]

    def texts(self, wa_id: Optional[str] = None) -> List[str]:
        """The bodies of text messages sent (to `wa_id`), in order."""
        return [m["text"]["body"] for m in self.messages
                if m.get("type") == "text" and (wa_id is None or m["to"] == wa_id)]

    # -- Serving --

    def app(self) -> web.Application:
        app = web.Application(client_max_size=120 * 1024 * 1024)
        app.router.add_get("/media-download/{media_id}", self._download)
        app.router.add_post("/{phone_number_id}/messages", self._send)
        app.router.add_post("/{phone_number_id}/media", self._upload)
        app.router.add_get("/{media_id}", self._media_info)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serves on `port` (0: any free port) in the running loop; returns the base URL."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        self.base_url = f"http://{host}:{listener.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- Handlers --

    def _refusal(self, request: web.Request, endpoint: str) -> Optional[web.Response]:
        self.calls.append((request.method, request.path))
        bearer = request.headers.get("Authorization", "")
        token = bearer[len("Bearer "):] if bearer.startswith("Bearer ") else ""
        if not token or (self.access_token is not None and token != self.access_token):
            return graph_error(401, 190, "Invalid OAuth access token.")
        if self._failures and self._failures[0][0] in (endpoint, "any"):
            _, status, code, message = self._failures.popleft()
            return graph_error(status, code, message)
        return None

    async def _send(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, "messages")
        if refusal is not None:
            return refusal
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return graph_error(400, 100, "Unsupported post request: unknown phone number id")
        try:
            message = await request.json()
        except ValueError:
            return graph_error(400, 100, "Invalid JSON")
        kind = message.get("type", "text") if isinstance(message, dict) else None
        if (kind is None or message.get("messaging_product") != "whatsapp" or not message.get("to")
                or not isinstance(message.get(kind), dict)):
            return graph_error(400, 100, "Invalid parameter")
        message_id = f"wamid.fake{next(self._ids):08d}{uuid.uuid4().hex[:8]}"
        self.messages.append(dict(message, id=message_id, at=time.time()))
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": message["to"], "wa_id": message["to"]}],
                                  "messages": [{"id": message_id}]})

    async def _upload(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, "media_upload")
        if refusal is not None:
            return refusal
        fields: Dict[str, Any] = {}
        reader = await request.multipart()
        async for part in reader:
            if part.name == "file":
                fields["file"] = await part.read()
                fields["filename"] = part.filename
                fields["content_type"] = part.headers.get("Content-Type")
            else:
                fields[part.name] = await part.text()
        if fields.get("messaging_product") != "whatsapp" or not fields.get("file") or not fields.get("type"):
            return graph_error(400, 100, "Param file, type and messaging_product are required")
        media_id = self.add_media(fields["file"], fields["type"])
        self.media[media_id]["filename"] = fields.get("filename")
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, "media_info")
        if refusal is not None:
            return refusal
        media_id = request.match_info["media_id"]
        held = self.media.get(media_id)
        if held is None:
            return graph_error(404, 100, "Unsupported get request: unknown media")
        return web.json_response({
            "messaging_product": "whatsapp", "id": media_id, "mime_type": held["mime_type"],
            "file_size": held["file_size"], "sha256": hashlib.sha256(held["data"]).hexdigest(),
            # Built from the Host header: request.url trips over this aiohttp/yarl pairing.
            "url": f"{request.scheme}://{request.host}/media-download/{media_id}",
        })

    async def _download(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, "media_download")
        if refusal is not None:
            return refusal
        held = self.media.get(request.match_info["media_id"])
        if held is None:
            return graph_error(404, 100, "Unknown media")
        return web.Response(body=held["data"], content_type=held["mime_type"])


def graph_error(status: int, code: Optional[int], message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "OAuthException", "code": code,
                                        "fbtrace_id": "fake"}}, status=status)


# --- Playing Meta's part: signed inbound webhooks ------------------------------------------

_wamids = itertools.count(1)


def new_wamid() -> str:
    return f"wamid.in{next(_wamids):06d}{uuid.uuid4().hex[:10]}"


def message(wa_id: str, kind: str, content: Any, wamid: Optional[str] = None,
            timestamp: Optional[int] = None) -> Dict[str, Any]:
    """One entry of `value.messages`: `content` goes under the key named by `kind`."""
    return {"from": wa_id, "id": wamid or new_wamid(), "timestamp": str(timestamp or int(time.time())),
            "type": kind, kind: content}


def text_message(wa_id: str, body: str, **kw: Any) -> Dict[str, Any]:
    return message(wa_id, "text", {"body": body}, **kw)


def button_reply(wa_id: str, reply_id: str, title: str, **kw: Any) -> Dict[str, Any]:
    return message(wa_id, "interactive", {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
                   **kw)


def list_reply(wa_id: str, reply_id: str, title: str, description: Optional[str] = None, **kw: Any) -> Dict:
    reply = {"id": reply_id, "title": title}
    if description:
        reply["description"] = description
    return message(wa_id, "interactive", {"type": "list_reply", "list_reply": reply}, **kw)


def image_message(wa_id: str, media_id: str, caption: Optional[str] = None, mime_type: str = "image/jpeg",
                  **kw: Any) -> Dict[str, Any]:
    image = {"id": media_id, "mime_type": mime_type, "sha256": "unknown"}
    if caption:
        image["caption"] = caption
    return message(wa_id, "image", image, **kw)


def document_message(wa_id: str, media_id: str, filename: str, caption: Optional[str] = None,
                     mime_type: str = "application/pdf", **kw: Any) -> Dict[str, Any]:
    document = {"id": media_id, "filename": filename, "mime_type": mime_type, "sha256": "unknown"}
    if caption:
        document["caption"] = caption
    return message(wa_id, "document", document, **kw)


def location_message(wa_id: str, latitude: float, longitude: float, name: Optional[str] = None,
                     address: Optional[str] = None, **kw: Any) -> Dict[str, Any]:
    location: Dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name:
        location["name"] = name
    if address:
        location["address"] = address
    return message(wa_id, "location", location, **kw)


def sticker_message(wa_id: str, **kw: Any) -> Dict[str, Any]:
    return message(wa_id, "sticker", {"id": f"sticker.{uuid.uuid4().hex[:10]}", "mime_type": "image/webp",
                                      "animated": False}, **kw)


def voice_message(wa_id: str, **kw: Any) -> Dict[str, Any]:
    return message(wa_id, "audio", {"id": f"voice.{uuid.uuid4().hex[:10]}", "mime_type": "audio/ogg; codecs=opus",
                                    "voice": True}, **kw)


def status(message_id: str, value: str, recipient: str, errors: Optional[List[Dict]] = None,
           timestamp: Optional[int] = None) -> Dict[str, Any]:
    """One entry of `value.statuses`: a delivery receipt for a message the business sent."""
    receipt = {"id": message_id, "status": value, "timestamp": str(timestamp or int(time.time())),
               "recipient_id": recipient}
    if errors:
        receipt["errors"] = errors
    return receipt


def webhook(messages: Iterable[Dict] = (), statuses: Iterable[Dict] = (), names: Optional[Mapping[str, str]] = None,
            phone_number_id: str = DEFAULT_PHONE_NUMBER_ID) -> Dict[str, Any]:
    """A whole webhook body, as Meta batches it: one entry, one change, contacts for the senders."""
    messages, statuses = list(messages), list(statuses)
    value: Dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": DEFAULT_DISPLAY_NUMBER,
                                          "phone_number_id": phone_number_id}}
    senders = list(dict.fromkeys(m["from"] for m in messages))
    if senders:
        value["contacts"] = [{"profile": {"name": (names or {}).get(s, "Citizen")}, "wa_id": s} for s in senders]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WHATSAPP_BUSINESS_ACCOUNT_ID", "changes": [{"value": value, "field": "messages"}]}]}


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def deliver(webhook_url: str, app_secret: str, payload: Any,
                  session: Optional[aiohttp.ClientSession] = None) -> Tuple[int, str]:
    """Signs and POSTs a webhook body (a dict, or raw bytes); (HTTP status, response text)."""
    body = payload if isinstance(payload, bytes) else encode(payload)
    headers = signed_headers(app_secret, body)
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.post(webhook_url, data=body, headers=headers) as reply:
            return reply.status, await reply.text()
    finally:
        if own:
            await session.close()
