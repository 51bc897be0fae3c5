"""The WhatsApp Cloud API channel (contract: docs/contracts/whatsapp.md).

    GET  /webhooks/whatsapp/webhook   Meta's subscription handshake
    POST /webhooks/whatsapp/webhook   signed webhooks: messages and delivery receipts

A POST is checked (size, then signature over the raw bytes, then JSON), acknowledged
at once, and worked on afterwards: Meta redelivers anything slow or non-2xx for days.
Every message id is claimed in the database before it is processed, so a redelivery
or a concurrent duplicate is answered once. Messages of one sender go through one
queue, in the order they arrived.

`GraphClient` is the outbound half (send, upload, download with retries, and a record
of every message id); the notification worker is meant to reuse it.
"""
import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import os
import random
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from connectors.whatsapp_messages import (
    CAPTION_LIMIT,
    Option,
    Outgoing,
    answer_to_menu,
    menu_messages,
    shorten,
    text_messages,
)
from panchayat import channel_records, config, db
from panchayat.catalogue import digits, text as catalogue_text
from panchayat.language import conversation_language, detect_language

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
REQUIRED_KEYS = ("verify_token", "app_secret", "access_token", "phone_number_id")
# Graph error codes that mean "slow down", not "this message is wrong".
THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})
# A wa_id is an E.164 number without "+": up to 15 digits, any country.
WA_ID = re.compile(r"^\d{5,15}$")
MEDIA_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# What a file is, judged by its first bytes rather than by what the sender declared.
MEDIA_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", ".jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
                    (b"%PDF-", "application/pdf", ".pdf"))
ACCEPTED_MEDIA = {"image": {"image/jpeg", "image/png"},
                  "document": {"image/jpeg", "image/png", "application/pdf"}}
# Marks a message that carries a file or a place rather than words: the application form
# takes any text that is not a command, and reads the file from the metadata.
ATTACHMENT_MARKER = "/inform"
# Marks a message with nothing the assistant can read (audio, video, sticker, reaction, contacts):
# its `wa_type` in the metadata tells the dialogue what it was.
UNREADABLE_MARKER = "/inform"


# --- Settings ----------------------------------------------------------------------------


def _setting(credentials: Mapping[str, Any], environ: Mapping[str, str], key: str, default: Any = None) -> Any:
    value = credentials.get(key)
    if value in (None, ""):
        value = environ.get(f"WHATSAPP_{key.upper()}")
    return default if value in (None, "") else value


@dataclass(frozen=True)
class WhatsAppSettings:
    """Credentials and limits. Secrets stay out of repr(), so a logged settings object leaks nothing."""

    verify_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    phone_number_id: str
    api_base_url: str = DEFAULT_API_BASE_URL
    media_dir: Path = config.WHATSAPP_MEDIA_DIR
    max_media_bytes: int = config.WHATSAPP_MAX_MEDIA_BYTES
    max_body_bytes: int = 1024 * 1024
    # A menu may be answered by number or title this long after it was sent.
    menu_ttl_seconds: int = 24 * 3600
    send_attempts: int = 5
    retry_base_delay: float = 1.0
    request_timeout: float = 30.0
    # Files the dialogue may send as documents must lie under one of these folders.
    outbound_file_dirs: Tuple[Path, ...] = (config.VAR_DIR,)

    @classmethod
    def from_credentials(cls, credentials: Optional[Mapping[str, Any]],
                         environ: Optional[Mapping[str, str]] = None) -> "WhatsAppSettings":
        """Each key from credentials.yml, else from WHATSAPP_<KEY> in the environment."""
        credentials = credentials or {}
        environ = os.environ if environ is None else environ
        values = {key: _setting(credentials, environ, key) for key in REQUIRED_KEYS}
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise RasaException(f"The WhatsApp channel needs {', '.join(missing)} in credentials.yml or "
                                f"{', '.join('WHATSAPP_' + key.upper() for key in missing)} in the environment.")
        folders = _setting(credentials, environ, "outbound_file_dirs")
        if isinstance(folders, str):
            folders = folders.split(os.pathsep)
        return cls(
            **{key: str(value) for key, value in values.items()},
            api_base_url=str(_setting(credentials, environ, "api_base_url", DEFAULT_API_BASE_URL)).rstrip("/"),
            media_dir=Path(_setting(credentials, environ, "media_dir", config.WHATSAPP_MEDIA_DIR)),
            max_media_bytes=int(_setting(credentials, environ, "max_media_bytes", config.WHATSAPP_MAX_MEDIA_BYTES)),
            max_body_bytes=int(_setting(credentials, environ, "max_body_bytes", cls.max_body_bytes)),
            menu_ttl_seconds=int(_setting(credentials, environ, "menu_ttl_seconds", cls.menu_ttl_seconds)),
            send_attempts=max(1, int(_setting(credentials, environ, "send_attempts", cls.send_attempts))),
            retry_base_delay=float(_setting(credentials, environ, "retry_base_delay", cls.retry_base_delay)),
            request_timeout=float(_setting(credentials, environ, "request_timeout", cls.request_timeout)),
            outbound_file_dirs=tuple(Path(f) for f in folders) if folders else cls.outbound_file_dirs,
        )


