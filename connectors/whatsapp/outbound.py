"""The channel's outbound half: the Rasa output channel, and the record of what went out.

`WhatsAppOutput` turns the dialogue's replies (texts, menus, images, documents, templates)
into WhatsApp messages (connectors.whatsapp.payloads) and sends them through the Graph client;
`OutboundRecorder` writes each one to `whatsapp_outbound` and counts the replies of the turn
being handled.
"""

import contextvars
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from rasa.core.channels.channel import OutputChannel

from connectors.whatsapp.graph_api import GraphClient, GraphError
from connectors.whatsapp.payloads import Option, Outgoing, menu_messages, text_messages
from connectors.whatsapp.redact import mask_number
from panchayat import channel_records
from panchayat.journeys import in_thread
from panchayat.language import detect_language

logger = logging.getLogger(__name__)


# Replies sent while one inbound message is handled. Rasa swallows a failed custom action (the
# action server down, say) and ends the turn without a word; the channel sees that the turn sent
# nothing and asks the citizen to try again instead of leaving them in silence.
@dataclass
class TurnReplies:
    sent: int = 0


_turn_replies: "contextvars.ContextVar[Optional[TurnReplies]]" = contextvars.ContextVar("turn_replies", default=None)


def start_turn() -> TurnReplies:
    """Counts the replies sent from here on in the current task (one task per inbound message)."""
    turn = TurnReplies()
    _turn_replies.set(turn)
    return turn


class OutboundRecorder:
    """Writes every sent (or refused) message to `whatsapp_outbound`; never fails a send.

    `database_url` names the database when it is not DATABASE_URL (the notification worker's).
    """

    def __init__(self, hash_key: str, database_url: Optional[str] = None) -> None:
        self.hash_key = hash_key
        self.database_url = database_url

    async def sent(self, to: str, kind: str, message_id: str, menu: Optional[Sequence[Option]] = None) -> None:
        turn = _turn_replies.get()
        if turn is not None:
            turn.sent += 1
        await self._write(to, kind=kind, provider_message_id=message_id, menu=menu)

    async def failed(self, to: str, kind: str, error: str) -> None:
        await self._write(to, kind=kind, provider_message_id=None, status="failed", error=error)

    def _row(self, **row: Any) -> Dict[str, Any]:
        """The columns of the record beyond the message itself; a subclass adds its own."""
        return row

    async def _write(self, to: str, **row: Any) -> None:
        row = self._row(**row)
        try:
            await in_thread(
                channel_records.record_outbound,
                recipient_hash=channel_records.number_hash(self.hash_key, to),
                database_url=self.database_url,
                **row,
            )
        except Exception as error:  # the message is out; losing its record must not lose the reply
            logger.error(
                "whatsapp: could not record an outbound %s%s: %s",
                row.get("kind"),
                f" of notification {row['notification_id']}" if row.get("notification_id") else "",
                type(error).__name__,
            )


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

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
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
                await self.client.send_template(
                    recipient_id, template["name"], template.get("language", "bn"), template.get("params") or ()
                )
            except (GraphError, KeyError):
                pass
        elif json_message.get("text"):
            await self.send_text_message(recipient_id, str(json_message["text"]))
        else:
            logger.warning(
                "whatsapp: a custom message with keys %s has no WhatsApp form; not sent", sorted(json_message)
            )

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
                await self.client.send_document(
                    recipient_id,
                    path,
                    message.get("filename") or path.name,
                    caption,
                    message.get("mime_type") or "application/pdf",
                )
            else:
                await self.client.send_image(recipient_id, path, caption)
        except (GraphError, OSError, ValueError) as error:
            logger.error("whatsapp: a file for %s was not sent: %s", mask_number(recipient_id), type(error).__name__)
