"""Applications and their certificates: the queue of the account's GPs by status and service with
each application's age, the detail page (fields, documents shown inline, history), review,
approval and rejection, and the certificate's download and revocation.

Every route finds the application first and answers 404 outside the account's scope, then asks
the permission (403): a stranger learns nothing, a colleague of the GP learns that the action is
not theirs. The actions call the same core functions as the CLI, so the applicant is notified the
same way and the audit log names the console user.
"""

from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from flask import Blueprint, Response, abort, render_template, url_for

from console import web
from panchayat import applications, catalogue, certificates, documents, file_types
from panchayat.applications import TRANSITIONS
from panchayat.models import APPLICATION_STATUSES, Application, Attachment, GramPanchayat
from panchayat.services import Service, all_services

bp = Blueprint("applications", __name__, url_prefix="/applications")

# Statuses whose applications still wait for the office (and so can be overdue).
OPEN_STATUSES = ("submitted", "under_review")


def _allowed(what: str) -> None:
    if not web.may(what):
        abort(403)


def _in_language(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get(web.lang()) or value.get("en") or "")
    return str(value or "")


def _age_days(application: Application, today: Optional[datetime] = None) -> int:
    return max(((today or datetime.utcnow()).date() - application.created_at.date()).days, 0)


def _overdue(application: Application, service: Optional[Service], age: int) -> bool:
    return service is not None and application.status in OPEN_STATUSES and age > service.processing_days


def _service(code: str) -> Optional[Service]:
    return all_services().get(code)


def _service_title(code: str) -> str:
    service = _service(code)
    return service.title(web.lang()) if service else code


def _gp_name(gp: Optional[GramPanchayat]) -> str:
    if gp is None:
        return ""
    return str(catalogue.localised(gp.name_en, gp.name_bn, web.lang()))


@bp.get("/")
@web.require("see_cases")
def queue() -> Any:
    services = all_services()
    status = web.query_choice("status", APPLICATION_STATUSES)
    service = web.query_choice("service", services)
    now = datetime.utcnow()
    rows: List[Dict[str, Any]] = []
    for application in applications.in_gram_panchayats(web.db_session(), web.scope(), status or None, service or None):
        definition = services.get(application.service)
        age = _age_days(application, now)
        rows.append(
            {
                "number": application.number,
                "service": _service_title(application.service),
                "status": application.status,
                "age": age,
                "overdue": _overdue(application, definition, age),
                "gp": _gp_name(application.gram_panchayat),
                "submitted": application.created_at,
            }
        )
    return render_template(
        "applications_queue.html",
        rows=rows,
        statuses=APPLICATION_STATUSES,
        services=[(code, definition.title(web.lang())) for code, definition in services.items()],
        chosen_status=status,
        chosen_service=service,
        several_gps=len(web.scope()) > 1,
    )


def _fields(application: Application, service: Optional[Service]) -> List[Dict[str, str]]:
    language = web.lang()
    shown: List[Dict[str, str]] = []
    known = set()
    for field in service.fields if service else []:
        known.add(field["name"])
        if field["name"] in application.fields:
            value = application.fields[field["name"]]
            shown.append(
                {
                    "label": _in_language(field.get("label")) or field["name"],
                    "value": service.shown_value(field["name"], value, language) if service else str(value),
                }
            )
    for name, value in application.fields.items():  # answers of a field the definition no longer has
        if name not in known:
            shown.append({"label": name, "value": str(value)})
    return shown


def _documents(application: Application, service: Optional[Service]) -> List[Dict[str, Any]]:
    labels = {
        document["code"]: _in_language(document.get("label")) for document in (service.documents if service else [])
    }
    return [
        {
            "url": url_for(".attachment", number=application.number, attachment_id=attachment.id),
            "label": labels.get(attachment.purpose) or attachment.purpose,
            "image": attachment.mime_type in ("image/jpeg", "image/png"),
            "pdf": attachment.mime_type == "application/pdf",
            "kilobytes": max(round((attachment.size_bytes or 0) / 1024), 1),
            "received": attachment.created_at,
        }
        for attachment in application.attachments
    ]


def _history(application: Application) -> List[Dict[str, Any]]:
    return [
        {
            "at": event.at,
            "actor": web.t("console_app_actor_citizen") if event.actor == "citizen" else event.actor,
            "from": event.from_status,
            "to": event.to_status,
            "note": event.note,
        }
        for event in application.events
    ]


