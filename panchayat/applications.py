"""Certificate applications: submission, the review lifecycle, and certificates."""

from datetime import date, datetime
from typing import Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat import journal, outbox
from panchayat.directory import officials_by_role
from panchayat.errors import PanchayatError
from panchayat.identifiers import next_identifier, parse_application_number
from panchayat.models import Application, ApplicationEvent, Certificate, Citizen
from panchayat.services import get_service

# Which status may follow which; anything else is refused.
TRANSITIONS = {
    "submitted": ("under_review", "approved", "rejected"),
    "under_review": ("approved", "rejected"),
    "approved": (),
    "rejected": (),
}


def submit(
    session: Session,
    citizen: Citizen,
    service_code: str,
    fields: Dict,
    gp_code: Optional[int] = None,
    submitted_at: Optional[datetime] = None,
) -> Application:
    service = get_service(service_code)
    gp_code = gp_code or citizen.gp_code
    if gp_code is None:
        raise PanchayatError("gp_required")
    missing = [name for name in service.field_names if fields.get(name) in (None, "")]
    if missing:
        raise PanchayatError("fields_missing", fields=", ".join(missing))
    now = submitted_at or datetime.utcnow()
    application = Application(
        number=next_identifier(session, service.prefix, now.year),
        service=service.code,
        citizen_id=citizen.id,
        gp_code=gp_code,
        status="submitted",
        fields={name: fields[name] for name in service.field_names},
        fee_paise=service.fee_paise,
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    session.add(ApplicationEvent(application_id=application.id, at=now, actor="citizen", to_status="submitted"))
    return application


def find(session: Session, typed_number: str) -> Application:
    """The application a (loosely typed) number names; unknown numbers are an error."""
    number = parse_application_number(typed_number or "")
    if number is None:
        raise PanchayatError("bad_application_number", number=typed_number)
    application = session.execute(select(Application).where(Application.number == number)).scalar_one_or_none()
    if application is None:
        raise PanchayatError("unknown_application", number=number)
    return application


def list_applications(
    session: Session,
    status: Optional[str] = None,
    service: Optional[str] = None,
    gp_code: Optional[int] = None,
    citizen: Optional[Citizen] = None,
) -> List[Application]:
    query = select(Application).order_by(Application.created_at, Application.id)
    if status:
        query = query.where(Application.status == status)
    if service:
        query = query.where(Application.service == service)
    if gp_code:
        query = query.where(Application.gp_code == gp_code)
    if citizen is not None:
        query = query.where(Application.citizen_id == citizen.id)
    return list(session.execute(query).scalars())


def in_gram_panchayats(
    session: Session, gp_codes: Iterable[int], status: Optional[str] = None, service: Optional[str] = None
) -> List[Application]:
    """The applications of a set of GPs (a console user's scope), oldest first."""
    query = (
        select(Application)
        .where(Application.gp_code.in_(sorted(gp_codes)))
        .order_by(Application.created_at, Application.id)
    )
    if status:
        query = query.where(Application.status == status)
    if service:
        query = query.where(Application.service == service)
    return list(session.execute(query).scalars())


def _move(session: Session, application: Application, to_status: str, actor: str, note: Optional[str]) -> str:
    old = application.status
    if to_status not in TRANSITIONS[old]:
        raise PanchayatError("application_wrong_state", number=application.number, status=old, wanted=to_status)
    now = datetime.utcnow()
    application.status = to_status
    application.updated_at = now
    session.add(
        ApplicationEvent(
            application_id=application.id, at=now, actor=actor, from_status=old, to_status=to_status, note=note
        )
    )
    journal.audit(
        session,
        actor=actor,
        action=f"application_{to_status}",
        entity_type="application",
        entity_ref=application.number,
        old_state=old,
        new_state=to_status,
        reason=note,
    )
    return old


def start_review(session: Session, application: Application, actor: str) -> None:
    _move(session, application, "under_review", actor, None)
    outbox.notify(
        session, application.citizen, "application_under_review", number=application.number, service=application.service
    )


def approve(session: Session, application: Application, actor: str) -> Certificate:
    """Approves and issues the certificate; the applicant is told through the outbox."""
    _move(session, application, "approved", actor, None)
    service = get_service(application.service)
    gp = application.gram_panchayat
    signatory = officials_by_role(gp).get(service.signatory_role)
    issued = datetime.utcnow()
    valid_until = _years_later(issued.date(), service.validity_years)
    certificate = Certificate(
        application_id=application.id,
        number=application.number,
        issued_at=issued,
        valid_until=valid_until,
        signatory_name=signatory.name_en if signatory else actor,
        signatory_designation=service.signatory_role,
    )
    session.add(certificate)
    outbox.notify(
        session, application.citizen, "application_approved", number=application.number, service=application.service
    )
    session.flush()
    return certificate


def reject(session: Session, application: Application, actor: str, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise PanchayatError("reason_required")
    _move(session, application, "rejected", actor, reason)
    outbox.notify(
        session,
        application.citizen,
        "application_rejected",
        number=application.number,
        service=application.service,
        reason=reason,
    )


def _years_later(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def find_own(session: Session, number: str, citizen: Citizen) -> Optional[Application]:
    """The citizen's own application by canonical number; None for unknown and for someone
    else's alike, so that a stranger learns nothing."""
    application = session.execute(select(Application).where(Application.number == number)).scalar_one_or_none()
    if application is None or application.citizen_id != citizen.id:
        return None
    return application
