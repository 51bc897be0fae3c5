"""The trainers' inbox: groups of citizens' messages the assistant did not understand (already
redacted when they were gathered: no number, PIN or sender is ever kept or shown), a label per
group (an intent or "not for us", with optional entity spans) and, for the administrator, the
retraining that learns them, with its report (F1 per intent and the confusions, before and after).

The retraining is `scripts/retrain.py`, started here as a detached process of its own: it runs for
minutes, well past any request, writes its progress to `var/retrain/status.json` and its report to
`results/retrain/report.json`, which the retraining page reads back.
"""

import fcntl
import json
import logging
import os
import subprocess
import sys
import tempfile
import unicodedata
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import func, select

from console import web
from panchayat import catalogue, config, nlu_inbox, nlu_training
from panchayat.errors import PanchayatError, log_failure
from panchayat.models import INBOX_STATUSES, NluInboxItem

bp = Blueprint("trainer", __name__, url_prefix="/trainer")
log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
RETRAIN_SCRIPT = ROOT / "scripts" / "retrain.py"
STATUS_FILE = ROOT / "var" / "retrain" / "status.json"
REPORT_FILE = ROOT / "results" / "retrain" / "report.json"
RETRAIN_LOG = ROOT / "var" / "log" / "retrain.log"
NOT_FOR_US = "not_for_us"
ENTITY_ROWS = 2
REFRESH_SECONDS = 10
# A "running" status without a process id is the console's own, written just before the script
# starts (the script writes its pid at once); one older than this never started.
UNSTARTED_AFTER = timedelta(minutes=5)
# Any "running" status older than this is taken for a retraining that died without saying so.
STALE_AFTER = timedelta(hours=12)
STATES = ("running", "passed", "refused", "failed")
# The entities a trainer may mark: the domain's, less the value of a form's button.
NOT_MARKED = ("choice",)


# --- The inbox ------------------------------------------------------------------------------


def _entities() -> List[str]:
    return [name for name in nlu_training.entity_types() if name not in NOT_MARKED]


def _intents() -> List[str]:
    """The intents of the label form; out_of_scope is offered as "not for us"."""
    return [name for name in nlu_training.trainable_intents() if name != nlu_training.OUT_OF_SCOPE]


def _reason(reason: Optional[str]) -> str:
    return web.t(f"console_tr_reason_{reason}") if reason in nlu_inbox.REASONS else (reason or "")


def _status_counts() -> Dict[str, int]:
    rows = web.db_session().execute(select(NluInboxItem.status, func.count()).group_by(NluInboxItem.status))
    counts = {status: 0 for status in INBOX_STATUSES}
    counts.update({status: count for status, count in rows})
    return counts


@bp.get("/")
@web.require("train")
def inbox() -> Any:
    status = request.args.get("status") or "new"
    if status not in INBOX_STATUSES:
        abort(404)
    items = nlu_inbox.inbox(web.db_session(), status=status)  # newest first
    return render_template(
        "trainer_inbox.html",
        items=items,
        status=status,
        statuses=INBOX_STATUSES,
        counts=_status_counts(),
        intents=_intents(),
        entities=_entities(),
        entity_rows=range(ENTITY_ROWS),
        not_for_us=NOT_FOR_US,
        reason=_reason,
        percent=lambda confidence: web.t(
            "console_tr_confidence", percent=catalogue.digits(round(confidence * 100), web.lang())
        ),
    )


def _word_char(character: str) -> bool:
    # Letters, marks (Bengali vowel signs) and digits continue a word.
    return unicodedata.category(character)[0] in "LMN"


def _find_span(text: str, span: str, taken: List[Tuple[int, int]]) -> Optional[Tuple[int, int]]:
    """Where the trainer's words are in the message: the first place they occur as whole words,
    exactly (else regardless of case), that no other span of this label covers."""
    for haystack, needle in ((text, span), (text.lower(), span.lower())):
        if len(haystack) != len(text) or not needle:
            continue
        start = haystack.find(needle)
        while start != -1:
            end = start + len(needle)
            whole = (start == 0 or not _word_char(text[start - 1])) and (end == len(text) or not _word_char(text[end]))
            if whole and not any(start < other_end and other_start < end for other_start, other_end in taken):
                return start, end
            start = haystack.find(needle, start + 1)
    return None