@bp.get("/<number>")
@web.require("see_cases")
def application(number: str) -> Any:
    found = web.record_in_scope(applications.find, number)
    service = _service(found.service)
    age = _age_days(found)
    certificate = found.certificate
    next_statuses = TRANSITIONS.get(found.status, ())
    return render_template(
        "applications_detail.html",
        application=found,
        service_title=_service_title(found.service),
        gp=_gp_name(found.gram_panchayat),
        applicant_name=found.citizen.name if found.citizen else "",
        applicant_phone=web.masked_phone(found.citizen.wa_id if found.citizen else ""),
        age=age,
        overdue=_overdue(found, service, age),
        fields=_fields(found, service),
        documents=_documents(found, service),
        history=_history(found),
        certificate=certificate,
        signatory_role=_role(certificate.signatory_designation) if certificate is not None else "",
        can_review=web.may("review") and "under_review" in next_statuses,
        can_decide=web.may("decide") and "approved" in next_statuses,
        can_revoke=web.may("revoke") and certificate is not None and certificate.revoked_at is None,
    )


@bp.get("/<number>/attachments/<int:attachment_id>")
@web.require("see_cases")
def attachment(number: str, attachment_id: int) -> Any:
    found = web.record_in_scope(applications.find, number)
    stored = web.db_session().get(Attachment, attachment_id)
    if stored is None or stored.application_id != found.id:
        abort(404)
    try:
        data = Path(stored.storage_path).read_bytes()
    except OSError:
        abort(404)
    # The type the file's own first bytes give (JPEG, PNG or PDF), not the name or what was declared.
    sniffed = file_types.sniff(data[: file_types.HEAD_BYTES])
    if sniffed is None:
        mime, extension, disposition = "application/octet-stream", ".bin", "attachment"
    else:
        (mime, extension), disposition = sniffed, "inline"
    name = f"{found.number}-{stored.purpose}{extension}".replace('"', "")
    response = Response(data, mimetype=mime)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _role(role: str) -> str:
    """An official's role as the certificate prints it (role_* of the catalogue)."""
    try:
        return web.t(f"role_{role}")
    except KeyError:
        return role


def _back(number: str) -> str:
    return url_for(".application", number=number)


def _decide(number: str, permission: str, done_key: str, decision: Callable[[Application], Any]) -> Any:
    """One decision on an application: scope (404), then permission (403), then the core's own checks."""
    found = web.record_in_scope(applications.find, number)
    _allowed(permission)
    canonical = found.number
    with web.action(_back(canonical)) as done:
        decision(found)
        done(done_key, number=canonical)
    return done.response


@bp.post("/<number>/review")
@web.require("see_cases")
def review(number: str) -> Any:
    return _decide(
        number,
        "review",
        "console_app_reviewing",
        lambda found: applications.start_review(web.db_session(), found, web.actor()),
    )


@bp.post("/<number>/approve")
@web.require("see_cases")
def approve(number: str) -> Any:
    return _decide(
        number,
        "decide",
        "console_app_approved",
        lambda found: applications.approve(web.db_session(), found, web.actor()),
    )


@bp.post("/<number>/reject")
@web.require("see_cases")
def reject(number: str) -> Any:
    return _decide(
        number,
        "decide",
        "console_app_rejected",
        lambda found: applications.reject(web.db_session(), found, web.actor(), web.form_text("reason")),
    )


@bp.get("/<number>/certificate.pdf")
@web.require("see_cases")
def certificate_pdf(number: str) -> Any:
    found = web.record_in_scope(applications.find, number)
    certificate = found.certificate
    # A revoked certificate is not handed out again: its QR code verifies as revoked.
    if certificate is None or certificate.revoked_at is not None:
        abort(404)
    data = documents.render_certificate(certificates.facts(certificate))
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    return response


@bp.post("/<number>/certificate/revoke")
@web.require("see_cases")
def revoke(number: str) -> Any:
    found = web.record_in_scope(applications.find, number)
    _allowed("revoke")
    certificate = found.certificate
    if certificate is None:
        abort(404)
    canonical = certificate.number
    with web.action(_back(found.number)) as done:
        certificates.revoke(web.db_session(), certificate, web.form_text("reason"), web.actor())
        done("console_app_revoked", number=canonical)
    return done.response
