"""The scoping matrix: every route of the console that names a record answers 404 to staff of
another GP or block, for GET and POST alike, and changes nothing; the same URL works for staff
of the record's own GP, so the 404 is the scope's and not a mistyped URL's.

The routes come from the app itself: a new route with a parameter this table does not know
fails the test until the table (and so the matrix) covers it.
"""
import hashlib
from datetime import datetime
from typing import Dict, List

import pytest
from sqlalchemy import select

from panchayat import db
from panchayat.models import Application, Attachment, Booking, Certificate, Employee, Grievance, GuestHouse
from panchayat.seed import DEMO_GP
from tests.conftest import snapshot

# A GP in another block than the demo GP's (990004, Amdanga), and that block.
OTHER_GP, OTHER_BLOCK = 990004, 2723
# Pages without a record, and the account pages (administrator only, tested in test_console_auth).
WITHOUT_RECORDS = {"static", "auth.font"}
# Pages of no GP: the trainers' inbox holds redacted messages of no one; every GP role gets 403 there.
WITHOUT_GP = ("trainer.",)
# Pages without a parameter in the path that name a GP in their query string.
NAMED_IN_QUERY = {"dashboard.dashboard"}
CASE_TABLES = ("applications", "application_events", "certificates", "attachments", "grievances", "grievance_updates",
               "bookings", "room_nights", "notifications", "employees", "payroll_lines")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 16


def _records(url: str, folder) -> Dict[str, Dict[str, str]]:
    """For each blueprint, the URL parameters naming a record of the demo GP."""
    with db.session_scope(url) as session:
        approved = session.execute(
            select(Application).join(Certificate).where(Application.gp_code == DEMO_GP)
        ).scalars().first()
        grievance = session.execute(select(Grievance).where(Grievance.gp_code == DEMO_GP)).scalars().first()
        house = session.execute(select(GuestHouse).where(GuestHouse.gp_code == DEMO_GP)).scalars().first()
        booking = session.execute(select(Booking).where(Booking.guest_house_id == house.id)).scalars().first()
        employee = session.execute(select(Employee).where(Employee.gp_code == DEMO_GP)).scalars().first()
        path = folder / "proof.png"
        path.write_bytes(PNG)
        digest = hashlib.sha256(PNG).hexdigest()
        files = {}
        for owner in ("application_id", "grievance_id"):
            attachment = Attachment(purpose="photo", storage_path=str(path), mime_type="image/png",
                                    size_bytes=len(PNG), sha256=digest, created_at=datetime.utcnow(),
                                    **{owner: approved.id if owner == "application_id" else grievance.id})
            session.add(attachment)
            session.flush()
            files[owner] = str(attachment.id)
        return {
            "applications": {"number": approved.number, "attachment_id": files["application_id"]},
            "complaints": {"number": grievance.number, "attachment_id": files["grievance_id"]},
            "guest_houses": {"number": booking.number, "guest_house_id": str(house.id)},
            "payroll": {"code": employee.code},
            # The dashboard names a GP in its query; its charts also name the chart.
            "dashboard": {"name": "applications", "?": f"gp={DEMO_GP}"},
        }


def _routes(app) -> List[tuple]:
    found = []
    for rule in app.url_map.iter_rules():
        names_a_record = rule.arguments or rule.endpoint in NAMED_IN_QUERY
        if (rule.endpoint in WITHOUT_RECORDS or not names_a_record or rule.endpoint.startswith("accounts.")
                or rule.endpoint.startswith(WITHOUT_GP)):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def _url(rule, values: Dict[str, str]) -> str:
    missing = sorted(set(rule.arguments) - set(values) - {"?"})
    assert not missing, f"{rule.rule}: the scoping matrix has no record for {missing}; add it to _records"
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", values[name])
        for converter in ("int", "string", "path"):
            path = path.replace(f"<{converter}:{name}>", values[name])
    return path + ("?" + values["?"] if "?" in values else "")


def test_every_record_route_is_404_outside_the_scope_and_works_inside(console, tmp_path):
    records = _records(console.url, tmp_path)
    routes = _routes(console.app)
    assert {rule.endpoint.split(".")[0] for rule, _ in routes} >= {"applications", "complaints", "guest_houses",
                                                                   "payroll"}
    # A secretary may do everything a GP may; a block officer sees a whole block.
    outsiders = [console.sign_in("secretary", gp_code=OTHER_GP), console.sign_in("block_officer",
                                                                                 block_code=OTHER_BLOCK)]
    insider = console.sign_in("secretary", gp_code=DEMO_GP)
    before = {table: rows for table, rows in snapshot(console.url).items() if table in CASE_TABLES}
    checked = []
    for rule, method in routes:
        url = _url(rule, records[rule.endpoint.split(".")[0]])
        for outsider in outsiders:
            answer = outsider.get(url) if method == "GET" else outsider.post(url, {"reason": "x", "note": "x",
                                                                                  "assignee": "x"})
            # The block officer may lack the permission itself (payroll, any action): 403 says nothing of the record.
            allowed = {404} if outsider is outsiders[0] else {403, 404}
            assert answer.status_code in allowed, f"{method} {url} as {outsider.username}: {answer.status_code}"
            checked.append((method, url))
    after = {table: rows for table, rows in snapshot(console.url).items() if table in CASE_TABLES}
    assert after == before, "a refused request changed the books"
    # The same URLs are real: the record's own GP gets past the scope (reads first, then actions).
    for rule, method in sorted(routes, key=lambda pair: pair[1] != "GET"):
        url = _url(rule, records[rule.endpoint.split(".")[0]])
        answer = insider.get(url) if method == "GET" else insider.post(url, {})
        assert answer.status_code != 404, f"{method} {url} as the GP's own secretary: 404"
    assert len(checked) >= 2 * 10


@pytest.mark.parametrize("queue", ["/applications/", "/complaints/", "/guest-houses/", "/payroll/", "/dashboard/"])
def test_queues_list_nothing_of_another_gp(console, queue):
    with db.session_scope(console.url) as session:
        numbers = list(session.execute(select(Application.number).where(Application.gp_code == DEMO_GP)).scalars())
        numbers += list(session.execute(select(Grievance.number).where(Grievance.gp_code == DEMO_GP)).scalars())
        numbers += list(session.execute(select(Employee.code).where(Employee.gp_code == DEMO_GP)).scalars())
    own = console.sign_in("secretary", gp_code=DEMO_GP).get(queue)
    other = console.sign_in("secretary", gp_code=OTHER_GP).get(queue)
    assert own.status_code == other.status_code == 200
    shown = [number for number in numbers if number in other.get_data(as_text=True)]
    assert shown == []
    if queue in ("/applications/", "/complaints/", "/payroll/"):
        assert any(number in own.get_data(as_text=True) for number in numbers)


def test_pages_of_no_gp_are_closed_to_every_gp_role(console):
    rules = [rule for rule in console.app.url_map.iter_rules() if rule.endpoint.startswith(WITHOUT_GP)]
    assert rules, "the trainers' pages are registered"
    for role, scope in (("clerk", {"gp_code": DEMO_GP}), ("pradhan", {"gp_code": DEMO_GP}),
                        ("secretary", {"gp_code": DEMO_GP}), ("block_officer", {"block_code": OTHER_BLOCK})):
        browser = console.sign_in(role, **scope)
        for rule in rules:
            url = rule.rule.replace("<int:item_id>", "1")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                answer = browser.get(url) if method == "GET" else browser.post(url, {"intent": "greet"})
                assert answer.status_code == 403, f"{method} {url} as {role}: {answer.status_code}"