def _spans(text: str) -> Tuple[List[Dict[str, Any]], Optional[str]]:
    """The entity rows of the label form as spans over `text`, or the message that refuses them."""
    known = set(_entities())
    spans: List[Dict[str, Any]] = []
    taken: List[Tuple[int, int]] = []
    for row in range(ENTITY_ROWS):
        entity = web.form_text(f"entity_{row}", 60)
        span = web.form_text(f"span_{row}", 300)
        if not entity and not span:
            continue
        if not entity or entity not in known:
            return [], web.t("console_tr_span_without_entity", span=span)
        if not span:
            return [], web.t("console_tr_entity_without_span", entity=entity)
        found = _find_span(text, span, taken)
        if found is None:
            whole_words = _find_span(text, span, []) is not None
            key = "console_tr_spans_overlap" if whole_words else "console_tr_span_not_found"
            return [], web.t(key, span=span)
        start, end = found
        taken.append(found)
        # A value only when the trainer gives one (a service's code); else the words are the value.
        value = web.form_text(f"value_{row}", 120) or None
        spans.append({"start": start, "end": end, "entity": entity, "value": value})
    return sorted(spans, key=lambda span: span["start"]), None


@bp.post("/items/<int:item_id>/label")
@web.require("train")
def label(item_id: int) -> Any:
    item = nlu_inbox.find(web.db_session(), item_id)
    if item is None:
        abort(404)
    back = url_for("trainer.inbox", status=item.status) + f"#item-{item.id}"
    intent = web.form_text("intent", 60)
    if not intent:
        flash(web.t("console_tr_intent_missing"), "error")
        return redirect(back)
    spans, refused = ([], None) if intent == NOT_FOR_US else _spans(item.text)
    if refused:
        flash(refused, "error")
        return redirect(back)
    with web.action(back) as done:
        nlu_training.label(web.db_session(), item.id, intent, web.actor(), entities=spans or None)
        shown = web.t("console_tr_not_for_us") if intent == NOT_FOR_US else intent
        done("console_tr_labelled", intent=shown)
    return done.response


@bp.post("/collect")
@web.require("train")
def collect() -> Any:
    back = url_for("trainer.inbox")
    with web.action(back) as done:
        try:
            counts = nlu_inbox.collect(web.db_session(), config.tracker_database_url())
        except PanchayatError:
            raise
        except Exception as error:  # the tracker store down or not made yet: say so, keep the page
            log_failure(log, "trainer collect", error)
            web.db_session().rollback()
            flash(web.t("console_tr_collect_failed"), "error")
            return redirect(back)
        done("console_tr_collected", **_collected_params(counts))
    return done.response


def _collected_params(counts: Dict[str, int]) -> Dict[str, str]:
    names = ("messages", "misses", "groups", "private_skipped")
    return {name: catalogue.digits(int(counts.get(name) or 0), web.lang()) for name in names}


# --- Retraining -----------------------------------------------------------------------------


