"""The notification worker: delivers the outbox (`notifications`) to citizens over WhatsApp.

    python -m connectors.notifier --once          deliver what is due, then exit (cron, tests)
    python -m connectors.notifier --interval 2    keep delivering until SIGTERM or SIGINT

It reads the channel's credentials from WHATSAPP_* (docs/contracts/whatsapp.md) and the database
from DATABASE_URL. In-process: `await deliver_once(settings, url, now)` -> DeliveryReport.

The outbox itself (claims with a lease, writing the outcome back, attempts and backoff) is
panchayat.outbox; this worker decides what to send and sends it, calling the outbox in a
worker thread (`in_thread`).

Crashes. A `sending` row whose claim is older than the lease (NOTIFIER_LEASE_SECONDS) was
left by a worker that died, and may be claimed again. It is not simply resent: every message
the Graph API accepts is recorded in `whatsapp_outbound` with the notification's id, in a
transaction of its own right after the acceptance (and the main message's id is also kept on
the notification when a later part fails). The claim says which parts the provider already
accepted, and only the others are sent (text or template; document). So a notification is
resent only when the provider accepted it but the worker died before that one write: a
window of milliseconds, in which a duplicate is preferred to a lost message.

Which message. Inside the 24-hour customer-service window (the citizen's last inbound
message less than 24 hours ago, minus a small margin for the time in flight) the
notification goes as plain text in the citizen's language (`outbox.render`), followed by
its document if it has one. Outside the window only an approved template may be sent:

    WHATSAPP_TEMPLATE_<KIND>      template for one kind (e.g. WHATSAPP_TEMPLATE_GRIEVANCE_RESOLVED)
    WHATSAPP_TEMPLATE_DEFAULT     template for every other kind      (default "panchayat_update")
    WHATSAPP_TEMPLATE_DOCUMENT    template with a document header    (default "panchayat_document")
    WHATSAPP_TEMPLATE_LANGUAGE_BN / _EN   language codes              (default "bn" / "en_US")

Every template has one body parameter, {{1}}: the rendered text of the notification, on
one line. A notification with a document goes outside the window as the document template
(the PDF as its header), because a plain document message would be refused there. The
bodies to submit to Meta are in docs/whatsapp-templates.md.

Failures. The Graph client already retries 5xx and throttling within one call. When a call
still fails with a retryable error, the row goes back to `pending` with attempts + 1 and
`next_attempt_at` after a doubling wait; at NOTIFIER_MAX_ATTEMPTS it becomes `failed`. A
permanent error (GraphError.retryable False, a missing document, a text that cannot be
rendered) makes it `failed` at once. `last_error` holds the reason, scrubbed like the logs.
Recipients that are not WhatsApp ids (the terminal chat's `demo-citizen` and the like) are
left pending for the terminal chat.

Logs carry notification ids and masked numbers, never the token, the app secret or a full
number.
"""

import argparse
import asyncio
import contextvars
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from connectors.whatsapp.graph_api import WA_ID, GraphClient, GraphError
from connectors.whatsapp.outbound import OutboundRecorder
from connectors.whatsapp.payloads import shorten
from connectors.whatsapp.redact import mask_number
from connectors.whatsapp.settings import WhatsAppSettings
from panchayat import config, outbox
from panchayat.journeys import in_thread

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "panchayat_update"
DOCUMENT_TEMPLATE = "panchayat_document"
TEMPLATE_LANGUAGES = {"bn": "bn", "en": "en_US"}
SERVICE_WINDOW = timedelta(hours=24)
# A text sent in the last minutes of the window may reach Meta after it closed (error 131047).
WINDOW_MARGIN = timedelta(minutes=5)
# Graph error: the window has closed ("Re-engagement message"); a template is still allowed.
WINDOW_CLOSED_CODE = 131047
# Meta refuses a template parameter with a line break, a tab or more than four spaces in a row,
# and a body longer than 1024 characters (the fixed words of our templates included).
TEMPLATE_PARAMETER_LIMIT = 900

# The notification being delivered in this task: the recorder ties each outbound record to it.
_delivering: contextvars.ContextVar[Optional[int]] = contextvars.ContextVar("notifier_delivering", default=None)