# --- Small helpers -----------------------------------------------------------------------


def mask_number(wa_id: Any) -> str:
    """A phone number fit for logs: country code and last four digits only (91******0001)."""
    value = str(wa_id or "")
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 6) + value[-4:]


def _scrub(value: str, *secrets: str) -> str:
    """Removes secrets and long digit runs (phone numbers) from a text bound for the logs."""
    for secret in secrets:
        if secret:
            value = value.replace(secret, "***")
    return re.sub(r"\d{7,}", lambda m: mask_number(m.group(0)), value)


def message_ref(wamid: str) -> str:
    """A short stand-in for a message id in logs: a wamid encodes the sender's number."""
    return "msg:" + hashlib.sha256(str(wamid).encode()).hexdigest()[:12]


def number_hash(key: str, wa_id: str) -> str:
    """A keyed hash of a number: the channel's tables can be joined on it but do not reveal it."""
    return hmac.new(key.encode(), str(wa_id).encode(), hashlib.sha256).hexdigest()


def signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value Meta sends with `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def valid_signature(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(app_secret, body).encode(), header.strip().encode())


def sniff_media(head: bytes) -> Optional[Tuple[str, str]]:
    """(mime type, file extension) from a file's first bytes, for JPEG, PNG and PDF only."""
    for magic, mime, extension in MEDIA_SIGNATURES:
        if head.startswith(magic):
            return mime, extension
    return None


def _in_session(function: Callable, *args: Any) -> Any:
    with db.session_scope() as session:
        return function(session, *args)


async def _database(function: Callable, *args: Any) -> Any:
    """Runs a channel_records function in a worker thread: the event loop never waits on SQL."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(_in_session, function, *args))


# --- Outbound: the Graph API client --------------------------------------------------------


class GraphError(Exception):
    """A Graph API call that failed; `retryable` says whether trying later may help."""

    def __init__(self, status: Optional[int], code: Optional[int], message: str, retryable: bool,
                 retry_after: Optional[float] = None) -> None:
        super().__init__(f"HTTP {status} code {code}: {message}")
        self.status, self.code, self.message, self.retryable = status, code, message, retryable
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, status: int, body: bytes, headers: Mapping[str, str]) -> "GraphError":
        code, message = None, ""
        try:
            error = json.loads(body.decode("utf-8", "replace")).get("error") or {}
            code = int(error["code"]) if error.get("code") is not None else None
            message = str(error.get("message") or "")
        except (ValueError, AttributeError, TypeError):
            message = body[:200].decode("utf-8", "replace")
        retryable = status >= 500 or status == 429 or code in THROTTLING_CODES
        try:
            retry_after = float(headers.get("Retry-After", ""))
        except ValueError:
            retry_after = None
        return cls(status, code, shorten(message, 300), retryable, retry_after)


class MediaTooBig(Exception):
    pass


class OutboundRecorder:
    """Writes every sent (or refused) message to `whatsapp_outbound`; never fails a send."""

    def __init__(self, hash_key: str) -> None:
        self.hash_key = hash_key

    async def sent(self, to: str, kind: str, message_id: str, menu: Optional[Sequence[Option]] = None) -> None:
        await self._write(to, kind=kind, provider_message_id=message_id, menu=menu)

    async def failed(self, to: str, kind: str, error: str) -> None:
        await self._write(to, kind=kind, provider_message_id=None, status="failed", error=error)

    async def _write(self, to: str, **row: Any) -> None:
        def write(session):
            channel_records.record_outbound(session, recipient_hash=number_hash(self.hash_key, to), **row)

        try:
            await _database(write)
        except Exception as error:  # the message is out; losing its record must not lose the reply
            logger.error("whatsapp: could not record an outbound %s: %s", row.get("kind"), type(error).__name__)


# Replies sent while one inbound message is handled. Rasa swallows a failed custom action (the
# action server down, say) and ends the turn without a word; the channel sees that the turn sent
# nothing and asks the citizen to try again instead of leaving them in silence.
@dataclass
class TurnReplies:
    sent: int = 0


_turn_replies: "contextvars.ContextVar[Optional[TurnReplies]]" = contextvars.ContextVar("turn_replies",
                                                                                       default=None)


class GraphClient:
    """The WhatsApp Cloud API, outbound: messages, templates, media up and down.

    Retries 5xx, network errors and throttling codes with exponential backoff; gives up at
    once on other errors. Every message is recorded through `recorder`.
    """

    def __init__(self, settings: WhatsAppSettings, recorder: Optional[OutboundRecorder] = None,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.settings = settings
        self.recorder = recorder if recorder is not None else OutboundRecorder(settings.app_secret)
        self._sleep = sleep
        self._session: Optional[aiohttp.ClientSession] = None

    # Sessions belong to an event loop, so one is made on first use inside the running loop.
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    @property
    def _auth(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.access_token}"}

    def describe_error(self, error: BaseException) -> str:
        """An error as text fit for logs and the outbound table: no token, secret or full number."""
        return _scrub(str(error), self.settings.access_token, self.settings.app_secret)

    async def _call(self, method: str, url: str, *, json_body: Any = None,
                    form: Optional[Callable[[], aiohttp.FormData]] = None,
                    read: Optional[Callable[[aiohttp.ClientResponse], Awaitable[Any]]] = None) -> Any:
        attempts = self.settings.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._http().request(method, url, headers=self._auth, json=json_body,
                                                data=form() if form else None) as reply:
                    if reply.status < 300:
                        return await read(reply) if read else await reply.json(content_type=None)
                    error = GraphError.from_response(reply.status, await reply.read(), reply.headers)
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                error = GraphError(None, None, type(failure).__name__, retryable=True)
            if not error.retryable or attempt == attempts:
                raise error
            delay = self.settings.retry_base_delay * 2 ** (attempt - 1) * (0.75 + random.random() / 2)
            if error.retry_after:
                delay = max(delay, min(error.retry_after, 60.0))
            logger.warning("whatsapp: Graph API %s; attempt %d of %d, next in %.1fs",
                           self.describe_error(error), attempt, attempts, delay)
            await self._sleep(delay)
        raise AssertionError("unreachable")

    async def send_message(self, to: str, body: Dict[str, Any], kind: str,
                           menu: Optional[Sequence[Option]] = None) -> str:
        """Sends one message body (as built by connectors.whatsapp_messages); its provider id."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": str(to), **body}
        try:
            answer = await self._call("POST", f"{self.settings.api_base_url}/{self.settings.phone_number_id}"
                                              f"/messages", json_body=payload)
            message_id = str(answer["messages"][0]["id"])
        except GraphError as error:
            logger.error("whatsapp: gave up sending a %s message to %s: %s", kind, mask_number(to),
                         self.describe_error(error))
            await self.recorder.failed(to, kind, self.describe_error(error))
            raise
        except (KeyError, IndexError, TypeError, ValueError) as error:
            failure = GraphError(200, None, f"unexpected answer ({type(error).__name__})", retryable=False)
            logger.error("whatsapp: sending a %s message to %s: %s", kind, mask_number(to), failure)
            await self.recorder.failed(to, kind, str(failure))
            raise failure
        await self.recorder.sent(to, kind, message_id, menu)
        logger.info("whatsapp: sent a %s message to %s", kind, mask_number(to))
        turn = _turn_replies.get()
        if turn is not None:
            turn.sent += 1
        return message_id

    async def send_outgoing(self, to: str, messages: Iterable[Outgoing]) -> List[str]:
        return [await self.send_message(to, message.body, message.kind, message.menu) for message in messages]

    async def send_text(self, to: str, text: str) -> List[str]:
        """A text of any length, split at WhatsApp's 4096 characters; the ids of the pieces."""
        return await self.send_outgoing(to, text_messages(text))

    async def send_template(self, to: str, name: str, language: str, params: Sequence[Any] = ()) -> str:
        """An approved template (for messages outside the 24-hour window), body parameters in order."""
        template: Dict[str, Any] = {"name": name, "language": {"code": language}}
        if params:
            template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(p)}
                                                                       for p in params]}]
        return await self.send_message(to, {"type": "template", "template": template}, "template")

    async def upload_media(self, path: Path, mime_type: str, filename: Optional[str] = None) -> str:
        data = await asyncio.get_running_loop().run_in_executor(None, Path(path).read_bytes)

        def form() -> aiohttp.FormData:
            upload = aiohttp.FormData()
            upload.add_field("messaging_product", "whatsapp")
            upload.add_field("type", mime_type)
            upload.add_field("file", data, filename=filename or Path(path).name, content_type=mime_type)
            return upload

        answer = await self._call("POST", f"{self.settings.api_base_url}/{self.settings.phone_number_id}/media",
                                  form=form)
        return str(answer["id"])

    async def send_document(self, to: str, path: Path, filename: Optional[str] = None, caption: Optional[str] = None,
                            mime_type: str = "application/pdf") -> str:
        filename = filename or Path(path).name
        try:
            media_id = await self.upload_media(path, mime_type, filename)
        except GraphError as error:
            logger.error("whatsapp: could not upload a document for %s: %s", mask_number(to),
                         self.describe_error(error))
            await self.recorder.failed(to, "document", self.describe_error(error))
            raise
        document = {"id": media_id, "filename": filename}
        if caption:
            document["caption"] = shorten(caption, CAPTION_LIMIT)
        return await self.send_message(to, {"type": "document", "document": document}, "document")

    async def send_image(self, to: str, path: Path, caption: Optional[str] = None) -> str:
        kind = sniff_media(await asyncio.get_running_loop().run_in_executor(None, _head, Path(path)))
        if kind is None or not kind[0].startswith("image/"):
            raise ValueError("not a JPEG or PNG image")
        try:
            media_id = await self.upload_media(path, kind[0])
        except GraphError as error:
            logger.error("whatsapp: could not upload an image for %s: %s", mask_number(to),
                         self.describe_error(error))
            await self.recorder.failed(to, "image", self.describe_error(error))
            raise
        image = {"id": media_id}
        if caption:
            image["caption"] = shorten(caption, CAPTION_LIMIT)
        return await self.send_message(to, {"type": "image", "image": image}, "image")

    async def fetch_media(self, media_id: str, max_bytes: int) -> Tuple[bytes, str]:
        """Downloads an inbound photo or document: (bytes, declared mime type). Raises MediaTooBig."""
        if not MEDIA_ID.match(str(media_id or "")):
            raise GraphError(None, None, "malformed media id", retryable=False)
        info = await self._call("GET", f"{self.settings.api_base_url}/{media_id}")
        url = info.get("url") if isinstance(info, dict) else None
        if not url or not str(url).startswith(("https://", "http://")):
            raise GraphError(200, None, "no download address for the media", retryable=False)
        declared = info.get("file_size")
        if declared is not None and int(declared) > max_bytes:
            raise MediaTooBig()

        async def read_capped(reply: aiohttp.ClientResponse) -> bytes:
            # The declared size may be absent or wrong: the cap holds while reading.
            chunks, size = [], 0
            async for chunk in reply.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaTooBig()
                chunks.append(chunk)
            return b"".join(chunks)

        data = await self._call("GET", str(url), read=read_capped)
        return data, str(info.get("mime_type") or "")


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(16)


# --- Outbound: the Rasa output channel -----------------------------------------------------


class WhatsAppOutput(OutputChannel):
    """Sends the dialogue's replies: texts, menus, images and documents (custom JSON)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    async def _send(self, recipient_id: str, messages: Iterable[Outgoing]) -> None:
        try:
            await self.client.send_outgoing(recipient_id, messages)
        except GraphError:
            pass  # logged and recorded by the client; the rest of the turn still goes out

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text_messages(text))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        language = detect_language(text or "") or "bn"
        await self._send(recipient_id, menu_messages(text or "", buttons, language))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        if str(image).startswith(("https://", "http://")):
            await self._send(recipient_id, [Outgoing("image", {"type": "image", "image": {"link": image}})])
        else:
            await self._send_file(recipient_id, {"image": image})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """`document` or `image` (a file path), or `template`; text otherwise, never raw JSON."""
        if json_message.get("document") or json_message.get("image"):
            await self._send_file(recipient_id, json_message)
        elif isinstance(json_message.get("template"), dict):
            template = json_message["template"]
            try:
                await self.client.send_template(recipient_id, template["name"], template.get("language", "bn"),
                                                template.get("params") or ())
            except (GraphError, KeyError):
                pass
        elif json_message.get("text"):
            await self.send_text_message(recipient_id, str(json_message["text"]))
        else:
            logger.warning("whatsapp: a custom message with keys %s has no WhatsApp form; not sent",
                           sorted(json_message))

    def _allowed_file(self, value: Any) -> Optional[Path]:
        path = Path(str(value)).resolve()
        roots = [Path(root).resolve() for root in self.client.settings.outbound_file_dirs]
        if path.is_file() and any(path.is_relative_to(root) for root in roots):
            return path
        logger.error("whatsapp: the file to send is missing or outside the allowed folders; not sent")
        return None

    async def _send_file(self, recipient_id: str, message: Dict[str, Any]) -> None:
        path = self._allowed_file(message.get("document") or message.get("image"))
        if path is None:
            return
        caption = message.get("caption")
        try:
            if message.get("document"):
                await self.client.send_document(recipient_id, path, message.get("filename") or path.name, caption,
                                                message.get("mime_type") or "application/pdf")
            else:
                await self.client.send_image(recipient_id, path, caption)
        except (GraphError, OSError, ValueError) as error:
            logger.error("whatsapp: a file for %s was not sent: %s", mask_number(recipient_id),
                         type(error).__name__)


# --- Inbound -------------------------------------------------------------------------------


@dataclass
class InboundMessage:
    wamid: str
    wa_id: str
    profile_name: Optional[str]
    kind: str
    message: Dict[str, Any]


def _dicts(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def inbound_messages(payload: Any, phone_number_id: Optional[str] = None) -> Tuple[List[InboundMessage], List[Dict]]:
    """Every message and every delivery receipt of a webhook, in their order (payloads are batched)."""
    messages: List[InboundMessage] = []
    statuses: List[Dict] = []
    if not isinstance(payload, dict):
        return messages, statuses
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            ours = (value.get("metadata") or {}).get("phone_number_id") if isinstance(value.get("metadata"),
                                                                                    dict) else None
            if phone_number_id and ours and str(ours) != str(phone_number_id):
                logger.warning("whatsapp: a webhook for another business number; ignored")
                continue
            names = {str(contact.get("wa_id")): (contact.get("profile") or {}).get("name")
                     for contact in _dicts(value.get("contacts")) if isinstance(contact.get("profile"), dict)}
            for message in _dicts(value.get("messages")):
                sender, wamid = str(message.get("from") or ""), message.get("id")
                if not WA_ID.match(sender) or not isinstance(wamid, str) or not wamid:
                    logger.warning("whatsapp: a message without a valid sender or id; ignored")
                    continue
                messages.append(InboundMessage(wamid, sender, names.get(sender), str(message.get("type") or ""),
                                               message))
            statuses.extend(_dicts(value.get("statuses")))
    return messages, statuses


class SenderQueues:
    """One queue per sender, worked off by one task: a sender's messages are handled one at a
    time, in arrival order, while different senders proceed side by side."""

    def __init__(self, spawn: Callable[[Awaitable[Any]], Any]) -> None:
        self._spawn = spawn
        self._queues: Dict[str, Deque[Callable[[], Awaitable[Any]]]] = {}

    def put(self, sender: str, job: Callable[[], Awaitable[Any]]) -> None:
        queue = self._queues.get(sender)
        if queue is None:
            queue = self._queues[sender] = deque()
            self._spawn(self._work(sender, queue))
        queue.append(job)

    async def _work(self, sender: str, queue: Deque[Callable[[], Awaitable[Any]]]) -> None:
        try:
            while queue:
                job = queue.popleft()
                try:
                    await job()
                except Exception:
                    logger.exception("whatsapp: a message of %s failed", mask_number(sender))
        finally:
            del self._queues[sender]


class WhatsAppInput(InputChannel):
    """Receives WhatsApp Cloud API webhooks and hands citizens' messages to the dialogue."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WhatsAppInput":
        return cls(WhatsAppSettings.from_credentials(credentials))

    def __init__(self, settings: WhatsAppSettings, client: Optional[GraphClient] = None) -> None:
        self.settings = settings
        self.client = client or GraphClient(settings)
        self.output = WhatsAppOutput(self.client)
        self._tasks: Set[asyncio.Task] = set()
        self._queues = SenderQueues(self._spawn)

    def get_output_channel(self) -> OutputChannel:
        return self.output

    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task:
        # Kept referenced until done: the loop holds only weak references to tasks.
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Waits until every accepted webhook has been worked off (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _hash(self, wa_id: str) -> str:
        return number_hash(self.settings.app_secret, wa_id)

    # -- HTTP --

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> response.HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                    token.encode(), self.settings.verify_token.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("whatsapp: a subscription handshake with a wrong token or mode was refused")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> response.HTTPResponse:
            body = await self._read_body(request)
            if body is None:
                return response.json({"error": "payload too large"}, status=413)
            if not valid_signature(self.settings.app_secret, body, request.headers.get("X-Hub-Signature-256")):
                logger.warning("whatsapp: a webhook with a missing or wrong signature was refused")
                return response.json({"error": "invalid signature"}, status=403)
            try:
                payload = json.loads(body)
            except ValueError:
                logger.warning("whatsapp: a signed webhook that is not JSON was refused")
                return response.json({"error": "malformed JSON"}, status=400)
            self.accept(payload, on_new_message)
            return response.json({"status": "received"})

        @webhook.listener("after_server_stop")
        async def close_client(*_args: Any) -> None:
            await self.drain()
            await self.client.close()

        return webhook

    async def _read_body(self, request: Request) -> Optional[bytes]:
        """The raw body, or None when it exceeds the cap (checked before and while reading)."""
        cap = self.settings.max_body_bytes
        try:
            if int(request.headers.get("content-length") or 0) > cap:
                return None
        except ValueError:
            return None
        if request.stream is None:
            return request.body if len(request.body or b"") <= cap else None
        request.stream.request_max_size = cap
        try:
            body = b"".join([chunk async for chunk in request.stream])
        except PayloadTooLarge:
            return None
        return body if len(body) <= cap else None

    # -- Work after the acknowledgement --

    def accept(self, payload: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Queues a verified webhook's messages and receipts; returns at once."""
        messages, statuses = inbound_messages(payload, self.settings.phone_number_id)
        for inbound in messages:
            self._queues.put(inbound.wa_id, partial(self._process, inbound, on_new_message))
        if statuses:
            self._spawn(self._record_statuses(statuses))

    async def _process(self, inbound: InboundMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            first = await _database(channel_records.claim_inbound, inbound.wamid, self._hash(inbound.wa_id),
                                    inbound.kind or "unknown")
        except Exception as error:
            # Without the store a duplicate may slip through; losing the message would be worse.
            logger.error("whatsapp: de-duplication store unavailable (%s); handling %s anyway",
                         type(error).__name__, message_ref(inbound.wamid))
            first = True
        if not first:
            logger.info("whatsapp: message %s was delivered again; already handled", message_ref(inbound.wamid))
            return
        turn = TurnReplies()
        _turn_replies.set(turn)  # this task's own context: one per inbound message
        try:
            message = await self._user_message(inbound)
            if message is not None:
                try:
                    await on_new_message(message)
                except Exception as error:
                    logger.error("whatsapp: the dialogue failed on %s: %s", message_ref(inbound.wamid),
                                 type(error).__name__)
                if turn.sent == 0:
                    logger.warning("whatsapp: the dialogue sent nothing for %s; asking to try again",
                                   message_ref(inbound.wamid))
                    await self._try_again(inbound, str(message.metadata.get("typed") or message.text))
        finally:
            try:
                await _database(channel_records.mark_processed, inbound.wamid)
            except Exception as error:
                logger.error("whatsapp: could not mark %s processed: %s", message_ref(inbound.wamid),
                             type(error).__name__)

    async def _user_message(self, inbound: InboundMessage) -> Optional[UserMessage]:
        """What the dialogue gets for one message, or None when the channel answered it itself."""
        message, kind = inbound.message, inbound.kind
        metadata: Dict[str, Any] = {"wa_id": inbound.wa_id, "profile_name": inbound.profile_name,
                                    "wa_message_id": inbound.wamid, "wa_type": kind}
        body = message.get(kind) if isinstance(message.get(kind), dict) else {}
        text: Optional[str] = None
        if kind == "text":
            text = str(body.get("body") or "")
            chosen = await self._menu_answer(inbound, text)
            if chosen is not None:
                metadata["typed"] = text
                text = chosen
        elif kind == "interactive" and body.get("type") in ("button_reply", "list_reply"):
            reply = body.get(body["type"]) or {}
            text = str(reply.get("id") or reply.get("title") or "")
        elif kind == "button":
            text = str(body.get("payload") or body.get("text") or "")
        elif kind in ACCEPTED_MEDIA:
            text = await self._take_media(inbound, body, metadata)
            if text is None:
                return None
        elif kind == "location":
            place = {key: body.get(key) for key in ("latitude", "longitude", "name", "address")}
            try:
                place["latitude"], place["longitude"] = float(place["latitude"]), float(place["longitude"])
            except (TypeError, ValueError):
                await self._reply(inbound, "wa_unsupported")
                return None
            metadata["location"] = place
            text = ", ".join(str(part) for part in (place["name"], place["address"]) if part) or ATTACHMENT_MARKER
        if not text and kind != "location":
            # A voice note, a sticker, a reaction ...: the dialogue says what it can read, in the
            # middle of a form too (asking its question again), so it goes there.
            text = UNREADABLE_MARKER
        if not text:
            await self._reply(inbound, "wa_unsupported")
            return None
        return UserMessage(text, self.output, inbound.wa_id, input_channel=self.name(), message_id=inbound.wamid,
                           metadata=metadata)

    async def _menu_answer(self, inbound: InboundMessage, typed: str) -> Optional[str]:
        try:
            menu = await _database(channel_records.pending_menu, self._hash(inbound.wa_id), inbound.wamid,
                                   timedelta(seconds=self.settings.menu_ttl_seconds))
        except Exception as error:
            logger.error("whatsapp: pending menus unavailable: %s", type(error).__name__)
            return None
        return answer_to_menu(typed, menu)

    async def _take_media(self, inbound: InboundMessage, body: Dict[str, Any],
                          metadata: Dict[str, Any]) -> Optional[str]:
        """Downloads, checks and stores a photo or document; None when the citizen was told why not."""
        caption = str(body.get("caption") or "")
        try:
            data, declared = await self.client.fetch_media(str(body.get("id") or ""), self.settings.max_media_bytes)
        except MediaTooBig:
            await self._reply(inbound, "wa_media_too_big", caption,
                              max_mb=max(1, self.settings.max_media_bytes // (1024 * 1024)))
            return None
        except GraphError as error:
            logger.error("whatsapp: media of %s could not be downloaded: %s", message_ref(inbound.wamid),
                         self.client.describe_error(error))
            await self._reply(inbound, "wa_media_failed", caption)
            return None
        found = sniff_media(data[:16])
        if found is None or found[0] not in ACCEPTED_MEDIA[inbound.kind]:
            logger.info("whatsapp: media of %s refused: declared %s, found %s", message_ref(inbound.wamid),
                        declared or "-", found[0] if found else "unknown")
            await self._reply(inbound, "wa_media_wrong_type", caption)
            return None
        mime_type, extension = found
        path = await asyncio.get_running_loop().run_in_executor(None, store_media, self.settings.media_dir, data,
                                                                extension)
        metadata.update(media_path=str(path), media_mime=mime_type, media_kind=inbound.kind, media_size=len(data),
                        media_sha256=path.stem)
        if caption:
            metadata["media_caption"] = caption
        if body.get("filename"):
            metadata["media_filename"] = shorten(Path(str(body["filename"]).replace("\\", "/")).name, 120)
        return ATTACHMENT_MARKER

    async def _try_again(self, inbound: InboundMessage, typed: str) -> None:
        try:
            await self._reply(inbound, "try_again", typed=typed)
        except Exception as error:  # Graph API down too: nothing more the channel can do
            logger.error("whatsapp: could not send the try-again reply for %s: %s", message_ref(inbound.wamid),
                         type(error).__name__)

    async def _reply(self, inbound: InboundMessage, key: str, typed: str = "", **params: Any) -> None:
        """A reply the channel writes itself, in the citizen's language."""
        language = await self._language(inbound.wa_id, typed)
        if "max_mb" in params:
            params["max_mb"] = digits(params["max_mb"], language)
        await self.output.send_text_message(inbound.wa_id, catalogue_text(key, language, **params))

    async def _language(self, wa_id: str, typed: str) -> str:
        """The conversation's language (the citizen's on record, unless this message clearly
        changes it); Bengali for a stranger who wrote nothing readable."""
        from panchayat.citizens import find_citizen

        def on_record(session) -> Optional[str]:
            citizen = find_citizen(session, wa_id)
            return citizen.language if citizen is not None else None

        try:
            current = await _database(on_record)
        except Exception:
            current = None
        return conversation_language(current, typed) or "bn"

    async def _record_statuses(self, statuses: List[Dict[str, Any]]) -> None:
        for receipt in statuses:
            message_id, status = str(receipt.get("id") or ""), str(receipt.get("status") or "")
            errors = _dicts(receipt.get("errors"))
            error = "; ".join(f"{e.get('code')}: {e.get('title') or e.get('message') or ''}" for e in errors) or None
            try:
                at = datetime.utcfromtimestamp(int(receipt.get("timestamp")))
            except (TypeError, ValueError, OverflowError, OSError):
                at = None
            try:
                known = await _database(channel_records.record_status, message_id, status, at,
                                        _scrub(error, self.settings.access_token) if error else None)
            except Exception as failure:
                logger.error("whatsapp: a delivery receipt could not be recorded: %s", type(failure).__name__)
                continue
            if not known:
                logger.info("whatsapp: receipt %r for %s not applied (unknown status or message)",
                            status[:20], message_ref(message_id))
            elif status == "failed":
                logger.warning("whatsapp: message %s failed: %s", message_ref(message_id),
                               _scrub(error or "", self.settings.access_token))


def store_media(directory: Path, data: bytes, extension: str) -> Path:
    """Keeps a received file under its SHA-256 (one copy per content), readable by the owner only."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{hashlib.sha256(data).hexdigest()}{extension}"
    if not path.exists():
        partial_path = directory / f".{uuid.uuid4().hex}.part"
        with open(os.open(partial_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(data)
        os.replace(partial_path, path)
    return path
