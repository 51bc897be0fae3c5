"""Applying for a certificate or NOC: choosing the service, answering its questions (and
correcting answers), filing the application, and downloading the certificate once approved.

One form serves every service. What has been said so far is a draft, plain data that the
dialogue keeps between messages, so that an interrupted application resumes where it stopped:

    service         the service's code
    fields          {field name: the parsed answer}
    documents       {document code: the stored copy (drafts.store_document)}
    editing         the field being corrected, asked next
    choosing_field  True while the citizen picks the detail to change from the summary

The service's definition decides what is asked and in which order. Reading an answer is pure;
filing the application is one transaction, and so is finding a certificate to download.
"""

import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from panchayat import applications, certificates, citizens, config, documents
from panchayat.answers import is_correction, is_no, is_yes, match_option, number_in, payload_value, stem
from panchayat.bengali import normalize, phonetic_key
from panchayat.catalogue import day, digits, text
from panchayat.db import transaction
from panchayat.drafts import store_document
from panchayat.errors import PanchayatError
from panchayat.fields import parse_field
from panchayat.identifiers import parse_application_number
from panchayat.journeys import Button, Reply, reply
from panchayat.models import Attachment
from panchayat.services import Service, all_services, get_service, names_in_a_list, without_certificate_words

# The summary's buttons: catalogue keys of their titles, and what pressing (or typing) one means.
SUMMARY_BUTTONS = {"draft_button_submit": "/affirm", "draft_button_change": "/deny", "draft_button_cancel": "/cancel"}


# --- Choosing the service ---------------------------------------------------------------------


def match_service(typed: str) -> Optional[str]:
    """A service code from a code, a button or a name in either script."""
    typed = payload_value(typed) or (typed or "").strip()
    services = all_services()
    if typed in services:
        return typed
    # "certificate" names no service by itself, though a service's name may have it.
    typed = without_certificate_words(typed)
    found = match_option(
        typed,
        [
            {"value": code, "labels": [service.name["en"], service.name["bn"], code.replace("_", " "), *service.also]}
            for code, service in services.items()
        ],
    )
    if found:
        return found
    key = phonetic_key(normalize(typed).replace(" ", ""))
    for code, service in services.items():
        for name in (service.name["en"], service.name["bn"], code.replace("_", " ")):
            name_key = phonetic_key(normalize(name).replace(" ", ""))
            if key and (key in name_key or name_key in key):
                return code
    return None


def service_menu(language: str) -> Reply:
    """Which certificate? with a button per service."""
    return reply(
        "draft_ask_service",
        buttons=tuple(
            Button(service.button_title(language), service.apply_payload) for service in all_services().values()
        ),
    )


def service_info(code: Optional[str], language: str) -> Reply:
    """What a service needs (documents, details, fee, days), or the list of all services when
    `code` names none."""
    services = all_services()
    service = services.get(code) if code else None
    if service is None:
        lines = "\n".join(
            text(
                "service_list_line",
                language,
                service=s.title(language),
                fee=digits(s.fee_rupees, language),
                days=digits(s.processing_days, language),
            )
            for s in services.values()
        )
        return reply("service_list", services=lines)
    needed = "\n".join(text("document_line", language, document=_label(d, language)) for d in service.documents)
    return reply(
        "service_info",
        service=service.title(language),
        summary=service.summary.get(language) or service.summary["en"],
        fee=digits(service.fee_rupees, language),
        days=digits(service.processing_days, language),
        documents=needed,
        fields=", ".join(_label(f, language) for f in service.fields),
    )


def service_meant(typed: str, draft: Optional[Dict]) -> Optional[str]:
    """The service a request to apply means when no service was understood in it: one named in
    words ("বাড়ি করার অনুমতির জন্য আবেদন"), else the paused draft's ("let me finish my application")."""
    named = match_service(typed)
    if named:
        return named
    if draft and (draft.get("fields") or draft.get("documents")):
        return draft["service"]
    return None


@dataclass(frozen=True)
class ServiceChosen:
    """The service an answer chose (None: not understood), its draft and what to say."""

    service: Optional[str]
    draft: Optional[Dict]
    replies: List[Reply]


