"""The one form machinery behind every certificate service.

A draft is plain data (kept in a dialogue slot, so an interrupted application
resumes where it stopped): the service, the answers so far, the documents, and
which field is being corrected. The service definition decides what is asked.
"""
import mimetypes
import hashlib
import re
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from sqlalchemy.orm import Session

from panchayat import applications, config
from panchayat.answers import is_correction, is_payload, number_in, payload_value, stem as stem_word
from panchayat.bengali import normalize, phonetic_key
from panchayat.catalogue import text
from panchayat.errors import PanchayatError
from panchayat.fields import parse_field
from panchayat.models import Attachment, Citizen
from panchayat.services import Service, get_service

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_SIGNATURES = {b"%PDF": ("application/pdf", ".pdf"), b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
                       b"\x89PNG": ("image/png", ".png")}


def new_draft(service_code: str) -> Dict:
    get_service(service_code)
    return {"service": service_code, "fields": {}, "documents": {}, "editing": None}


def next_step(draft: Dict) -> Tuple[str, Optional[str]]:
    """("field", name), ("document", code) or ("confirm", None)."""
    service = get_service(draft["service"])
    if draft.get("editing"):
        return "field", draft["editing"]
    for field in service.fields:
        if field["name"] not in draft["fields"]:
            return "field", field["name"]
    for document in service.documents:
        if document["code"] not in draft["documents"]:
            return "document", document["code"]
    return "confirm", None


def field_definition(service: Service, name: str) -> Dict:
    return next(field for field in service.fields if field["name"] == name)


def answer_field(draft: Dict, name: str, typed: str) -> Dict:
    service = get_service(draft["service"])
    value = parse_field(field_definition(service, name), payload_value(typed) or typed)
    draft = dict(draft, fields=dict(draft["fields"], **{name: value}), editing=None)
    return draft


def store_document(path_text: str) -> Dict:
    """Checks a handed-in file (type by its first bytes, size) and keeps a copy under var/media."""
    path = Path(path_text.strip().strip("'\""))
    if not path.is_file():
        raise PanchayatError("document_missing")
    size = path.stat().st_size
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        raise PanchayatError("document_too_big", max_mb=MAX_DOCUMENT_BYTES // (1024 * 1024))
    with open(path, "rb") as handle:
        head = handle.read(8)
    kind = next((found for signature, found in DOCUMENT_SIGNATURES.items() if head.startswith(signature)), None)
    if kind is None:
        raise PanchayatError("document_wrong_type")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    media = config.VAR_DIR / "media"
    media.mkdir(parents=True, exist_ok=True)
    stored = media / f"{digest}{kind[1]}"
    if not stored.exists():
        shutil.copyfile(path, stored)
    return {"path": str(stored), "mime_type": kind[0], "size_bytes": size, "sha256": digest}


def answer_document(draft: Dict, code: str, path_text: str) -> Dict:
    return dict(draft, documents=dict(draft["documents"], **{code: store_document(path_text)}))


def looks_like_a_file(typed: str) -> bool:
    """A path typed in the terminal chat; a button's payload (`/deny`) is not one."""
    return not is_payload(typed) and bool(re.match(r"^\s*['\"]?(/|~|\.{1,2}/|[A-Za-z]:\\)", typed or ""))


def correction_target(draft: Dict, typed: str) -> Optional[str]:
    """The field a correction names ("plot number ta bhul hoyeche" -> plot_number,
    "malik er naam ta bhul" -> owner_name), or None. A field is named by its label in either
    language or by what villagers call it (the definition's `also`)."""
    cleaned = normalize(typed).lower()
    if not is_correction(cleaned):
        return None
    service = get_service(draft["service"])
    words = set(_keys(cleaned)) | set(_keys(cleaned, stem=True))
    best, best_score = None, (0.0, 0)
    for field in service.fields:
        for label in (field["label"]["en"], field["label"]["bn"], field["name"].replace("_", " "),
                      *field.get("also", [])):
            label_keys = _keys(label)
            if not label_keys:
                continue
            # The share of the label's words the user wrote, then how many of them.
            hits = sum(1 for k, stem in zip(label_keys, _keys(label, stem=True)) if k in words or stem in words)
            score = (hits / len(label_keys), hits)
            if score > best_score:
                best, best_score = field["name"], score
    return best if best_score[0] >= 0.5 else None


def _keys(text_: str, stem: bool = False) -> List[str]:
    """Phonetic keys of the telling words (one-letter keys and "name" carry no signal), with
    their endings cut when `stem`."""
    found = re.findall(r"[\w\u0980-\u09ff']+", normalize(text_).lower())
    telling = [w for w in found if len(phonetic_key(w)) > 1 and phonetic_key(w) != "nm"]
    return [phonetic_key(stem_word(w)) if stem else phonetic_key(w) for w in telling]


def choose_field_by_number(draft: Dict, typed: str) -> Optional[str]:
    service = get_service(draft["service"])
    number = number_in(typed) if len(typed.split()) <= 2 else None
    if number is not None and 1 <= number <= len(service.fields):
        return service.fields[number - 1]["name"]
    return None


def display_value(service: Service, name: str, value, language: str) -> str:
    field = field_definition(service, name)
    if field.get("type") == "choice":
        choice = next((c for c in field["choices"] if c["value"] == value), None)
        if choice:
            return choice[language] if language in choice else choice["en"]
    return str(value)


def summary(draft: Dict, language: str) -> str:
    service = get_service(draft["service"])
    lines = [text("draft_line", language, number=index, label=field["label"].get(language) or field["label"]["en"],
                  value=display_value(service, field["name"], draft["fields"].get(field["name"], ""), language))
             for index, field in enumerate(service.fields, start=1)]
    documents = ", ".join(d["label"].get(language) or d["label"]["en"] for d in service.documents
                          if d["code"] in draft["documents"])
    return text("draft_summary", language, service=service.title(language), lines="\n".join(lines),
                documents=documents or "-", fee=service.fee_rupees)


def field_prompt(draft: Dict, name: str, language: str) -> Tuple[str, List[Dict]]:
    """The question for a field, and buttons for a choice."""
    service = get_service(draft["service"])
    field = field_definition(service, name)
    question = field["prompt"].get(language) or field["prompt"]["en"]
    # The payload says "this is an answer": a bare value ("service") would be read as a request.
    buttons = [{"title": choice.get(language) or choice["en"], "payload": f'/inform{{"choice": "{choice["value"]}"}}'}
               for choice in field.get("choices", [])]
    return question, buttons


def document_prompt(draft: Dict, code: str, language: str) -> str:
    service = get_service(draft["service"])
    document = next(d for d in service.documents if d["code"] == code)
    return text("draft_ask_document", language, document=document["label"].get(language) or document["label"]["en"])


def submit(session: Session, citizen: Citizen, draft: Dict) -> str:
    """Files the application with its documents; returns the application number."""
    if next_step(draft)[0] != "confirm":
        raise PanchayatError("fields_missing", fields=next_step(draft)[1])
    application = applications.submit(session, citizen, draft["service"], draft["fields"])
    for code, stored in draft["documents"].items():
        session.add(Attachment(application_id=application.id, purpose=code, storage_path=stored["path"],
                               mime_type=stored["mime_type"] or mimetypes.guess_type(stored["path"])[0],
                               size_bytes=stored["size_bytes"], sha256=stored["sha256"]))
    session.flush()
    return application.number
