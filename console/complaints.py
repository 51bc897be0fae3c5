"""Complaints: the queue of the account's GPs (overdue first), one complaint with its photo and
place, and the two actions of the CLI, assign and resolve, which tell the citizen the same way
(resolving also asks for a rating)."""

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, send_file, url_for

from console import web
from panchayat import grievances
from panchayat.models import GRIEVANCE_CATEGORIES, GRIEVANCE_STATUSES, Attachment

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

# Photos are shown in the page itself; anything else a complaint might hold is not served.
INLINE_TYPES = ("image/jpeg", "image/png")


@bp.get("/")
@web.require("see_cases")
def queue() -> Any:
    status = web.query_choice("status", GRIEVANCE_STATUSES)
    category = web.query_choice("category", GRIEVANCE_CATEGORIES)
    now = datetime.utcnow()
    found = grievances.queue_for(web.db_session(), web.scope(), status or None, category or None, now)
    rows = [
        {
            "grievance": grievance,
            "overdue": grievances.is_overdue(grievance, now),
            "age_days": max((now - grievance.created_at).days, 0),
        }
        for grievance in found
    ]
    average = grievances.average_rating(found)
    rated = sum(1 for grievance in found if grievance.rating is not None)
    return render_template(
        "complaints_queue.html",
        rows=rows,
        status=status,
        category=category,
        statuses=GRIEVANCE_STATUSES,
        categories=GRIEVANCE_CATEGORIES,
        average=f"{average:.1f}" if average is not None else None,
        rated=rated,
    )


@bp.get("/<number>")
@web.require("see_cases")
def complaint(number: str) -> Any:
    grievance = web.record_in_scope(grievances.find, number)
    photos = [attachment for attachment in grievance.attachments if attachment.mime_type in INLINE_TYPES]
    map_link = None
    if grievance.latitude is not None and grievance.longitude is not None:
        # A plain link: the page itself loads nothing from the internet.
        map_link = f"https://www.openstreetmap.org/?mlat={grievance.latitude}&mlon={grievance.longitude}"
    return render_template(
        "complaints_detail.html",
        grievance=grievance,
        overdue=grievances.is_overdue(grievance),
        photos=photos,
        map_link=map_link,
        phone=web.masked_phone(grievance.citizen.wa_id if grievance.citizen else None),
        open_for_action=grievance.status != "resolved",
    )


@bp.get("/<number>/photo/<int:attachment_id>")
@web.require("see_cases")
def photo(number: str, attachment_id: int) -> Any:
    grievance = web.record_in_scope(grievances.find, number)
    attachment = web.db_session().get(Attachment, attachment_id)
    if attachment is None or attachment.grievance_id != grievance.id or attachment.mime_type not in INLINE_TYPES:
        abort(404)
    path = Path(attachment.storage_path)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.mime_type, conditional=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<number>/assign")
@web.require("handle_complaints")
def assign(number: str) -> Any:
    grievance = web.record_in_scope(grievances.find, number)
    with web.action(url_for("complaints.complaint", number=grievance.number)) as done:
        grievances.assign(web.db_session(), grievance, web.form_text("assignee", 120), web.actor())
        done("console_cmp_assigned", number=grievance.number, assignee=grievance.assigned_to)
    return done.response


@bp.post("/<number>/resolve")
@web.require("handle_complaints")
def resolve(number: str) -> Any:
    grievance = web.record_in_scope(grievances.find, number)
    with web.action(url_for("complaints.complaint", number=grievance.number)) as done:
        grievances.resolve(web.db_session(), grievance, web.form_text("note"), web.actor())
        done("console_cmp_resolved", number=grievance.number)
    return done.response