def choose_service(typed: str, draft: Optional[Dict], language: str) -> ServiceChosen:
    """Starts the application for the service `typed` names, or resumes the draft of that service
    when it already holds answers."""
    code = match_service(typed)
    if code is None:
        return ServiceChosen(None, draft, [reply("draft_unknown_service", services=names_in_a_list(language))])
    title = get_service(code).title(language)
    if draft and draft.get("service") == code and (draft["fields"] or draft["documents"]):
        return ServiceChosen(code, draft, [reply("draft_resume", service=title)])
    return ServiceChosen(code, new_draft(code), [reply("draft_start", service=title)])


# --- The draft --------------------------------------------------------------------------------


def new_draft(service_code: Optional[str]) -> Dict:
    get_service(service_code or "")
    return {"service": service_code, "fields": {}, "documents": {}, "editing": None}


def step_of(draft: Optional[Dict], service_code: Optional[str]) -> Optional[Tuple[Dict, str]]:
    """The draft (a new one for `service_code` when none is kept) and the kind of its next step,
    or None when its service is no longer defined (its definition file was removed since)."""
    try:
        draft = draft or new_draft(service_code)
        return draft, next_step(draft)[0]
    except PanchayatError:
        return None


def next_step(draft: Dict) -> Tuple[str, Optional[str]]:
    """("field", name), ("document", code) or ("confirm", None)."""
    service = get_service(draft["service"])
    if draft.get("editing"):
        return "field", draft["editing"]
    for definition in service.fields:
        if definition["name"] not in draft["fields"]:
            return "field", definition["name"]
    for document in service.documents:
        if document["code"] not in draft["documents"]:
            return "document", document["code"]
    return "confirm", None


def field_definition(service: Service, name: str) -> Dict:
    return next(definition for definition in service.fields if definition["name"] == name)


def answer_field(draft: Dict, name: str, typed: str) -> Dict:
    service = get_service(draft["service"])
    value = parse_field(field_definition(service, name), payload_value(typed) or typed)
    return dict(draft, fields=dict(draft["fields"], **{name: value}), editing=None)


def answer_document(draft: Dict, code: str, path_text: str) -> Dict:
    """Checks and keeps the handed-in file (blocking: it is read and copied)."""
    return dict(draft, documents=dict(draft["documents"], **{code: store_document(path_text)}))


def correction_target(draft: Dict, typed: str) -> Optional[str]:
    """The field a correction names ("plot number ta bhul hoyeche" -> plot_number,
    "malik er naam ta bhul" -> owner_name), or None. A field is named by its label in either
    language or by what villagers call it (the definition's `also`)."""
    cleaned = normalize(typed).lower()
    if not is_correction(cleaned):
        return None
    service = get_service(draft["service"])
    said = set(_keys(cleaned)) | set(_keys(cleaned, stemmed=True))
    best, best_score = None, (0.0, 0)
    for definition in service.fields:
        for label in (
            definition["label"]["en"],
            definition["label"]["bn"],
            definition["name"].replace("_", " "),
            *definition.get("also", []),
        ):
            label_keys = _keys(label)
            if not label_keys:
                continue
            # The share of the label's words the user wrote, then how many of them.
            hits = sum(
                1 for key, cut in zip(label_keys, _keys(label, stemmed=True), strict=True) if key in said or cut in said
            )
            score = (hits / len(label_keys), hits)
            if score > best_score:
                best, best_score = definition["name"], score
    return best if best_score[0] >= 0.5 else None


def _keys(typed: str, stemmed: bool = False) -> List[str]:
    """Phonetic keys of the telling words (one-letter keys and "name" carry no signal), with
    their endings cut when `stemmed`."""
    found = re.findall(r"[\w\u0980-\u09ff']+", normalize(typed).lower())
    telling = [w for w in found if len(phonetic_key(w)) > 1 and phonetic_key(w) != "nm"]
    return [phonetic_key(stem(w)) if stemmed else phonetic_key(w) for w in telling]


def choose_field_by_number(draft: Dict, typed: str) -> Optional[str]:
    service = get_service(draft["service"])
    number = number_in(typed) if len(typed.split()) <= 2 else None
    if number is not None and 1 <= number <= len(service.fields):
        return service.fields[number - 1]["name"]
    return None


