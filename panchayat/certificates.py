"""Issued certificates: their facts for the PDF, verification of a QR payload, revocation."""

from datetime import datetime
from typing import Dict, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat import journal, signing
from panchayat.db import transaction
from panchayat.directory import gp_profile, officials_by_role
from panchayat.errors import PanchayatError
from panchayat.identifiers import parse_application_number
from panchayat.models import Certificate
from panchayat.services import get_service


def find(session: Session, typed_number: str) -> Certificate:
    number = parse_application_number(typed_number or "")
    if number is None:
        raise PanchayatError("bad_application_number", number=typed_number)
    certificate = session.execute(select(Certificate).where(Certificate.number == number)).scalar_one_or_none()
    if certificate is None:
        raise PanchayatError("unknown_certificate", number=number)
    return certificate


def holder_of(certificate: Certificate) -> str:
    application = certificate.application
    return str(application.fields.get(get_service(application.service).holder_field, ""))


def facts(certificate: Certificate) -> Dict:
    """Everything the certificate PDF shows, in both languages, read while the session is open."""
    application = certificate.application
    service = get_service(application.service)
    gp = application.gram_panchayat
    signatory = officials_by_role(gp).get(service.signatory_role)
    holder = holder_of(certificate)
    payload = signing.sign(certificate.number, holder)
    profile = gp_profile(gp)
    answers = {
        name: {language: service.shown_value(name, value, language) for language in ("en", "bn")}
        for name, value in application.fields.items()
    }
    return {
        "number": certificate.number,
        "service": service,
        "gp": profile,
        "holder": holder,
        # The definition's sentence of what is certified, when it has one (else the PDF's own).
        "statement": service.certificate_statement(
            dict(
                answers,
                gp=profile["name"],
                block=profile["block"],
                district=profile["district"],
                number=certificate.number,
            )
        ),
        "fields": [(field["label"], str(application.fields.get(field["name"], ""))) for field in service.fields],
        "submitted": application.created_at.date(),
        "issued": certificate.issued_at.date(),
        "valid_until": certificate.valid_until,
        "signatory": {
            "name": {
                "en": certificate.signatory_name,
                "bn": (signatory.name_bn if signatory and signatory.name_en == certificate.signatory_name else None)
                or certificate.signatory_name,
            },
            "role": certificate.signatory_designation,
        },
        "qr_payload": payload,
        "verify_url": signing.verify_url(payload),
    }


@transaction
def check(session: Session, payload_or_url: str) -> Dict:
    """`verify` as a unit of work of its own: the certificate check page's one call (connectors/verify.py)."""
    return verify(session, payload_or_url)


def verify(session: Session, payload_or_url: str) -> Dict:
    """`valid`, `revoked` or `unknown` for what a QR code carries; a forged or altered payload is unknown."""
    payload = signing.read(payload_or_url)
    if payload is None or not payload.signature_ok:
        return {"result": "unknown"}
    certificate = session.execute(select(Certificate).where(Certificate.number == payload.number)).scalar_one_or_none()
    if certificate is None or signing._holder_key(holder_of(certificate)) != signing._holder_key(payload.holder):
        return {"result": "unknown"}
    gp = certificate.application.gram_panchayat
    answer = {
        "result": "revoked" if certificate.revoked_at else "valid",
        "number": certificate.number,
        "service": certificate.application.service,
        "holder": payload.holder,
        "gram_panchayat": gp.name_en,
        "issued": certificate.issued_at.date().isoformat(),
        "valid_until": certificate.valid_until.isoformat() if certificate.valid_until else None,
    }
    if certificate.revoked_at:
        answer["revoked_on"] = certificate.revoked_at.date().isoformat()
    return answer


def revoke(session: Session, certificate: Certificate, reason: str, actor: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise PanchayatError("reason_required")
    if certificate.revoked_at:
        raise PanchayatError("certificate_revoked_already", number=certificate.number)
    certificate.revoked_at = datetime.utcnow()
    certificate.revoke_reason = reason
    journal.audit(
        session,
        actor=actor,
        action="certificate_revoked",
        entity_type="certificate",
        entity_ref=certificate.number,
        old_state="valid",
        new_state="revoked",
        reason=reason,
    )


def own_approved(session: Session, number: Optional[str], citizen) -> Optional[Certificate]:
    """The citizen's own certificate by number, or their latest one; None otherwise."""
    from panchayat.models import Application

    query = (
        select(Certificate)
        .join(Application)
        .where(Application.citizen_id == citizen.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    if number:
        query = query.where(Certificate.number == number)
    return session.execute(query.limit(1)).scalar_one_or_none()