# --- Settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotifierPolicy:
    """How the worker retries, how long a claim holds, and which templates it uses."""

    max_attempts: int = config.NOTIFIER_MAX_ATTEMPTS
    retry_seconds: float = config.NOTIFIER_RETRY_SECONDS
    retry_max_seconds: float = config.NOTIFIER_RETRY_MAX_SECONDS
    lease_seconds: float = config.NOTIFIER_LEASE_SECONDS
    default_template: str = DEFAULT_TEMPLATE
    document_template: str = DOCUMENT_TEMPLATE
    # Catalogue kind -> template name, for kinds that have a template of their own.
    kind_templates: Mapping[str, str] = field(default_factory=dict)
    template_languages: Mapping[str, str] = field(default_factory=lambda: dict(TEMPLATE_LANGUAGES))

    @classmethod
    def from_environ(cls, environ: Optional[Mapping[str, str]] = None) -> "NotifierPolicy":
        environ = os.environ if environ is None else environ
        reserved = {"DEFAULT", "DOCUMENT", "LANGUAGE_BN", "LANGUAGE_EN"}
        kinds = {
            name[len("WHATSAPP_TEMPLATE_") :].lower(): value
            for name, value in environ.items()
            if name.startswith("WHATSAPP_TEMPLATE_") and value and name[len("WHATSAPP_TEMPLATE_") :] not in reserved
        }
        return cls(
            max_attempts=max(1, _int(environ, "NOTIFIER_MAX_ATTEMPTS", config.NOTIFIER_MAX_ATTEMPTS)),
            retry_seconds=_int(environ, "NOTIFIER_RETRY_SECONDS", config.NOTIFIER_RETRY_SECONDS),
            retry_max_seconds=_int(environ, "NOTIFIER_RETRY_MAX_SECONDS", config.NOTIFIER_RETRY_MAX_SECONDS),
            lease_seconds=_int(environ, "NOTIFIER_LEASE_SECONDS", config.NOTIFIER_LEASE_SECONDS),
            default_template=environ.get("WHATSAPP_TEMPLATE_DEFAULT") or DEFAULT_TEMPLATE,
            document_template=environ.get("WHATSAPP_TEMPLATE_DOCUMENT") or DOCUMENT_TEMPLATE,
            kind_templates=kinds,
            template_languages={
                "bn": environ.get("WHATSAPP_TEMPLATE_LANGUAGE_BN") or TEMPLATE_LANGUAGES["bn"],
                "en": environ.get("WHATSAPP_TEMPLATE_LANGUAGE_EN") or TEMPLATE_LANGUAGES["en"],
            },
        )

    def template_for(self, kind: str) -> str:
        return self.kind_templates.get(kind) or self.default_template

    def template_language(self, language: str) -> str:
        return self.template_languages.get(language) or self.template_languages.get("en") or "en_US"

    @property
    def retry(self) -> outbox.Retry:
        return outbox.Retry(self.max_attempts, self.retry_seconds, self.retry_max_seconds)


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(environ.get(name, default))
    except (TypeError, ValueError):
        return default


def in_service_window(last_inbound_at: Optional[datetime], now: datetime) -> bool:
    """Whether a plain message may still go: the citizen wrote less than 24 hours ago (less the margin)."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW - WINDOW_MARGIN


def template_parameter(text: str) -> str:
    """The rendered text as one template parameter: one line, short enough for a template body."""
    return shorten(text, TEMPLATE_PARAMETER_LIMIT)  # shorten() also folds every run of whitespace


# --- The record of what went out -------------------------------------------------------------


class NotificationRecorder(OutboundRecorder):
    """Records each outbound message with the notification it delivers, in the worker's database.

    Like its parent it never fails a send: the message is out, and a lost record costs at
    worst a duplicate after a crash.
    """

    def _row(self, **row: Any) -> Dict[str, Any]:
        return dict(row, notification_id=_delivering.get())


# --- Delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one pass did, by notification id."""

    sent: List[int] = field(default_factory=list)
    retrying: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)
    # Abandoned claims found already delivered: completed from the record, nothing resent.
    recovered: List[int] = field(default_factory=list)
    # Pending rows for recipients that are not WhatsApp ids (left for the terminal chat).
    skipped: int = 0
    # Claims written back too late (another worker had taken the row over).
    lost: List[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.sent)} sent, {len(self.recovered)} recovered, {len(self.retrying)} to retry, "
            f"{len(self.failed)} failed, {self.skipped} left for the terminal chat"
        )