def _label(definition: Dict, language: str) -> str:
    return definition["label"].get(language) or definition["label"]["en"]


def display_value(service: Service, name: str, value, language: str) -> str:
    definition = field_definition(service, name)
    if definition.get("type") == "choice":
        choice = next((c for c in definition["choices"] if c["value"] == value), None)
        if choice:
            return choice[language] if language in choice else choice["en"]
    return str(value)


# --- Asking -----------------------------------------------------------------------------------


def question(draft: Optional[Dict], language: str, service_code: Optional[str] = None) -> Reply:
    """What the draft (or a new one for `service_code`) needs next: a field, a document, which
    detail to change, or the summary to confirm."""
    draft = draft or new_draft(service_code)
    step, key = next_step(draft)
    if step == "field" and key:
        return _field_question(draft, key, language)
    if step == "document" and key:
        service = get_service(draft["service"])
        document = next(d for d in service.documents if d["code"] == key)
        return reply("draft_ask_document", document=_label(document, language))
    if draft.get("choosing_field"):
        return reply("draft_ask_which_field")
    return summary(draft, language)


def _field_question(draft: Dict, name: str, language: str) -> Reply:
    """The field's own question from the service definition, with a button per choice."""
    definition = field_definition(get_service(draft["service"]), name)
    # The payload says "this is an answer": a bare value ("service") would be read as a request.
    buttons = tuple(
        Button(choice.get(language) or choice["en"], f'/inform{{"choice": "{choice["value"]}"}}')
        for choice in definition.get("choices", [])
    )
    return reply(
        "draft_field_question",
        buttons=buttons,
        question=definition["prompt"].get(language) or definition["prompt"]["en"],
    )


def summary(draft: Dict, language: str) -> Reply:
    """Every answer, numbered (the numbers pick a detail to change), with submit/change/cancel."""
    service = get_service(draft["service"])
    lines = [
        text(
            "draft_line",
            language,
            number=index,
            label=_label(definition, language),
            value=display_value(service, definition["name"], draft["fields"].get(definition["name"], ""), language),
        )
        for index, definition in enumerate(service.fields, start=1)
    ]
    handed_in = ", ".join(_label(d, language) for d in service.documents if d["code"] in draft["documents"])
    return reply(
        "draft_summary",
        service=service.title(language),
        lines="\n".join(lines),
        documents=handed_in or "-",
        fee=service.fee_rupees,
        buttons=tuple(Button(text(key, language), payload) for key, payload in SUMMARY_BUTTONS.items()),
    )


