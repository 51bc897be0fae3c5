"""The console's employees and payroll page: uploads with a preview and errors per line (all or
nothing), one-time PINs shown once, pay slips and statements, scope and roles; both engines."""
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from panchayat import config, db
from panchayat.employees import pin_matches
from panchayat.models import AuditLog, Employee, PayrollLine
from panchayat.seed import DEMO_GP, SAMPLE_GPS

OTHER_GP = SAMPLE_GPS[1][0]
EMPLOYEES_CSV = (
    "code,name,name_bn,designation,phone,gp_code\n"
    f"EMP-501,Sima Roy,সীমা রায়,Job Assistant,910000000501,{DEMO_GP}\n"
    f"EMP-502,Nasir Ali,নাসির আলি,Karmee,910000000502,{DEMO_GP}\n"
    f"DEMO-EMP-001,Anita Pramanik,,Executive Assistant,910000000001,{DEMO_GP}\n"
)
PAYROLL_CSV = (
    "employee_code,month,basic_pay,dearness_allowance,provident_fund\n"
    "DEMO-EMP-001,2030-04,\"30,000.00\",4200,3600\n"
    "DEMO-EMP-002,2030-04,25000,3500,3000\n"
)


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    return tmp_path / "console-uploads"


def _file(text: str, name: str = "file.csv"):
    return {"file": (io.BytesIO(text.encode("utf-8")), name)}


def _upload(browser, kind: str, text: str, name: str = "file.csv"):
    return browser.post(f"/payroll/{kind}/upload", _file(text, name), content_type="multipart/form-data")


def _token(page: str) -> str:
    return re.search(r'name="upload" value="([^"]+)"', page).group(1)


def _count(url, model, *where) -> int:
    with db.session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _audit(url, action):
    with db.session_scope(url) as session:
        return [(a.actor, a.entity_ref) for a in session.execute(select(AuditLog).where(AuditLog.action == action))
                .scalars()]