class Notifier:
    """Delivers due notifications; one instance holds one Graph client (one HTTP session)."""

    def __init__(
        self, settings: WhatsAppSettings, url: Optional[str] = None, policy: Optional[NotifierPolicy] = None
    ) -> None:
        self.settings = settings
        self.url = url
        self.policy = policy or NotifierPolicy.from_environ()
        self.client = GraphClient(settings, NotificationRecorder(settings.app_secret, url))

    async def close(self) -> None:
        await self.client.close()

    async def deliver_once(
        self, now: Optional[datetime] = None, stop: Optional[asyncio.Event] = None
    ) -> DeliveryReport:
        """Claims and sends every notification due at `now` (default: the current UTC time)."""
        fixed_now = now
        report = DeliveryReport()
        lease = timedelta(seconds=self.policy.lease_seconds)
        after_id = 0
        while not (stop and stop.is_set()):
            batch = await in_thread(
                outbox.candidates, fixed_now or datetime.utcnow(), lease, after_id, database_url=self.url
            )
            if not batch:
                break
            for notification_id, recipient, _status in batch:
                after_id = notification_id
                if stop and stop.is_set():
                    break
                if not WA_ID.match(recipient or ""):
                    report.skipped += 1
                    continue
                moment = fixed_now or datetime.utcnow()
                held = await in_thread(
                    outbox.claim, notification_id, moment, lease, self.settings.app_secret, database_url=self.url
                )
                if held is not None:
                    await self._deliver(held, moment, report)
        if report.sent or report.failed or report.retrying or report.recovered:
            logger.info("notifier: %s", report.summary())
        return report

    async def _deliver(self, held: outbox.Claim, now: datetime, report: DeliveryReport) -> None:
        to = held.recipient
        if held.taken_over:
            logger.warning(
                "notifier: notification %d was left mid-delivery by a worker that stopped; parts already accepted: %s",
                held.id,
                ", ".join(sorted(held.sent_parts)) or "none",
            )
        if held.render_error:
            return await self._fail(held, now, report, held.render_error, retryable=False)
        document = self._document(held)
        if isinstance(document, str):
            return await self._fail(held, now, report, document, retryable=False)
        main_done = bool(held.sent_parts & outbox.MAIN_KINDS)
        # A template with the document as its header carries both parts.
        document_done = document is None or bool(held.sent_parts & {"document", "template"})
        if main_done and document_done:
            # An abandoned claim whose messages the provider had all taken: complete it, send nothing.
            await self._finish_sent(held, now, report, held.main_message_id, recovered=True)
            return
        main_id = held.main_message_id
        token = _delivering.set(held.id)
        try:
            in_window = in_service_window(held.last_inbound_at, now)
            if not main_done and in_window:
                try:
                    main_id = (await self.client.send_text(to, held.text))[0]
                    main_done = True
                except GraphError as error:
                    if error.code != WINDOW_CLOSED_CODE:
                        raise
                    logger.info(
                        "notifier: the window of %s had closed; notification %d goes as a template",
                        mask_number(to),
                        held.id,
                    )
                    in_window = False
            if not in_window and document is not None and not document_done:
                # Outside the window a plain document would be refused: one template carries both
                # (and repeats the text when only the document was still owed).
                template_id = await self._send_document_template(held, document)
                main_id = main_id or template_id
                document_done = main_done = True
            elif not main_done:
                main_id = await self.client.send_template(
                    to,
                    self.policy.template_for(held.kind),
                    self.policy.template_language(held.language),
                    [template_parameter(held.text)],
                )
                main_done = True
            if document is not None and not document_done:
                await self.client.send_document(to, document, filename=document.name)
        except GraphError as error:
            await self._fail(
                held,
                now,
                report,
                self.client.describe_error(error),
                error.retryable,
                main_id=main_id,
                retry_after=error.retry_after,
            )
            return
        except OSError as error:  # the document could not be read
            await self._fail(
                held, now, report, f"document unreadable: {type(error).__name__}", retryable=False, main_id=main_id
            )
            return
        finally:
            _delivering.reset(token)
        await self._finish_sent(held, now, report, main_id)

    def _document(self, held: outbox.Claim) -> Union[Path, str, None]:
        """The document to send (a Path), None when there is none, or why it cannot be sent."""
        if not held.document_path:
            return None
        path = Path(held.document_path)
        if not path.is_absolute():
            path = config.PROJECT_ROOT / path
        path = path.resolve()
        roots = [Path(root).resolve() for root in self.settings.outbound_file_dirs]
        if not any(path.is_relative_to(root) for root in roots):
            return "document outside the folders documents may be sent from"
        if not path.is_file():
            return "document missing"
        return path

    async def _send_document_template(self, held: outbox.Claim, document: Path) -> str:
        media_id = await self.client.upload_media(document, "application/pdf", document.name)
        template = {
            "name": self.policy.document_template,
            "language": {"code": self.policy.template_language(held.language)},
            "components": [
                {
                    "type": "header",
                    "parameters": [{"type": "document", "document": {"id": media_id, "filename": document.name}}],
                },
                {"type": "body", "parameters": [{"type": "text", "text": template_parameter(held.text)}]},
            ],
        }
        return await self.client.send_message(held.recipient, {"type": "template", "template": template}, "template")

    async def _finish_sent(
        self, held: outbox.Claim, now: datetime, report: DeliveryReport, main_id: Optional[str], recovered: bool = False
    ) -> None:
        if not await in_thread(outbox.finish_sent, held, now, main_id, recovered, database_url=self.url):
            report.lost.append(held.id)
            logger.warning(
                "notifier: notification %d was sent but its claim had expired; raise NOTIFIER_LEASE_SECONDS", held.id
            )
            return
        (report.recovered if recovered else report.sent).append(held.id)
        logger.info(
            "notifier: notification %d (%s) %s %s",
            held.id,
            held.kind,
            "was already delivered to" if recovered else "sent to",
            mask_number(held.recipient),
        )

    async def _fail(
        self,
        held: outbox.Claim,
        now: datetime,
        report: DeliveryReport,
        reason: str,
        retryable: bool,
        main_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        failure = await in_thread(
            outbox.finish_failed,
            held,
            now,
            reason,
            retryable,
            self.policy.retry,
            main_id,
            retry_after,
            database_url=self.url,
        )
        if failure is None:
            report.lost.append(held.id)
            return
        (report.retrying if failure.retrying else report.failed).append(held.id)
        if failure.next_attempt_at is not None:
            logger.warning(
                "notifier: notification %d to %s not sent (attempt %d of %d, next at %s): %s",
                held.id,
                mask_number(held.recipient),
                failure.attempts,
                self.policy.max_attempts,
                failure.next_attempt_at.isoformat(timespec="seconds"),
                reason,
            )
        else:
            logger.error(
                "notifier: notification %d to %s failed after %d attempt(s): %s",
                held.id,
                mask_number(held.recipient),
                failure.attempts,
                reason,
            )


async def deliver_once(
    settings: WhatsAppSettings,
    url: Optional[str] = None,
    now: Optional[datetime] = None,
    policy: Optional[NotifierPolicy] = None,
) -> DeliveryReport:
    """One pass over the outbox: sends what is due and returns what happened."""
    notifier = Notifier(settings, url, policy)
    try:
        return await notifier.deliver_once(now)
    finally:
        await notifier.close()


async def run(
    settings: WhatsAppSettings,
    url: Optional[str] = None,
    interval: float = 2.0,
    policy: Optional[NotifierPolicy] = None,
    stop: Optional[asyncio.Event] = None,
) -> None:
    """Delivers every `interval` seconds until `stop` is set; a notification being sent is finished first."""
    stop = stop or asyncio.Event()
    notifier = Notifier(settings, url, policy)
    try:
        while not stop.is_set():
            try:
                await notifier.deliver_once(stop=stop)
            except Exception as error:  # the database or the network away for a moment: try again later
                logger.error("notifier: a pass failed: %s", notifier.client.describe_error(error))
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
    finally:
        await notifier.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.notifier", description="Delivers queued notifications to citizens over WhatsApp."
    )
    parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes (default 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = WhatsAppSettings.from_credentials(None)
    except Exception as error:
        print(f"notifier: {error}", file=sys.stderr)
        return 2
    url = config.database_url()
    if args.once:
        report = asyncio.run(deliver_once(settings, url))
        print(f"notifier: {report.summary()}")
        return 0

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        logger.info("notifier: delivering every %.1fs until SIGTERM or SIGINT", args.interval)
        await run(settings, url, args.interval, stop=stop)
        logger.info("notifier: stopped")

    asyncio.run(until_signalled())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
