"""Complaints: lodging, assignment, resolution, rating and the overdue list."""

from datetime import datetime, timedelta
from typing import Collection, Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat import config, journal, outbox
from panchayat.errors import PanchayatError
from panchayat.identifiers import GRIEVANCE_PREFIX, next_identifier, parse_grievance_number
from panchayat.models import GRIEVANCE_CATEGORIES, Attachment, Citizen, Grievance, GrievanceUpdate

# When a message names several categories ("rastar alo" is a road and a street light),
# the narrower one is what the panchayat must send someone for. A blocked drain nearly always
# mentions water ("nordoma jam, jol jome ache"), so drainage comes before drinking water.
CATEGORY_PRECEDENCE = ("street_light", "tube_well", "drainage", "drinking_water", "sanitation", "road", "other")


def most_specific_category(found: Iterable[str]) -> Optional[str]:
    found = set(found)
    return next((category for category in CATEGORY_PRECEDENCE if category in found), None)


def lodge(
    session: Session,
    citizen: Citizen,
    category: str,
    description: str,
    gp_code: Optional[int] = None,
    location_text: Optional[str] = None,
    latitude: Optional[float] = None,
    longitude: Optional[float] = None,
    photo: Optional[Dict] = None,
    at: Optional[datetime] = None,
) -> Grievance:
    """Files a complaint; `photo` is a file already checked and stored (drafts.store_document)."""
    if category not in GRIEVANCE_CATEGORIES:
        raise PanchayatError("unknown_category", category=category)
    description = (description or "").strip()
    if not description:
        raise PanchayatError("description_required")
    gp_code = gp_code or citizen.gp_code
    if gp_code is None:
        raise PanchayatError("gp_required")
    now = at or datetime.utcnow()
    grievance = Grievance(
        number=next_identifier(session, GRIEVANCE_PREFIX, now.year),
        citizen_id=citizen.id,
        gp_code=gp_code,
        category=category,
        description=description,
        location_text=location_text,
        latitude=latitude,
        longitude=longitude,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(grievance)
    session.flush()
    session.add(GrievanceUpdate(grievance_id=grievance.id, at=now, actor="citizen", to_status="open"))
    if photo:
        session.add(
            Attachment(
                grievance_id=grievance.id,
                purpose="photo",
                storage_path=photo["path"],
                mime_type=photo["mime_type"],
                size_bytes=photo["size_bytes"],
                sha256=photo["sha256"],
            )
        )
    journal.audit(
        session,
        actor="citizen",
        action="grievance_lodged",
        entity_type="grievance",
        entity_ref=grievance.number,
        new_state="open",
    )
    return grievance


def find(session: Session, typed_number: str) -> Grievance:
    number = parse_grievance_number(typed_number)
    if number is None:
        raise PanchayatError("bad_grievance_number", number=typed_number)
    grievance = session.execute(select(Grievance).where(Grievance.number == number)).scalar_one_or_none()
    if grievance is None:
        raise PanchayatError("unknown_grievance", number=number)
    return grievance


def list_grievances(
    session: Session,
    status: Optional[str] = None,
    overdue: bool = False,
    citizen: Optional[Citizen] = None,
    now: Optional[datetime] = None,
) -> List[Grievance]:
    query = select(Grievance).order_by(Grievance.created_at, Grievance.id)
    if status:
        query = query.where(Grievance.status == status)
    if overdue:
        cutoff = (now or datetime.utcnow()) - timedelta(days=config.GRIEVANCE_OVERDUE_DAYS)
        query = query.where(Grievance.status != "resolved", Grievance.updated_at < cutoff)
    if citizen is not None:
        query = query.where(Grievance.citizen_id == citizen.id)
    return list(session.execute(query).scalars())


def is_overdue(grievance: Grievance, now: Optional[datetime] = None) -> bool:
    """Not resolved and untouched for more than GRIEVANCE_OVERDUE_DAYS (the rule of `list_grievances`)."""
    cutoff = (now or datetime.utcnow()) - timedelta(days=config.GRIEVANCE_OVERDUE_DAYS)
    return grievance.status != "resolved" and grievance.updated_at < cutoff


def queue_for(
    session: Session,
    gp_codes: Collection[int],
    status: Optional[str] = None,
    category: Optional[str] = None,
    now: Optional[datetime] = None,
) -> List[Grievance]:
    """The complaints of these GPs for the staff console: the overdue ones first, then the newest."""
    if not gp_codes:
        return []
    query = select(Grievance).where(Grievance.gp_code.in_(sorted(gp_codes)))
    if status:
        query = query.where(Grievance.status == status)
    if category:
        query = query.where(Grievance.category == category)
    found = list(session.execute(query.order_by(Grievance.created_at.desc(), Grievance.id.desc())).scalars())
    now = now or datetime.utcnow()
    # A stable sort keeps the newest first within the overdue and within the rest.
    return sorted(found, key=lambda grievance: not is_overdue(grievance, now))


def average_rating(found: Iterable[Grievance]) -> Optional[float]:
    """The citizens' mean rating of the rated complaints among `found`; None when none is rated."""
    ratings = [grievance.rating for grievance in found if grievance.rating is not None]
    return sum(ratings) / len(ratings) if ratings else None


def _move(session: Session, grievance: Grievance, to_status: str, actor: str, note: Optional[str]) -> None:
    old = grievance.status
    now = datetime.utcnow()
    grievance.status = to_status
    grievance.updated_at = now
    session.add(
        GrievanceUpdate(grievance_id=grievance.id, at=now, actor=actor, from_status=old, to_status=to_status, note=note)
    )
    journal.audit(
        session,
        actor=actor,
        action=f"grievance_{to_status}",
        entity_type="grievance",
        entity_ref=grievance.number,
        old_state=old,
        new_state=to_status,
        reason=note,
    )


def assign(session: Session, grievance: Grievance, assignee: str, actor: str) -> None:
    assignee = (assignee or "").strip()
    if not assignee:
        raise PanchayatError("assignee_required")
    if grievance.status == "resolved":
        raise PanchayatError("grievance_resolved_already", number=grievance.number)
    grievance.assigned_to = assignee
    _move(session, grievance, "assigned", actor, f"assigned to {assignee}")
    outbox.notify(
        session, grievance.citizen, "grievance_assigned", number=grievance.number, category=grievance.category
    )


def resolve(session: Session, grievance: Grievance, note: str, actor: str) -> None:
    note = (note or "").strip()
    if not note:
        raise PanchayatError("note_required")
    if grievance.status == "resolved":
        raise PanchayatError("grievance_resolved_already", number=grievance.number)
    grievance.resolution_note = note
    grievance.resolved_at = datetime.utcnow()
    _move(session, grievance, "resolved", actor, note)
    outbox.notify(
        session,
        grievance.citizen,
        "grievance_resolved",
        number=grievance.number,
        category=grievance.category,
        note=note,
    )


def rate(session: Session, grievance: Grievance, citizen: Citizen, rating: int) -> None:
    if grievance.citizen_id != citizen.id:
        raise PanchayatError("not_yours")
    if grievance.status != "resolved":
        raise PanchayatError("grievance_not_resolved", number=grievance.number)
    if rating not in (1, 2, 3, 4, 5):
        raise PanchayatError("bad_rating")
    if grievance.rating is not None:
        raise PanchayatError("grievance_rated_already", number=grievance.number)
    grievance.rating = rating
    journal.audit(
        session,
        actor="citizen",
        action="grievance_rated",
        entity_type="grievance",
        entity_ref=grievance.number,
        rating=rating,
    )


def awaiting_rating(session: Session, citizen: Citizen) -> Optional[Grievance]:
    """The citizen's most recently resolved complaint that has no rating yet."""
    query = (
        select(Grievance)
        .where(Grievance.citizen_id == citizen.id, Grievance.status == "resolved", Grievance.rating.is_(None))
        .order_by(Grievance.resolved_at.desc(), Grievance.id.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def find_own(session: Session, number: str, citizen: Citizen) -> Optional[Grievance]:
    """The citizen's own complaint; None for unknown and for someone else's alike."""
    grievance = session.execute(select(Grievance).where(Grievance.number == number)).scalar_one_or_none()
    if grievance is None or grievance.citizen_id != citizen.id:
        return None
    return grievance