# --- Answering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """What one answer did: the draft to keep (None once filed), the replies, the application's
    number once filed, and `paused` when the citizen chose to stop for now (the draft is kept)."""

    draft: Optional[Dict]
    replies: List[Reply] = field(default_factory=list)
    number: Optional[str] = None
    paused: bool = False


def answer(
    sender: str,
    draft: Dict,
    typed: str,
    language: str,
    intent: Optional[str] = None,
    button: Optional[str] = None,
    attachment: Optional[str] = None,
) -> Answered:
    """Reads one answer to the draft's question: a field's value, a document (`attachment`, the
    path of a file sent in the chat, or a typed path), a correction that names a field, or, at
    the summary, yes (files the application for `sender`), change or cancel. `intent` is the
    understood intent and `button` the payload of the summary button pressed or typed, if any.
    A wrong answer raises PanchayatError and the draft stays as it was."""
    step, key = next_step(draft)
    target = correction_target(draft, typed)
    if step == "confirm" and draft.get("choosing_field"):
        target = target or choose_field_by_number(draft, typed) or correction_target(draft, f"change {typed}")
        if target is None:
            return Answered(draft, [reply("draft_ask_which_field")])
    if target:
        label = _label(field_definition(get_service(draft["service"]), target), language)
        return Answered(dict(draft, editing=target, choosing_field=False), [reply("draft_correcting", label=label)])
    if step == "field" and key:
        return Answered(answer_field(draft, key, typed))
    if step == "document" and key:
        return Answered(answer_document(draft, key, attachment or typed))
    if intent == "affirm" or button == "/affirm" or is_yes(typed):
        number = submit(sender, draft)
        return Answered(
            None,
            [reply("draft_submitted", service=get_service(draft["service"]).title(language), number=number)],
            number=number,
        )
    if button == "/cancel":
        return Answered(draft, paused=True)
    if intent == "deny" or button == "/deny" or is_no(typed) or is_correction(typed):
        return Answered(dict(draft, choosing_field=True))
    return Answered(draft, [reply("draft_confirm_expected")])


@transaction
def submit(session, sender: str, draft: Dict) -> str:
    """Files the application of `sender` with its documents; returns the application number."""
    if next_step(draft)[0] != "confirm":
        raise PanchayatError("draft_incomplete")
    application = applications.submit(
        session, citizens.get_or_create(session, sender), draft["service"], draft["fields"]
    )
    for code, stored in draft["documents"].items():
        session.add(
            Attachment(
                application_id=application.id,
                purpose=code,
                storage_path=stored["path"],
                mime_type=stored["mime_type"] or mimetypes.guess_type(stored["path"])[0],
                size_bytes=stored["size_bytes"],
                sha256=stored["sha256"],
            )
        )
    session.flush()
    return application.number


# --- Where an application stands -------------------------------------------------------------------


def _status_word(status: str, language: str) -> str:
    return text(f"status_{status}", language)


def status_replies(application, language: str) -> List[Reply]:
    """One application (a `models.Application`, read while its session is open) with its history,
    and what to do next once approved."""
    history = "\n".join(
        text(
            "application_history_line",
            language,
            date=day(event.at, language),
            status=_status_word(event.to_status, language),
            note=f" ({event.note})" if event.note and event.to_status == "rejected" else "",
        )
        for event in application.events
    )
    replies = [
        reply(
            "application_status",
            number=application.number,
            service=text(f"service_{application.service}", language),
            date=day(application.created_at, language),
            status=_status_word(application.status, language),
            history=history,
        )
    ]
    if application.status == "approved":
        replies.append(reply("application_next_approved", number=application.number))
    return replies


def list_replies(applications_: list, language: str) -> List[Reply]:
    """Several applications, one line each."""
    lines = "\n".join(
        text(
            "my_application_line",
            language,
            number=a.number,
            service=text(f"service_{a.service}", language),
            status=_status_word(a.status, language),
        )
        for a in applications_
    )
    return [reply("my_applications", lines=lines)]


# --- Downloading the certificate ----------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    """The certificate as a PDF file with its caption, or the replies that say why there is none."""

    replies: List[Reply] = field(default_factory=list)
    pdf: Optional[Path] = None
    caption: Optional[Reply] = None


def download(sender: str, typed: str, language: str, number: Optional[str] = None) -> Download:
    """The citizen's own approved certificate `number` (as understood, else as written in `typed`;
    without one, their latest) rendered as a PDF under var/certificates. An application not yet
    approved gets its status; someone else's number gets the same answer as an unknown one."""
    number = number or parse_application_number(typed or "")
    facts, replies = _certificate_facts(sender, number, language)
    if facts is None:
        return Download(replies)
    # Rendering takes a while: it happens after the transaction has ended.
    data = documents.render_certificate(facts)
    folder = config.VAR_DIR / "certificates"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{facts['number']}.pdf"
    path.write_bytes(data)
    return Download(
        pdf=path, caption=reply("certificate_caption", service=facts["service"].title(language), number=facts["number"])
    )


@transaction
def _certificate_facts(
    session, sender: str, number: Optional[str], language: str
) -> Tuple[Optional[Dict], List[Reply]]:
    """The facts of the citizen's certificate to print, or (None, what to say instead)."""
    citizen = citizens.get_or_create(session, sender)
    certificate = certificates.own_approved(session, number, citizen)
    if certificate is not None:
        return certificates.facts(certificate), []
    application = applications.find_own(session, number, citizen) if number else None
    if application is not None:
        return None, [reply("certificate_not_ready", number=number), *status_replies(application, language)]
    if number:
        return None, [reply("application_not_found", number=number)]
    return None, [reply("certificate_none")]
