"""Labelling the trainers' inbox: a citizen's message the assistant did not understand becomes a
reviewed training example in `data/nlu/reviewed.yml`.

A trainer gives an intent (or "not for us", trained as `out_of_scope`, so that the assistant
learns to say so) and may mark entity spans over the message. The example is refused when
its text is already a training or held-out example anywhere (compared without annotations,
case-insensitive, Bengali-normalised), when it still holds a phone-like digit run, or when
the intent, an entity type, a value or a span is wrong; nothing is written then.

The file is Rasa 3 YAML. Each intent's examples are a list of `- text: "..."` items, so that
every example can carry the YAML comment `# reviewed YYYY-MM-DD by <trainer>` (a comment
inside a `|` block would be read as an example). It never holds a phone number: the inbox
keeps redacted messages, a digit run of 7 or more is refused here, and the comment names the
trainer only.

Order of the two writes: all checks first; then the row and the audit entry are changed and
flushed (a database error stops us before the file is touched); then the file is replaced
atomically (temporary file + rename, under a lock, so two trainers never lose each other's
examples). The caller commits. Should that commit fail, a rollback listener on the session
takes the example out of the file again, so the file and the inbox never disagree.
"""

import json
import os
import re
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import yaml
from sqlalchemy import event
from sqlalchemy.orm import Session

from panchayat import journal, nlu_inbox
from panchayat.bengali import normalize
from panchayat.errors import PanchayatError
from panchayat.models import utcnow

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "nlu"
HELDOUT_DIR = ROOT / "tests" / "nlu"
DOMAIN = ROOT / "domain.yml"
REVIEWED_FILE = "reviewed.yml"
NOT_FOR_US = "not_for_us"
OUT_OF_SCOPE = "out_of_scope"
# Intents a trainer never gives: predicted by the pipeline, not trained.
UNTRAINABLE = {"nlu_fallback"}
HEADER = """\
# Reviewed examples from the trainers' inbox: citizens' messages the assistant did not
# understand, labelled by a trainer (console or `python -m panchayat nlu label`).
# Written by panchayat/nlu_training.py only; each example carries when and by whom it was
# reviewed. Never a phone number here. "Not for us" messages are out_of_scope examples.
version: "3.1"
nlu:
"""
# [text]{"entity": ..., "value": ...}, [text](entity) or [text](entity:value)
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\{(?P<json>[^}]+)\}|\((?P<entity>[^)]+)\))")
# A phone number or any long number: seven digits in a row, or a mobile number typed in two halves.
PHONE_LIKE = re.compile(r"\d{7,}|[6-9]\d{4}[\s-]\d{5}")
_INTENT_LINE = re.compile(r"^- intent: (?P<intent>\S+)\s*$")


def _domain() -> Dict[str, Any]:
    return yaml.safe_load(DOMAIN.read_text(encoding="utf-8")) or {}


def _names(items: List[Any]) -> List[str]:
    """Names of a domain list whose items are names or {name: {options}}."""
    return [item if isinstance(item, str) else next(iter(item)) for item in items or []]


def trainable_intents() -> List[str]:
    """The intents of domain.yml a trainer may choose, in the domain's order; "not for us" is
    `out_of_scope` (NOT_FOR_US is accepted as its other name)."""
    return [name for name in _names(_domain().get("intents", [])) if name not in UNTRAINABLE]


def entity_types() -> List[str]:
    return _names(_domain().get("entities", []))


def closed_entity_values() -> Dict[str, Set[str]]:
    """Entity types whose values are a closed list (a marked value must be one of them)."""
    from panchayat.grievances import GRIEVANCE_CATEGORIES
    from panchayat.services import all_services

    return {"service": set(all_services()), "grievance_category": set(GRIEVANCE_CATEGORIES), "language": {"bn", "en"}}


def plain_text(example: str) -> str:
    """A training line without its entity annotations."""
    return ANNOTATION.sub(lambda match: match.group("text"), example)


def comparison_key(text: str) -> str:
    """What makes two examples the same: Bengali-normalised, case-folded, one space between
    words, without annotations and without punctuation at either end."""
    return " ".join(normalize(plain_text(text)).casefold().split()).strip(" .,!?;:।")


def _examples_of(path: Path) -> Iterator[str]:
    return _examples_in(path.read_text(encoding="utf-8"))


def _examples_in(content: str) -> Iterator[str]:
    data = yaml.safe_load(content) or {}
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        examples = block.get("examples")
        if isinstance(examples, str):
            for line in examples.splitlines():
                line = line.strip()
                if line.startswith("-"):
                    yield line[1:].strip()
        elif isinstance(examples, list):
            for item in examples:
                if isinstance(item, dict) and item.get("text"):
                    yield str(item["text"]).strip()


