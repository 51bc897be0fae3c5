"""The channel's inbound half: Meta's webhooks, and what the dialogue gets of them.

    GET  /webhooks/whatsapp/webhook   Meta's subscription handshake
    POST /webhooks/whatsapp/webhook   signed webhooks: messages and delivery receipts

A POST is checked (size, then signature over the raw bytes, then JSON), acknowledged
at once, and worked on afterwards: Meta redelivers anything slow or non-2xx for days.
Every message id is claimed in the database before it is processed, so a redelivery
or a concurrent duplicate is answered once. Messages of one sender go through one
queue, in the order they arrived.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import os
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Set, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from connectors.whatsapp.graph_api import WA_ID, GraphClient, GraphError, MediaTooBig
from connectors.whatsapp.outbound import OutboundRecorder, WhatsAppOutput, start_turn
from connectors.whatsapp.payloads import answer_to_menu, shorten
from connectors.whatsapp.redact import mask_number, message_ref, scrub
from connectors.whatsapp.settings import WhatsAppSettings
from connectors.whatsapp.signing import HEADER, valid_signature
from panchayat import channel_records, citizens
from panchayat.catalogue import digits, text as catalogue_text
from panchayat.errors import log_failure
from panchayat.file_types import HEAD_BYTES, sniff
from panchayat.journeys import in_thread
from panchayat.language import conversation_language

logger = logging.getLogger(__name__)

ACCEPTED_MEDIA = {"image": {"image/jpeg", "image/png"}, "document": {"image/jpeg", "image/png", "application/pdf"}}
# Marks a message that carries a file or a place rather than words: the application form
# takes any text that is not a command, and reads the file from the metadata.
ATTACHMENT_MARKER = "/inform"
# Marks a message with nothing the assistant can read (audio, video, sticker, reaction, contacts):
# its `wa_type` in the metadata tells the dialogue what it was.
UNREADABLE_MARKER = "/inform"


# --- Webhook parsing -----------------------------------------------------------------------


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
            ours = (
                (value.get("metadata") or {}).get("phone_number_id")
                if isinstance(value.get("metadata"), dict)
                else None
            )
            if phone_number_id and ours and str(ours) != str(phone_number_id):
                logger.warning("whatsapp: a webhook for another business number; ignored")
                continue
            names = {
                str(contact.get("wa_id")): (contact.get("profile") or {}).get("name")
                for contact in _dicts(value.get("contacts"))
                if isinstance(contact.get("profile"), dict)
            }
            for message in _dicts(value.get("messages")):
                sender, wamid = str(message.get("from") or ""), message.get("id")
                if not WA_ID.match(sender) or not isinstance(wamid, str) or not wamid:
                    logger.warning("whatsapp: a message without a valid sender or id; ignored")
                    continue
                messages.append(
                    InboundMessage(wamid, sender, names.get(sender), str(message.get("type") or ""), message)
                )
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
                except Exception as error:
                    log_failure(logger, f"whatsapp: a message of {mask_number(sender)} failed", error)
        finally:
            del self._queues[sender]


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


# --- The Rasa input channel ----------------------------------------------------------------


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
        self.client = client or GraphClient(settings, OutboundRecorder(settings.app_secret))
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
        return channel_records.number_hash(self.settings.app_secret, wa_id)

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
                token.encode(), self.settings.verify_token.encode()
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("whatsapp: a subscription handshake with a wrong token or mode was refused")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> response.HTTPResponse:
            body = await self._read_body(request)
            if body is None:
                return response.json({"error": "payload too large"}, status=413)
            if not valid_signature(self.settings.app_secret, body, request.headers.get(HEADER)):
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
            first = await in_thread(
                channel_records.claim_inbound, inbound.wamid, self._hash(inbound.wa_id), inbound.kind or "unknown"
            )
        except Exception as error:
            # Without the store a duplicate may slip through; losing the message would be worse.
            logger.error(
                "whatsapp: de-duplication store unavailable (%s); handling %s anyway",
                type(error).__name__,
                message_ref(inbound.wamid),
            )
            first = True
        if not first:
            logger.info("whatsapp: message %s was delivered again; already handled", message_ref(inbound.wamid))
            return
        turn = start_turn()  # this task's own context: one per inbound message
        try:
            message = await self._user_message(inbound)
            if message is not None:
                try:
                    await on_new_message(message)
                except Exception as error:
                    logger.error(
                        "whatsapp: the dialogue failed on %s: %s", message_ref(inbound.wamid), type(error).__name__
                    )
                if turn.sent == 0:
                    logger.warning(
                        "whatsapp: the dialogue sent nothing for %s; asking to try again", message_ref(inbound.wamid)
                    )
                    await self._try_again(inbound, str(message.metadata.get("typed") or message.text))
        finally:
            try:
                await in_thread(channel_records.mark_processed, inbound.wamid)
            except Exception as error:
                logger.error(
                    "whatsapp: could not mark %s processed: %s", message_ref(inbound.wamid), type(error).__name__
                )

    async def _user_message(self, inbound: InboundMessage) -> Optional[UserMessage]:
        """What the dialogue gets for one message, or None when the channel answered it itself."""
        message, kind = inbound.message, inbound.kind
        metadata: Dict[str, Any] = {
            "wa_id": inbound.wa_id,
            "profile_name": inbound.profile_name,
            "wa_message_id": inbound.wamid,
            "wa_type": kind,
        }
        content = message.get(kind)
        body: Dict[str, Any] = content if isinstance(content, dict) else {}
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
            place: Dict[str, Any] = {key: body.get(key) for key in ("latitude", "longitude", "name", "address")}
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
        return UserMessage(
            text, self.output, inbound.wa_id, input_channel=self.name(), message_id=inbound.wamid, metadata=metadata
        )

    async def _menu_answer(self, inbound: InboundMessage, typed: str) -> Optional[str]:
        try:
            menu = await in_thread(
                channel_records.pending_menu,
                self._hash(inbound.wa_id),
                inbound.wamid,
                timedelta(seconds=self.settings.menu_ttl_seconds),
            )
        except Exception as error:
            logger.error("whatsapp: pending menus unavailable: %s", type(error).__name__)
            return None
        return answer_to_menu(typed, menu)

    async def _take_media(
        self, inbound: InboundMessage, body: Dict[str, Any], metadata: Dict[str, Any]
    ) -> Optional[str]:
        """Downloads, checks and stores a photo or document; None when the citizen was told why not."""
        caption = str(body.get("caption") or "")
        try:
            data, declared = await self.client.fetch_media(str(body.get("id") or ""), self.settings.max_media_bytes)
        except MediaTooBig:
            await self._reply(
                inbound, "wa_media_too_big", caption, max_mb=max(1, self.settings.max_media_bytes // (1024 * 1024))
            )
            return None
        except GraphError as error:
            logger.error(
                "whatsapp: media of %s could not be downloaded: %s",
                message_ref(inbound.wamid),
                self.client.describe_error(error),
            )
            await self._reply(inbound, "wa_media_failed", caption)
            return None
        found = sniff(data[:HEAD_BYTES])
        if found is None or found[0] not in ACCEPTED_MEDIA[inbound.kind]:
            logger.info(
                "whatsapp: media of %s refused: declared %s, found %s",
                message_ref(inbound.wamid),
                declared or "-",
                found[0] if found else "unknown",
            )
            await self._reply(inbound, "wa_media_wrong_type", caption)
            return None
        mime_type, extension = found
        path = await in_thread(store_media, self.settings.media_dir, data, extension)
        metadata.update(
            media_path=str(path),
            media_mime=mime_type,
            media_kind=inbound.kind,
            media_size=len(data),
            media_sha256=path.stem,
        )
        if caption:
            metadata["media_caption"] = caption
        if body.get("filename"):
            metadata["media_filename"] = shorten(Path(str(body["filename"]).replace("\\", "/")).name, 120)
        return ATTACHMENT_MARKER

    async def _try_again(self, inbound: InboundMessage, typed: str) -> None:
        try:
            await self._reply(inbound, "try_again", typed=typed)
        except Exception as error:  # Graph API down too: nothing more the channel can do
            logger.error(
                "whatsapp: could not send the try-again reply for %s: %s",
                message_ref(inbound.wamid),
                type(error).__name__,
            )

    async def _reply(self, inbound: InboundMessage, key: str, typed: str = "", **params: Any) -> None:
        """A reply the channel writes itself, in the citizen's language."""
        language = await self._language(inbound.wa_id, typed)
        if "max_mb" in params:
            params["max_mb"] = digits(params["max_mb"], language)
        await self.output.send_text_message(inbound.wa_id, catalogue_text(key, language, **params))

    async def _language(self, wa_id: str, typed: str) -> str:
        """The conversation's language (the citizen's on record, unless this message clearly
        changes it); Bengali for a stranger who wrote nothing readable."""
        try:
            current = await in_thread(citizens.language_on_record, wa_id)
        except Exception:
            current = None
        return conversation_language(current, typed) or "bn"

    async def _record_statuses(self, statuses: List[Dict[str, Any]]) -> None:
        for receipt in statuses:
            message_id, status = str(receipt.get("id") or ""), str(receipt.get("status") or "")
            errors = _dicts(receipt.get("errors"))
            error = "; ".join(f"{e.get('code')}: {e.get('title') or e.get('message') or ''}" for e in errors) or None
            try:
                at = datetime.utcfromtimestamp(int(receipt.get("timestamp", "")))
            except (TypeError, ValueError, OverflowError, OSError):
                at = None
            try:
                known = await in_thread(
                    channel_records.record_status,
                    message_id,
                    status,
                    at,
                    scrub(error, self.settings.access_token) if error else None,
                )
            except Exception as failure:
                logger.error("whatsapp: a delivery receipt could not be recorded: %s", type(failure).__name__)
                continue
            if not known:
                logger.info(
                    "whatsapp: receipt %r for %s not applied (unknown status or message)",
                    status[:20],
                    message_ref(message_id),
                )
            elif status == "failed":
                logger.warning(
                    "whatsapp: message %s failed: %s",
                    message_ref(message_id),
                    scrub(error or "", self.settings.access_token),
                )
