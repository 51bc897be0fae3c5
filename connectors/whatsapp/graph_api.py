"""The WhatsApp Cloud (Graph) API, outbound: messages, templates, media up and down.

`GraphClient` retries 5xx, network errors and throttling codes with exponential backoff and
gives up at once on other errors; every message it sends (or gives up on) goes to its
recorder. The channel's output and the notification worker both send through it.
"""

import asyncio
import json
import logging
import random
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Sequence, Tuple

import aiohttp

from connectors.whatsapp.payloads import CAPTION_LIMIT, Option, Outgoing, shorten, text_messages
from connectors.whatsapp.redact import mask_number, scrub
from connectors.whatsapp.settings import WhatsAppSettings
from panchayat.file_types import HEAD_BYTES, sniff
from panchayat.journeys import in_thread

logger = logging.getLogger(__name__)

# Graph error codes that mean "slow down", not "this message is wrong".
THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})
# A wa_id is an E.164 number without "+": up to 15 digits, any country.
WA_ID = re.compile(r"^\d{5,15}$")
MEDIA_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class GraphError(Exception):
    """A Graph API call that failed; `retryable` says whether trying later may help."""

    def __init__(
        self,
        status: Optional[int],
        code: Optional[int],
        message: str,
        retryable: bool,
        retry_after: Optional[float] = None,
    ) -> None:
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


class Recorder(Protocol):
    """Where the client reports each message: sent (with the provider's id) or given up on."""

    async def sent(self, to: str, kind: str, message_id: str, menu: Optional[Sequence[Option]] = None) -> None: ...

    async def failed(self, to: str, kind: str, error: str) -> None: ...


class GraphClient:
    """The WhatsApp Cloud API, outbound; one instance holds one HTTP session."""

    def __init__(
        self, settings: WhatsAppSettings, recorder: Recorder, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self._sleep = sleep
        self._session: Optional[aiohttp.ClientSession] = None

    # Sessions belong to an event loop, so one is made on first use inside the running loop.
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    @property
    def _auth(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.access_token}"}

    def describe_error(self, error: BaseException) -> str:
        """An error as text fit for logs and the outbound table: no token, secret or full number."""
        return scrub(str(error), self.settings.access_token, self.settings.app_secret)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        form: Optional[Callable[[], aiohttp.FormData]] = None,
        read: Optional[Callable[[aiohttp.ClientResponse], Awaitable[Any]]] = None,
    ) -> Any:
        attempts = self.settings.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._http().request(
                    method, url, headers=self._auth, json=json_body, data=form() if form else None
                ) as reply:
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
            logger.warning(
                "whatsapp: Graph API %s; attempt %d of %d, next in %.1fs",
                self.describe_error(error),
                attempt,
                attempts,
                delay,
            )
            await self._sleep(delay)
        raise AssertionError("unreachable")

    async def send_message(
        self, to: str, body: Dict[str, Any], kind: str, menu: Optional[Sequence[Option]] = None
    ) -> str:
        """Sends one message body (as built by connectors.whatsapp.payloads); its provider id."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": str(to), **body}
        try:
            answer = await self._call(
                "POST", f"{self.settings.api_base_url}/{self.settings.phone_number_id}/messages", json_body=payload
            )
            message_id = str(answer["messages"][0]["id"])
        except GraphError as error:
            logger.error(
                "whatsapp: gave up sending a %s message to %s: %s", kind, mask_number(to), self.describe_error(error)
            )
            await self.recorder.failed(to, kind, self.describe_error(error))
            raise
        except (KeyError, IndexError, TypeError, ValueError) as error:
            failure = GraphError(200, None, f"unexpected answer ({type(error).__name__})", retryable=False)
            logger.error("whatsapp: sending a %s message to %s: %s", kind, mask_number(to), failure)
            await self.recorder.failed(to, kind, str(failure))
            raise failure from error
        await self.recorder.sent(to, kind, message_id, menu)
        logger.info("whatsapp: sent a %s message to %s", kind, mask_number(to))
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
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in params]}
            ]
        return await self.send_message(to, {"type": "template", "template": template}, "template")

    async def upload_media(self, path: Path, mime_type: str, filename: Optional[str] = None) -> str:
        data = await in_thread(Path(path).read_bytes)

        def form() -> aiohttp.FormData:
            upload = aiohttp.FormData()
            upload.add_field("messaging_product", "whatsapp")
            upload.add_field("type", mime_type)
            upload.add_field("file", data, filename=filename or Path(path).name, content_type=mime_type)
            return upload

        answer = await self._call(
            "POST", f"{self.settings.api_base_url}/{self.settings.phone_number_id}/media", form=form
        )
        return str(answer["id"])

    async def send_document(
        self,
        to: str,
        path: Path,
        filename: Optional[str] = None,
        caption: Optional[str] = None,
        mime_type: str = "application/pdf",
    ) -> str:
        filename = filename or Path(path).name
        try:
            media_id = await self.upload_media(path, mime_type, filename)
        except GraphError as error:
            logger.error(
                "whatsapp: could not upload a document for %s: %s", mask_number(to), self.describe_error(error)
            )
            await self.recorder.failed(to, "document", self.describe_error(error))
            raise
        document = {"id": media_id, "filename": filename}
        if caption:
            document["caption"] = shorten(caption, CAPTION_LIMIT)
        return await self.send_message(to, {"type": "document", "document": document}, "document")

    async def send_image(self, to: str, path: Path, caption: Optional[str] = None) -> str:
        kind = sniff(await in_thread(_head, Path(path)))
        if kind is None or not kind[0].startswith("image/"):
            raise ValueError("not a JPEG or PNG image")
        try:
            media_id = await self.upload_media(path, kind[0])
        except GraphError as error:
            logger.error("whatsapp: could not upload an image for %s: %s", mask_number(to), self.describe_error(error))
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
        return handle.read(HEAD_BYTES)
