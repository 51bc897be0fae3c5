"""The console's complaints pages: the queue (overdue first), a complaint with its photo and place,
assign and resolve exactly as the CLI does, and the scope of every route; on SQLite and PostgreSQL."""
import re
import struct
import zlib
from datetime import datetime
from html import unescape

from sqlalchemy import select

from panchayat import catalogue, db, grievances
from panchayat.cli import main
from panchayat.models import Attachment, AuditLog, Citizen, Grievance, Notification
from panchayat.seed import DEMO_GP, SAMPLE_GPS
from tests.conftest import snapshot

OTHER_GP = SAMPLE_GPS[1][0]


def _png(path):
    """A real 1x1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    body = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    path.write_bytes(body)
    return body


def _lodge(url, tmp_path=None, gp_code=DEMO_GP, wa_id="919876543210", **place):
    """A fresh complaint (with a photo when tmp_path is given); returns (number, attachment id)."""
    with db.session_scope(url) as session:
        citizen = session.execute(select(Citizen).where(Citizen.wa_id == wa_id)).scalar_one_or_none()
        if citizen is None:
            citizen = Citizen(wa_id=wa_id, language="en", gp_code=gp_code)
            session.add(citizen)
            session.flush()
        photo = None
        if tmp_path is not None:
            picture = tmp_path / f"photo-{wa_id}-{len(list(tmp_path.iterdir()))}.png"
            body = _png(picture)
            import hashlib

            photo = {"path": str(picture), "mime_type": "image/png", "size_bytes": len(body),
                     "sha256": hashlib.sha256(body).hexdigest()}
        grievance = grievances.lodge(session, citizen, "street_light", "The lamp at the crossing is dark.",
                                     gp_code=gp_code, photo=photo, **place)
        session.flush()
        attachment = session.execute(select(Attachment.id).where(Attachment.grievance_id == grievance.id)).scalar()
        return grievance.number, attachment


def _numbers(page):
    return re.findall(r'<a class="complaint-link" href="[^"]+">([^<]+)</a>', page)


def _state(url):
    return {table: rows for table, rows in snapshot(url).items() if not table.startswith("staff_")}


def test_the_queue_puts_overdue_complaints_first_then_the_newest(console):
    fresh, _ = _lodge(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = browser.get("/complaints/").get_data(as_text=True)
    with db.session_scope(console.url) as session:
        rows = session.execute(select(Grievance).where(Grievance.gp_code == DEMO_GP)).scalars().all()
        overdue = [g.number for g in rows if grievances.is_overdue(g)]
        newest_first = [g.number for g in sorted(rows, key=lambda g: (g.created_at, g.id), reverse=True)
                        if g.number not in overdue]
    assert overdue, "the demo data holds an old untouched complaint"
    assert _numbers(page) == overdue + newest_first
    assert newest_first[0] == fresh
    assert page.count('class="badge overdue"') == len(overdue)
    # The demo's resolved complaint is rated 4: the average and its row say so.
    assert "Average rating of these complaints: 4.0 out of 5 (1 rated)" in page and "4/5" in page
    resolved = browser.get("/complaints/?status=resolved").get_data(as_text=True)
    assert len(_numbers(resolved)) == 1
    roads = browser.get("/complaints/?category=road").get_data(as_text=True)
    assert _numbers(roads) == overdue


def test_a_complaint_shows_its_photo_its_place_and_a_masked_number(console, tmp_path):
    pinned, photo = _lodge(console.url, tmp_path, latitude=23.1234, longitude=88.5678)
    typed, other_photo = _lodge(console.url, tmp_path, wa_id="919800000077", location_text="Near the pond, Raypara")
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = unescape(browser.get(f"/complaints/{pinned}").get_data(as_text=True))
    assert f'src="/complaints/{pinned}/photo/{photo}"' in page
    assert "https://www.openstreetmap.org/?mlat=23.1234&mlon=88.5678" in page
    assert "919876543210" not in page and "••••••••3210" in page
    image = browser.get(f"/complaints/{pinned}/photo/{photo}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.get_data().startswith(b"\x89PNG") and "no-store" in image.headers["Cache-Control"]
    # Another complaint's photo is not served under this complaint's number.
    assert browser.get(f"/complaints/{pinned}/photo/{other_photo}").status_code == 404
    assert browser.get(f"/complaints/{pinned}/photo/999999").status_code == 404
    other = browser.get(f"/complaints/{typed}").get_data(as_text=True)
    assert "Near the pond, Raypara" in other and "openstreetmap" not in other
    assert browser.get("/complaints/GR-1999-999999").status_code == 404
    assert browser.get("/complaints/nonsense").status_code == 404


def test_a_clerk_of_another_gp_gets_404_on_every_route_and_nothing_changes(console, tmp_path):
    number, photo = _lodge(console.url, tmp_path, latitude=23.1, longitude=88.5)
    stranger = console.sign_in("clerk", gp_code=OTHER_GP)
    assert number not in stranger.get("/complaints/").get_data(as_text=True)
    before = _state(console.url)
    assert stranger.get(f"/complaints/{number}").status_code == 404
    assert stranger.get(f"/complaints/{number}/photo/{photo}").status_code == 404
    assert stranger.post(f"/complaints/{number}/assign", {"assignee": "Ratan"}).status_code == 404
    assert stranger.post(f"/complaints/{number}/resolve", {"note": "Fixed"}).status_code == 404
    assert _state(console.url) == before


def _written_for(url, number):
    with db.session_scope(url) as session:
        notes = session.execute(select(Notification).join(Citizen, Citizen.id == Notification.citizen_id)
                                .order_by(Notification.id)).scalars().all()
        kinds = [(n.kind, sorted(n.params)) for n in notes if n.params.get("number") == number]
        audit = [(a.action, a.actor) for a in session.execute(
            select(AuditLog).where(AuditLog.entity_ref == number).order_by(AuditLog.id)).scalars()]
    return kinds, audit


def test_assign_and_resolve_tell_the_citizen_as_the_cli_does_and_are_audited(console, capsys):
    by_console, _ = _lodge(console.url)
    by_cli, _ = _lodge(console.url, wa_id="919800000078")
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    name = "Test Clerk 1 (clerk1)"
    assigned = browser.post(f"/complaints/{by_console}/assign", {"assignee": "Ratan Mistri"})
    assert assigned.status_code == 302 and assigned.location.endswith(f"/complaints/{by_console}")
    page = browser.get(f"/complaints/{by_console}").get_data(as_text=True)
    assert f"Complaint {by_console} is assigned to Ratan Mistri" in page and 'id="resolve-form"' in page
    assert browser.post(f"/complaints/{by_console}/resolve", {"note": "New lamp fitted"}).status_code == 302
    page = browser.get(f"/complaints/{by_console}").get_data(as_text=True)
    assert "New lamp fitted" in page and 'id="assign-form"' not in page and 'id="resolve-form"' not in page
    assert "The citizen has not rated it yet." in page

    assert main(["grievances", "assign", by_cli, "--to", "Ratan Mistri", "--by", "cli-user"]) == 0
    assert main(["grievances", "resolve", by_cli, "--note", "New lamp fitted", "--by", "cli-user"]) == 0
    capsys.readouterr()
    console_kinds, console_audit = _written_for(console.url, by_console)
    cli_kinds, cli_audit = _written_for(console.url, by_cli)
    assert console_kinds == cli_kinds
    assert [kind for kind, _ in console_kinds] == ["grievance_assigned", "grievance_resolved"]
    assert [action for action, _ in console_audit] == [action for action, _ in cli_audit]
    assert ("grievance_assigned", name) in console_audit and ("grievance_resolved", name) in console_audit
    with db.session_scope(console.url) as session:
        grievance = grievances.find(session, by_console)
        assert grievance.status == "resolved" and grievance.assigned_to == "Ratan Mistri"
        assert [u.actor for u in grievance.updates][1:] == [name, name]
    # A resolved complaint cannot be resolved again: the core's refusal is shown.
    again = browser.post(f"/complaints/{by_console}/resolve", {"note": "Again"}, follow_redirects=True)
    assert f"Complaint {by_console} is already resolved." in again.get_data(as_text=True)


def test_resolving_without_a_note_is_refused_in_the_readers_language(console):
    number, _ = _lodge(console.url)
    english = console.sign_in("clerk", gp_code=DEMO_GP)
    bengali = console.sign_in("pradhan", gp_code=DEMO_GP, language="bn")
    before = _state(console.url)
    refused = english.post(f"/complaints/{number}/resolve", {"note": "   "}, follow_redirects=True)
    assert "A note on what was done is required." in refused.get_data(as_text=True)
    refused = bengali.post(f"/complaints/{number}/resolve", {"note": ""}, follow_redirects=True)
    assert "কী করা হয়েছে তা লিখতে হবে।" in refused.get_data(as_text=True)
    refused = english.post(f"/complaints/{number}/assign", {"assignee": ""}, follow_redirects=True)
    assert "Say to whom the complaint is assigned." in refused.get_data(as_text=True)
    assert _state(console.url) == before


def test_a_block_officer_sees_the_complaints_of_the_block_but_may_not_act(console):
    number, _ = _lodge(console.url)
    officer = console.sign_in("block_officer", block_code=SAMPLE_GPS[0][1])
    assert number in _numbers(officer.get("/complaints/").get_data(as_text=True))
    page = officer.get(f"/complaints/{number}").get_data(as_text=True)
    assert 'id="assign-form"' not in page and 'id="resolve-form"' not in page
    before = _state(console.url)
    assert officer.post(f"/complaints/{number}/assign", {"assignee": "Ratan"}).status_code == 403
    assert officer.post(f"/complaints/{number}/resolve", {"note": "Fixed"}).status_code == 403
    assert _state(console.url) == before
    # A block officer of another block sees none of them.
    elsewhere = console.sign_in("block_officer", block_code=SAMPLE_GPS[3][1])
    assert _numbers(elsewhere.get("/complaints/").get_data(as_text=True)) == []
    assert elsewhere.get(f"/complaints/{number}").status_code == 404


def test_the_pages_are_in_bengali_for_a_bengali_account(console):
    number, _ = _lodge(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP, language="bn")
    queue = browser.get("/complaints/").get_data(as_text=True)
    assert "সময় পেরিয়েছে" in queue and "রাস্তার আলো" in queue and "গড় রেটিং" in queue
    page = browser.get(f"/complaints/{number}").get_data(as_text=True)
    assert "নিষ্পত্তি করুন" in page and "দায়িত্ব দিন" in page
    # Dates and numbers in Bengali digits.
    assert catalogue.day(datetime.utcnow(), "bn") in page and "••••••••৩২১০" in page