def read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _when(value: Any) -> Optional[datetime]:
    """A time of the status file (ISO, UTC) as the server's local time, without its zone."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def _alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except PermissionError:  # a process of another user: it exists
        return True
    except (OSError, ValueError, TypeError):
        return False
    return True


def running(status: Optional[Dict[str, Any]]) -> bool:
    """Whether a retraining is under way: the status says so, its process still lives, and it is
    not an old one that died without saying so."""
    if not status or status.get("state") != "running":
        return False
    started = _when(status.get("started_at"))
    age = datetime.now() - started if started else timedelta(0)
    if status.get("pid"):
        return _alive(status["pid"]) and age < STALE_AFTER
    return age < UNSTARTED_AFTER


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def start_retrain() -> None:
    """Starts `scripts/retrain.py` in a session of its own, so that it outlives the request (and a
    console restart); its output goes to var/log/retrain.log."""
    RETRAIN_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(RETRAIN_LOG, "ab") as output:
        subprocess.Popen(
            [_python(), str(RETRAIN_SCRIPT)],
            cwd=str(ROOT),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _write_status(status: Dict[str, Any]) -> None:
    STATUS_FILE.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{STATUS_FILE.name}.", dir=STATUS_FILE.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(status, file, ensure_ascii=False, indent=2)
    os.replace(partial, STATUS_FILE)


@contextmanager
def _one_starter() -> Iterator[None]:
    """One request at a time checks the status and starts the retraining (console threads and workers)."""
    STATUS_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(STATUS_FILE.with_name(".console-start.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@bp.post("/retrain")
@web.require("train")
def retrain() -> Any:
    if not web.may("accounts"):
        abort(403)
    back = url_for("trainer.retrain_status")
    with _one_starter():
        if running(read_json(STATUS_FILE)):
            flash(web.t("console_tr_retrain_busy"), "error")
            return redirect(back)
        # "running" (without a pid) before the process starts, so that a second click meanwhile is
        # refused; the script writes its own status, with its pid, over it as soon as it runs.
        started = _now_iso()
        _write_status(
            {
                "state": "running",
                "started_at": started,
                "finished_at": None,
                "pid": None,
                "step": "start",
                "summary": None,
            }
        )
        try:
            start_retrain()
        except OSError as error:
            log_failure(log, "trainer retrain", error)
            _write_status(
                {
                    "state": "failed",
                    "started_at": started,
                    "finished_at": _now_iso(),
                    "pid": None,
                    "step": "start",
                    "summary": {"reason_key": "nlu_retrain_failed", "reason_params": {"step": "start"}},
                }
            )
            flash(web.t("console_tr_retrain_start_failed"), "error")
            return redirect(back)
    log.info("retraining started from the console by %s", web.me().username)
    flash(web.t("console_tr_retrain_started"), "ok")
    return redirect(back)


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _summary(summary: Any) -> str:
    """The status's summary in the reader's language (its reason_key is a catalogue key)."""
    if isinstance(summary, dict):
        key, params = summary.get("reason_key"), summary.get("reason_params") or {}
        if isinstance(key, str) and key in catalogue.entries() and isinstance(params, dict):
            try:
                return web.t(key, **params)
            except (KeyError, IndexError, ValueError):
                pass
        return str(summary.get("reason") or "")
    return str(summary or "")


def _report_view(report: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """What the page shows of results/retrain/report.json (scripts/retrain.py)."""
    if not report:
        return None
    decision: Dict[str, Any] = report["decision"] if isinstance(report.get("decision"), dict) else {}
    stories: Dict[str, Any] = report["stories"] if isinstance(report.get("stories"), dict) else {}
    per_intent = []
    for row in report.get("per_intent") or []:
        if not isinstance(row, dict) or not row.get("intent"):
            continue
        before, after = _number(row.get("before")), _number(row.get("after"))
        change = after - before if before is not None and after is not None else None
        per_intent.append(
            {"intent": row["intent"], "before": before, "after": after, "change": change, "support": row.get("support")}
        )
    pairs = [row for row in report.get("confusions") or [] if isinstance(row, dict)]

    def confusions(when: str) -> List[Dict[str, Any]]:
        rows = [
            {"gold": row.get("gold"), "predicted": row.get("predicted"), "count": int(row.get(when) or 0)}
            for row in pairs
        ]
        return sorted(
            (row for row in rows if row["count"]),
            key=lambda row: (-row["count"], str(row["gold"]), str(row["predicted"])),
        )

    changed = [row for row in report.get("changed") or [] if isinstance(row, dict)]
    return {
        "made_at": _when(report.get("made_at")),
        "activated": bool(report.get("activated")),
        "gate": _number(decision.get("gate")),
        "gate_passed": bool(decision.get("gate_passed")),
        "macro_before": _number(decision.get("macro_f1_before")),
        "macro_after": _number(decision.get("macro_f1_after")),
        "reason": _summary(decision),
        "stories_passed": bool(decision.get("stories_passed", stories.get("passed"))),
        "stories_detail": stories.get("detail") or "",
        "per_intent": per_intent,
        "confusions_before": confusions("before"),
        "confusions_after": confusions("after"),
        "changed": [
            {**row, "fixed": row.get("after") == row.get("intent"), "broken": row.get("before") == row.get("intent")}
            for row in changed
        ],
    }


@bp.get("/retrain")
@web.require("train")
def retrain_status() -> Any:
    status = read_json(STATUS_FILE)
    is_running = running(status)
    language = web.lang()

    def score(value: Optional[float], signed: bool = False) -> str:
        if value is None:
            return "–"
        return catalogue.digits(f"{value:+.3f}" if signed else f"{value:.3f}", language)

    result = (status or {}).get("result")
    loaded = result.get("servers_loaded") if isinstance(result, dict) else None
    # scripts/retrain.py hands an activated model to the running Rasa servers (PUT /model).
    servers = (
        {"loaded": sum(1 for ok in loaded.values() if ok is True), "total": len(loaded)}
        if isinstance(loaded, dict) and loaded
        else None
    )
    state = (status or {}).get("state")
    if state == "running" and not is_running:
        state = "failed"  # said running, but its process is gone
    page = render_template(
        "trainer_retrain.html",
        status=status,
        state=state if state in STATES else None,
        running=is_running,
        started_at=_when((status or {}).get("started_at")),
        finished_at=_when((status or {}).get("finished_at")),
        summary=_summary((status or {}).get("summary")),
        servers=servers,
        report=None if is_running else _report_view(read_json(REPORT_FILE)),
        refresh_seconds=REFRESH_SECONDS,
        score=score,
    )
    response = make_response(page)
    if is_running:
        # The page's <meta> sits in its body (base.html has no head block); the header says it too.
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response
