"""The console's dashboard page and its charts (console/dashboard.py), on SQLite and PostgreSQL:
a clerk sees the figures of their GP only, a block officer a row per GP of the block, the charts
are PNG images of the account's scope, and an account without case work gets 403."""
import re
from datetime import datetime, timedelta

from panchayat import db
from panchayat.models import Application, Citizen, Grievance
from panchayat.seed import DEMO_GP, SAMPLE_GPS

PNG = b"\x89PNG\r\n\x1a\n"
BLOCK = SAMPLE_GPS[0][1]
NEIGHBOUR = SAMPLE_GPS[1][0]  # Bagula-II, in the demo GP's block


def _figure(page: str, section: str) -> str:
    found = re.search(rf'id="{section}">.*?<p class="figure">([^<]+)</p>', page, re.S)
    assert found, section
    return found.group(1).strip()


def _neighbour_records(url):
    """An open application and an overdue complaint of the neighbouring GP, none of the demo GP's business."""
    long_ago = datetime.utcnow() - timedelta(days=20)
    with db.session_scope(url) as session:
        citizen = Citizen(wa_id="919990001111", gp_code=NEIGHBOUR, language="bn")
        session.add(citizen)
        session.flush()
        session.add(Application(number="TA-2026-900001", service="trade_noc", citizen_id=citizen.id,
                                gp_code=NEIGHBOUR, status="submitted", fields={}, created_at=long_ago,
                                updated_at=long_ago))
        session.add(Grievance(number="TG-2026-900001", citizen_id=citizen.id, gp_code=NEIGHBOUR, category="road",
                              description="pothole", status="open", created_at=long_ago, updated_at=long_ago))


def _demo_counts(url):
    with db.session_scope(url) as session:
        applications = session.query(Application).filter(
            Application.gp_code == DEMO_GP, Application.status.in_(("submitted", "under_review"))).count()
        complaints = session.query(Grievance).filter(
            Grievance.gp_code == DEMO_GP, Grievance.status != "resolved").count()
    return applications, complaints


def test_clerk_sees_the_figures_of_their_own_gp(console):
    _neighbour_records(console.url)
    applications, complaints = _demo_counts(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    answer = browser.get("/dashboard/")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Dashboard: Bagula-I" in page
    assert _figure(page, "open-applications") == str(applications)
    assert _figure(page, "complaints") == str(complaints)
    # The seeded road complaint is the one overdue; the neighbour's is not counted.
    assert "1 overdue (untouched for over 7 days)" in page
    assert "4.0 / 5" in page and "Ratings given: 1" in page
    assert 'id="per-gp"' not in page
    # The queues, and both charts with their alternative text.
    assert "/applications/?status=submitted" in page and "/complaints/" in page
    assert re.search(r'<img class="chart"[^>]*src="/dashboard/charts/applications.png"[^>]*alt="Bar chart', page, re.S)
    assert 'src="/dashboard/charts/complaints.png"' in page
    assert "style=" not in page and "<script" not in page
    # Another GP of the block is outside a clerk's scope.
    assert browser.get(f"/dashboard/?gp={NEIGHBOUR}").status_code == 404


def test_block_officer_sees_a_row_per_gp_of_the_block(console):
    _neighbour_records(console.url)
    browser = console.sign_in("block_officer", block_code=BLOCK)
    page = browser.get("/dashboard/").get_data(as_text=True)
    table = re.search(r'id="per-gp">(.*?)</table>', page, re.S).group(1)
    rows = dict(re.findall(r'<tr data-gp="(\d+)">(.*?)</tr>', table, re.S))
    assert set(rows) == {str(code) for code, block, *_ in SAMPLE_GPS if block == BLOCK}
    assert "Bagula-II" in rows[str(NEIGHBOUR)]
    neighbour_cells = re.findall(r"<td>(.*?)</td>", rows[str(NEIGHBOUR)], re.S)
    assert neighbour_cells[1] == "1" and "badge overdue" in neighbour_cells[2]
    applications, _ = _demo_counts(console.url)
    assert _figure(page, "open-applications") == str(applications + 1)
    # One GP's own figures, from its row.
    one = browser.get(f"/dashboard/?gp={NEIGHBOUR}").get_data(as_text=True)
    assert "Dashboard: Bagula-II" in one and _figure(one, "open-applications") == "1"
    assert 'id="per-gp"' not in one and f"/dashboard/charts/applications.png?gp={NEIGHBOUR}" in one
    assert browser.get("/dashboard/?gp=990004").status_code == 404  # Amdanga lies in another block


def test_charts_are_png_images(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    for name in ("applications", "complaints"):
        answer = browser.get(f"/dashboard/charts/{name}.png")
        assert answer.status_code == 200 and answer.mimetype == "image/png"
        assert answer.data.startswith(PNG)
    assert browser.get("/dashboard/charts/payroll.png").status_code == 404
    officer = console.sign_in("block_officer", block_code=BLOCK)
    assert officer.get(f"/dashboard/charts/complaints.png?gp={NEIGHBOUR}").data.startswith(PNG)
    assert officer.get("/dashboard/charts/complaints.png?gp=990004").status_code == 404


def test_an_account_without_case_work_is_refused(console):
    administrator = console.sign_in("administrator")
    assert administrator.get("/dashboard/").status_code == 403
    assert administrator.get("/dashboard/charts/applications.png").status_code == 403
    assert console.anonymous().get("/dashboard/").status_code == 302


def test_bengali_page_with_bengali_digits(console):
    applications, _ = _demo_counts(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP, language="bn")
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert "ড্যাশবোর্ড: বগুলা-১" in page and "অমীমাংসিত আবেদন" in page
    bengali = str(applications).translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    assert _figure(page, "open-applications") == bengali
    assert "৪.০ / ৫" in page and "গত ৯০ দিন" in page
    assert browser.get("/dashboard/charts/complaints.png").data.startswith(PNG)