def find_existing(text: str, data_dir: Optional[Path] = None, heldout_dir: Optional[Path] = None) -> Optional[Path]:
    """The file (training or held-out) that already has `text` as an example, or None."""
    key = comparison_key(text)
    for folder in (data_dir or DATA_DIR, heldout_dir or HELDOUT_DIR):
        for path in sorted(Path(folder).glob("*.yml")):
            if any(comparison_key(example) == key for example in _examples_of(path)):
                return path
    return None


def has_phone_number(text: str) -> bool:
    return PHONE_LIKE.search(normalize(text)) is not None


def _check_entities(text: str, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    known = entity_types()
    closed = closed_entity_values()
    checked: List[Dict[str, Any]] = []
    for entity in entities:
        try:
            start, end, kind = int(entity["start"]), int(entity["end"]), str(entity["entity"])
        except (KeyError, TypeError, ValueError):
            raise PanchayatError("label_bad_entity", value=json.dumps(entity, ensure_ascii=False)) from None
        if not 0 <= start < end <= len(text):
            raise PanchayatError("label_entity_outside", start=start, end=end, length=len(text))
        span = text[start:end]
        if span != span.strip() or ("text" in entity and entity["text"] != span):
            raise PanchayatError("label_entity_not_on_text", start=start, end=end, span=span)
        if kind not in known:
            raise PanchayatError("label_unknown_entity", entity=kind, choices=", ".join(known))
        value = entity.get("value")
        value = None if value in (None, "") else str(value)
        if kind in closed and value is not None and value not in closed[kind]:
            raise PanchayatError(
                "label_bad_entity_value", entity=kind, value=value, choices=", ".join(sorted(closed[kind]))
            )
        checked.append({"start": start, "end": end, "entity": kind, "value": value})
    checked.sort(key=lambda e: e["start"])
    for before, after in zip(checked, checked[1:], strict=False):
        if after["start"] < before["end"]:
            raise PanchayatError(
                "label_entity_not_on_text",
                start=after["start"],
                end=after["end"],
                span=text[after["start"] : after["end"]],
            )
    return checked


def annotate(text: str, entities: List[Dict[str, Any]]) -> str:
    """The training line: `text` with its entity spans marked in Rasa's notation."""
    line, cursor = "", 0
    for entity in sorted(entities, key=lambda e: e["start"]):
        line += text[cursor : entity["start"]]
        span = text[entity["start"] : entity["end"]]
        if entity.get("value") is None or entity["value"] == span:
            line += f"[{span}]({entity['entity']})"
        else:
            spec = json.dumps({"entity": entity["entity"], "value": entity["value"]}, ensure_ascii=False)
            line += f"[{span}]{spec}"
        cursor = entity["end"]
    return line + text[cursor:]


def _one_line(text: str) -> str:
    """The message on one line, brackets made round (Rasa would read [..](..) as a mark),
    at the same length so that the trainer's offsets still hold."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("[", "(").replace("]", ")")


def _trainer_name(trainer: str) -> str:
    name = " ".join(str(trainer or "").split())
    if not name or has_phone_number(name):
        raise PanchayatError("label_bad_trainer")
    return name


def _quoted(line: str) -> str:
    """A YAML single-quoted scalar: readable as typed, only a quote is doubled."""
    return "'" + line.replace("'", "''") + "'"


def _entry_lines(line: str, trainer: str, when: datetime) -> List[str]:
    return [f"  # reviewed {when.date().isoformat()} by {trainer}", f"  - text: {_quoted(line)}"]


def with_example(content: Optional[str], intent: str, entry: List[str]) -> str:
    """The reviewed file's text with `entry` appended at the end of `intent`'s examples."""
    lines = (content if content else HEADER).splitlines()
    start = next((i for i, row in enumerate(lines) if (m := _INTENT_LINE.match(row)) and m["intent"] == intent), None)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += [f"- intent: {intent}", "  examples:", *entry]
    else:
        end = next((i for i in range(start + 1, len(lines)) if _INTENT_LINE.match(lines[i])), len(lines))
        while end > start + 2 and not lines[end - 1].strip():
            end -= 1
        lines[end:end] = entry
    return "\n".join(lines) + "\n"


def without_example(content: str, entry: List[str]) -> str:
    """The reviewed file's text with `entry` taken out again (its last occurrence)."""
    lines = content.splitlines()
    for i in range(len(lines) - len(entry), -1, -1):
        if lines[i : i + len(entry)] == entry:
            del lines[i : i + len(entry)]
            break
    # An intent left without examples goes too (Rasa would warn about an empty block).
    i = 0
    while i < len(lines):
        following = lines[i + 2] if i + 2 < len(lines) else None
        if _INTENT_LINE.match(lines[i]) and lines[i + 1 : i + 2] == ["  examples:"]:
            if following is None or _INTENT_LINE.match(following):
                del lines[i : i + 2]
                continue
        i += 1
    return "\n".join(lines) + "\n"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer of `path` at a time across processes (console workers, the CLI): a lock on
    its folder, which (unlike the file, replaced at each write) stays the same."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _write_atomically(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def resolve_intent(intent: str) -> Tuple[str, str]:
    """(the intent trained, the item's new status) for what the trainer chose."""
    intent = (intent or "").strip()
    if intent in (NOT_FOR_US, OUT_OF_SCOPE):
        return OUT_OF_SCOPE, "not_for_us"
    choices = trainable_intents()
    if intent not in choices:
        raise PanchayatError("label_unknown_intent", intent=intent, choices=", ".join(choices + [NOT_FOR_US]))
    return intent, "labelled"


def label(
    session: Session,
    item_id: int,
    intent: str,
    trainer: str,
    entities: Optional[List[Dict[str, Any]]] = None,
    data_dir: Optional[Path] = None,
    now: Optional[datetime] = None,
    heldout_dir: Optional[Path] = None,
) -> Path:
    """Labels inbox item `item_id` and appends it to `data_dir`/reviewed.yml; returns that path.

    `entities`: [{"start", "end", "entity", "value"?}] over the item's text. Raises a
    PanchayatError (nothing written) for an unknown item or intent, an item already labelled, a
    bad entity, a phone-like number or a text that is already an example."""
    data_dir = Path(data_dir or DATA_DIR)
    heldout_dir = Path(heldout_dir or HELDOUT_DIR)
    when = now or utcnow()
    name = _trainer_name(trainer)
    trained_intent, status = resolve_intent(intent)
    item = nlu_inbox.find(session, item_id)
    if item is None:
        raise PanchayatError("label_unknown_item", id=item_id)
    if item.status != "new":
        raise PanchayatError("label_not_new", id=item.id, status=item.status)
    text = _one_line(item.text)
    stripped = text.strip()
    shift = len(text) - len(text.lstrip())
    if has_phone_number(stripped):
        raise PanchayatError("label_phone_number", id=item.id)
    spans = [dict(e, start=int(e["start"]) - shift, end=int(e["end"]) - shift) for e in _checked(text, entities)]
    line = annotate(stripped, spans)
    path = data_dir / REVIEWED_FILE
    entry = _entry_lines(line, name, when)
    with _locked(path):
        existing = find_existing(stripped, data_dir, heldout_dir)
        if existing is not None:
            raise PanchayatError("label_duplicate", text=stripped, file=existing.name)
        content = path.read_text(encoding="utf-8") if path.exists() else None
        new_content = with_example(content, trained_intent, entry)
        if stripped not in [plain_text(e) for e in _examples_in(new_content)]:  # pragma: no cover
            raise RuntimeError("the reviewed file would not hold the new example")
        old_state = item.status
        item.status = status
        item.label_intent = trained_intent
        item.label_entities = [dict(e, start=e["start"] + shift, end=e["end"] + shift) for e in spans] or None
        item.labelled_by = name
        item.labelled_at = when
        journal.audit(
            session,
            actor=name,
            action="nlu_example_labelled",
            entity_type="nlu_inbox_item",
            entity_ref=str(item.id),
            old_state=old_state,
            new_state=status,
            intent=trained_intent,
            entities=len(spans),
        )
        session.flush()
        _write_atomically(path, new_content)
    _undo_on_rollback(session, path, entry)
    return path


def _checked(text: str, entities: Optional[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    return _check_entities(text, list(entities or []))


def _undo_on_rollback(session: Session, path: Path, entry: List[str]) -> None:
    """Takes the example out of the file again if the session's transaction is rolled back."""
    state = {"done": False}

    def committed(_session: Session) -> None:
        state["done"] = True

    def rolled_back(_session: Session) -> None:
        if state["done"]:
            return
        state["done"] = True
        with _locked(path):
            if not path.exists():
                return
            content = without_example(path.read_text(encoding="utf-8"), entry)
            if any(True for _ in _examples_in(content)):
                _write_atomically(path, content)
            else:
                path.unlink()

    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_rollback", rolled_back, once=True)


def parse_entity_spec(spec: str) -> Dict[str, Any]:
    """`START:END:ENTITY[:VALUE]` of the command line."""
    parts = spec.split(":", 3)
    if len(parts) < 3 or not parts[0].strip().isdigit() or not parts[1].strip().isdigit() or not parts[2]:
        raise PanchayatError("label_bad_entity", value=spec)
    entity: Dict[str, Any] = {"start": int(parts[0]), "end": int(parts[1]), "entity": parts[2]}
    if len(parts) == 4 and parts[3]:
        entity["value"] = parts[3]
    return entity