def test_the_list_shows_the_gps_employees_with_masked_phones_and_pin_state(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = browser.get("/payroll/").get_data(as_text=True)
    for code in ("DEMO-EMP-001", "DEMO-EMP-002", "DEMO-EMP-003"):
        assert code in page
    assert "910000000001" not in page and "0001" in page
    assert 'id="employees-upload-form"' in page and 'id="payroll-upload-form"' in page
    assert page.count('type="file" name="file"') == 2
    assert ">12<" in page  # months of pay on record
    assert 'pin-none' in page
    # Another GP's clerk sees none of them.
    other = console.sign_in("clerk", gp_code=OTHER_GP).get("/payroll/").get_data(as_text=True)
    assert "DEMO-EMP-001" not in other


def test_a_good_employees_file_is_previewed_without_writing_then_imported_on_confirm(console, uploads):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    before = _count(console.url, Employee)
    preview = _upload(browser, "employees", EMPLOYEES_CSV, "staff list.csv")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.search(r'id="count-lines">3<', page) and re.search(r'id="count-new">2<', page)
    assert re.search(r'id="count-updated">1<', page) and re.search(r'id="count-bad-lines">0<', page)
    assert "staff list.csv" in page and 'id="confirm-import-form"' in page
    assert "910000000501" not in page  # masked in the preview too
    assert _count(console.url, Employee) == before
    token = _token(page)
    kept = list(uploads.iterdir())
    assert any(token in path.name for path in kept)
    done = browser.post("/payroll/employees/confirm", {"upload": token})
    assert done.status_code == 302
    assert "2 added, 1 updated" in browser.get("/payroll/").get_data(as_text=True)
    assert _count(console.url, Employee) == before + 2
    [(actor, ref)] = _audit(console.url, "employees_imported")
    assert browser.username in actor and ref == "staff list.csv"
    assert not any(token in path.name for path in uploads.iterdir())
    # The token is spent.
    again = browser.post("/payroll/employees/confirm", {"upload": token})
    assert again.status_code == 302
    assert "not found" in browser.get("/payroll/").get_data(as_text=True)


def test_a_good_payroll_file_imports_on_confirm_with_the_clerks_name_in_the_audit(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = _upload(browser, "lines", PAYROLL_CSV).get_data(as_text=True)
    assert re.search(r'id="count-employees">2<', page) and re.search(r'id="count-months">1<', page)
    assert "34,200" in page and "30,600" in page  # gross and net of line 2, in rupees
    assert _count(console.url, PayrollLine, PayrollLine.month == "2030-04") == 0
    assert browser.post("/payroll/lines/confirm", {"upload": _token(page)}).status_code == 302
    assert _count(console.url, PayrollLine, PayrollLine.month == "2030-04") == 6
    [(actor, _ref)] = _audit(console.url, "payroll_imported")
    assert browser.username in actor


def test_a_file_with_one_bad_line_shows_the_line_and_its_confirm_imports_nothing(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    text = PAYROLL_CSV + "DEMO-EMP-003,2030-13,abc,0,0\n"
    page = _upload(browser, "lines", text).get_data(as_text=True)
    assert 'data-line="4"' in page
    assert "month &#39;2030-13&#39; must be YYYY-MM" in page and "basic_pay &#39;abc&#39; is not an amount" in page
    assert re.search(r'id="count-bad-lines">1<', page)
    before = _count(console.url, PayrollLine)
    refused = browser.post("/payroll/lines/confirm", {"upload": _token(page)})
    assert refused.status_code == 400 and "Nothing was imported" in refused.get_data(as_text=True)
    assert _count(console.url, PayrollLine) == before
    assert _audit(console.url, "payroll_imported") == []


def test_a_line_for_another_gp_or_its_employee_is_an_error(console):
    with db.session_scope(console.url) as session:
        session.add(Employee(code="OTHER-EMP-1", name_en="Other", designation="Clerk", phone="910000000999",
                             gp_code=OTHER_GP))
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    text = EMPLOYEES_CSV + f"EMP-509,Far Away,,Clerk,910000000509,{OTHER_GP}\n" \
        f"OTHER-EMP-1,Other,,Clerk,910000000999,{DEMO_GP}\n"
    page = _upload(browser, "employees", text).get_data(as_text=True)
    assert 'data-line="5"' in page and "is not your gram panchayat" in page
    assert 'data-line="6"' in page and "outside your gram panchayat" in page
    payroll = _upload(browser, "lines", "employee_code,month,basic_pay\nOTHER-EMP-1,2030-04,100\n")
    assert "is not an employee of your gram panchayat" in payroll.get_data(as_text=True)
    before = _count(console.url, Employee)
    browser.post("/payroll/employees/confirm", {"upload": _token(page)})
    assert _count(console.url, Employee) == before


def test_another_users_token_is_refused(console):
    clerk = console.sign_in("clerk", gp_code=DEMO_GP)
    token = _token(_upload(clerk, "employees", EMPLOYEES_CSV).get_data(as_text=True))
    secretary = console.sign_in("secretary", gp_code=DEMO_GP)
    before = _count(console.url, Employee)
    answer = secretary.post("/payroll/employees/confirm", {"upload": token})
    assert answer.status_code == 302
    assert "not found" in secretary.get("/payroll/").get_data(as_text=True)
    assert secretary.post("/payroll/employees/confirm", {"upload": "../../etc/passwd"}).status_code == 302
    assert _count(console.url, Employee) == before
    # The owner can still confirm it.
    clerk.post("/payroll/employees/confirm", {"upload": token})
    assert _count(console.url, Employee) == before + 2


def test_a_file_with_missing_columns_or_not_utf8_says_why(console, uploads):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    answer = _upload(browser, "lines", "employee_code,basic_pay\nDEMO-EMP-001,100\n", "pay.csv")
    assert answer.status_code == 302
    page = browser.get("/payroll/").get_data(as_text=True)
    assert "pay.csv lacks the columns" in page and str(uploads) not in page
    assert list(uploads.iterdir()) == []
    _upload(browser, "lines", "", "empty.csv")
    assert "empty.csv" in browser.get("/payroll/").get_data(as_text=True)


def test_one_time_pin_is_shown_once_and_stored_as_a_hash(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    answer = browser.post("/payroll/employees/DEMO-EMP-002/pin")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    pin = re.search(r'<p class="secret" id="one-time-pin">(\d{6})</p>', answer.get_data(as_text=True)).group(1)
    with db.session_scope(console.url) as session:
        employee = session.execute(select(Employee).where(Employee.code == "DEMO-EMP-002")).scalar_one()
        assert pin_matches(pin, employee.pin_hash) and pin not in employee.pin_hash
        entries = session.execute(select(AuditLog).where(AuditLog.action == "employee_pin_issued")).scalars().all()
        assert [e.actor for e in entries] and browser.username in entries[0].actor
        assert pin not in str(entries[0].details) + str(entries[0].new_state)
    page = browser.get("/payroll/").get_data(as_text=True)
    assert pin not in page and "one-time" in page


def test_payslip_and_statement_pdfs(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    with db.session_scope(console.url) as session:
        month = session.execute(select(func.max(PayrollLine.month))).scalar_one()
    slip = browser.get(f"/payroll/employees/DEMO-EMP-001/payslip.pdf?month={month}")
    assert slip.status_code == 200 and slip.data.startswith(b"%PDF")
    assert slip.headers["Content-Disposition"].startswith("attachment;")
    start = int(month[:4]) if int(month[5:]) >= 4 else int(month[:4]) - 1
    statement = browser.get(f"/payroll/employees/DEMO-EMP-001/statement.pdf?year={start}-{(start + 1) % 100:02d}")
    assert statement.status_code == 200 and statement.data.startswith(b"%PDF")
    assert {a for a, _ in _audit(console.url, "payslip_printed")} == {a for a, _ in _audit(console.url,
                                                                                           "statement_printed")}
    nothing = browser.get("/payroll/employees/DEMO-EMP-001/payslip.pdf?month=2001-01")
    assert nothing.status_code == 404 and "No pay has been recorded for 2001-01" in nothing.get_data(as_text=True)
    for bad in ("?month=", "", "?month=13-2026"):
        answer = browser.get(f"/payroll/employees/DEMO-EMP-001/payslip.pdf{bad}")
        assert answer.status_code == 400 and "is not a month" in answer.get_data(as_text=True)
    for bad in ("?year=", "?year=2025-27"):
        answer = browser.get(f"/payroll/employees/DEMO-EMP-001/statement.pdf{bad}")
        assert answer.status_code == 400 and "is not a financial year" in answer.get_data(as_text=True)


def test_another_gps_clerk_gets_404_and_a_pradhan_403(console):
    other = console.sign_in("clerk", gp_code=OTHER_GP)
    assert other.post("/payroll/employees/DEMO-EMP-001/pin").status_code == 404
    assert other.get("/payroll/employees/DEMO-EMP-001/payslip.pdf?month=2030-04").status_code == 404
    assert other.get("/payroll/employees/DEMO-EMP-001/statement.pdf?year=2025-26").status_code == 404
    assert other.get("/payroll/employees/NOBODY/payslip.pdf?month=2030-04").status_code == 404
    with db.session_scope(console.url) as session:
        assert session.execute(select(Employee.pin_hash).where(Employee.code == "DEMO-EMP-001")).scalar_one() is None
    pradhan = console.sign_in("pradhan", gp_code=DEMO_GP)
    assert pradhan.get("/payroll/").status_code == 403
    assert pradhan.post("/payroll/employees/DEMO-EMP-001/pin").status_code == 403
    assert pradhan.post("/payroll/lines/upload", _file(PAYROLL_CSV), content_type="multipart/form-data"
                        ).status_code == 403
    assert pradhan.get(f"/payroll/employees/DEMO-EMP-001/payslip.pdf?month={date.today():%Y-%m}").status_code == 403


def test_the_page_and_the_line_errors_in_bengali(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP, language="bn")
    page = browser.get("/payroll/").get_data(as_text=True)
    assert "কর্মীদের ফাইল আপলোড করুন" in page and "১২" in page
    preview = _upload(browser, "lines", "employee_code,month,basic_pay\nDEMO-EMP-001,2030-04,abc\n")
    text = preview.get_data(as_text=True)
    assert "কোনো টাকার অঙ্ক নয়" in text and 'data-line="2"' in text and ">২<" in text
