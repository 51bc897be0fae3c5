"""The pay documents journey on real databases (SQLite and PostgreSQL): the PIN with its lockout,
the private PDF, and one employee's pay never reaching another's number."""

import logging
import stat
from datetime import date

import pytest
from pypdf import PdfReader

from panchayat import config, db, employees
from panchayat.catalogue import digits
from panchayat.errors import PanchayatError
from panchayat.journeys import getting_pay_documents as journey
from panchayat.models import Employee

ANITA = "910000000001"  # DEMO-EMP-001 in the demo data
BIKASH = "910000000002"  # DEMO-EMP-002
STRANGER = "919811111111"


@pytest.fixture(autouse=True)
def private_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    return tmp_path / "pay-documents"


def issue(url, code="DEMO-EMP-001"):
    with db.session_scope(url) as session:
        return employees.issue_pin(session, code, actor="test")


def employee_row(url, code="DEMO-EMP-001"):
    with db.session_scope(url) as session:
        employee = employees.find_by_code(session, code)
        return employee.failed_pin_attempts, employee.locked_until, employee.pin_must_change


def own_pin(url, sender=ANITA, code="DEMO-EMP-001", chosen="4826"):
    """The first-time steps: the one-time PIN, then the employee's own."""
    assert journey.answer_pin(sender, issue(url, code), False, "en").outcome == journey.CHOOSE_OWN
    assert journey.answer_pin(sender, chosen, True, "en").outcome == journey.VERIFIED
    return chosen


def pdf_text(path):
    return "".join(page.extract_text() for page in PdfReader(str(path)).pages)


@pytest.mark.parametrize(
    "kind, said, entities, expected",
    [
        (journey.PAYSLIP, "last month payslip", {}, ("payslip", "2026-10")),
        (journey.PAYSLIP, "অক্টোবর মাসের বেতনের স্লিপ", {}, ("payslip", "2026-10")),
        (journey.PAYSLIP, "payslip", {"month": "2025-10"}, ("payslip", "2025-10")),
        (journey.PAYSLIP, "gato maser payslip", {"month": "গত মাসের"}, ("payslip", "2026-10")),
        (journey.STATEMENT, "salary statement 2024-25", {}, ("statement", "2024-25")),
        (journey.STATEMENT, "annual statement", {}, ("statement", "2025-26")),
        (None, "", {}, ("payslip", "2026-10")),
    ],
)
def test_the_period_asked_for(kind, said, entities, expected):
    assert journey.asked_period(kind, said, entities, today=date(2026, 11, 28)) == expected


def test_the_right_pin_gives_a_private_pdf_of_ones_own_pay(database, private_folder):
    one_time = issue(database)
    first = journey.answer_pin(ANITA, one_time, False, "en")
    assert first.outcome == journey.CHOOSE_OWN
    assert first.replies[0].text("en").startswith("The one-time PIN is correct. Now choose your own PIN")
    chosen = journey.answer_pin(ANITA, "4826", True, "bn")
    assert chosen.outcome == journey.VERIFIED
    said = chosen.replies[0].text("bn")
    assert (
        said.startswith("আপনার পিন ঠিক হয়ে গেছে") and f"{digits(config.EMPLOYEE_VERIFIED_MINUTES, 'bn')} মিনিট" in said
    )
    assert employee_row(database)[2] is False

    document = journey.pay_document(ANITA, journey.PAYSLIP, journey.asked_period(journey.PAYSLIP)[1], True, "en")
    assert not document.ask_pin and document.path.parent == private_folder
    assert document.filename.startswith("payslip-DEMO-EMP-001-") and "Net pay" in document.caption
    assert document.path.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(document.path.stat().st_mode) == 0o600
    assert "Anita Pramanik" in pdf_text(document.path)
    # Later the own PIN opens the documents again.
    assert journey.answer_pin(ANITA, "4826", False, "en").outcome == journey.VERIFIED


def test_a_wrong_pin_counts_toward_the_lock_and_says_to_wait(database, caplog):
    chosen = own_pin(database)
    caplog.set_level(logging.DEBUG)
    wrong = journey.answer_pin(ANITA, "9157", False, "en")
    assert wrong.outcome == journey.REFUSED
    (said,) = wrong.replies
    assert said.text("en").startswith("Sorry, I cannot open pay documents for this number with that PIN")
    assert f"wait {config.EMPLOYEE_LOCK_MINUTES} minutes" in said.text("en")
    assert f"{digits(config.EMPLOYEE_LOCK_MINUTES, 'bn')} মিনিট" in journey.answer_pin(
        ANITA, "9157", False, "bn"
    ).replies[0].text("bn")
    assert employee_row(database)[0] == 2  # the refusals were committed, not rolled back
    # A wrong PIN also closed the open window: no document without a right PIN again.
    assert journey.pay_document(ANITA, journey.PAYSLIP, "2026-01", False, "en").ask_pin
    for _ in range(config.EMPLOYEE_MAX_PIN_ATTEMPTS - 2):
        assert journey.answer_pin(ANITA, "9157", False, "en").outcome == journey.REFUSED
    assert employee_row(database)[1] is not None
    # Locked: even the right PIN opens nothing, and the answer reads the same.
    locked = journey.answer_pin(ANITA, chosen, False, "en")
    assert locked.outcome == journey.REFUSED and locked.replies == wrong.replies
    # PINs are never logged nor repeated back.
    assert chosen not in caplog.text and "9157" not in caplog.text
    assert all(chosen not in r.text(language) for r in locked.replies + wrong.replies for language in ("bn", "en"))


def test_a_stranger_gets_the_same_refusal_and_no_pin_question_loop(database):
    own_pin(database)
    stranger = journey.answer_pin(STRANGER, "4826", False, "en")
    wrong = journey.answer_pin(ANITA, "9157", False, "en")
    assert stranger == wrong
    # Asked afresh, a stranger is asked for the PIN; just refused, nothing more.
    assert journey.pay_document(STRANGER, journey.PAYSLIP, "2026-01", False, "en") == journey.PayDocument(ask_pin=True)
    assert journey.pay_document(STRANGER, journey.PAYSLIP, "2026-01", True, "en") == journey.PayDocument()


def test_another_employees_pay_never_reaches_this_number(database):
    own_pin(database, sender=BIKASH, code="DEMO-EMP-002", chosen="5831")
    # Bikash's PIN on Anita's number opens nothing, and Anita's number gets no document.
    assert journey.answer_pin(ANITA, "5831", False, "en").outcome == journey.REFUSED
    period = journey.asked_period(journey.STATEMENT)[1]
    assert journey.pay_document(ANITA, journey.STATEMENT, period, True, "en").path is None
    document = journey.pay_document(BIKASH, journey.STATEMENT, period, True, "en")
    assert document.filename == f"salary-statement-DEMO-EMP-002-{period}.pdf"
    text = pdf_text(document.path)
    assert "Bikash Mondal" in text and "Anita Pramanik" not in text and "DEMO-EMP-001" not in text


def test_a_new_pin_too_simple_is_asked_again_and_changes_nothing(database):
    assert journey.answer_pin(ANITA, issue(database), False, "en").outcome == journey.CHOOSE_OWN
    again = journey.answer_pin(ANITA, "1234", True, "bn")
    assert again.outcome == journey.AGAIN
    assert again.replies[0].text("bn").startswith("এই পিন সহজেই আন্দাজ করা যায়")
    assert employee_row(database)[2] is True  # still the one-time PIN to replace
    # Choosing a PIN without the one-time PIN first is refused outright.
    late = journey.answer_pin(BIKASH, "5831", True, "en")
    assert late.outcome == journey.REFUSED and late.replies[0].key == "error_pin_change_not_allowed"


def test_a_month_without_pay_is_said_as_people_say_it(database):
    own_pin(database)
    with pytest.raises(PanchayatError) as raised:
        journey.pay_document(ANITA, journey.PAYSLIP, "2020-01", True, "bn")
    assert raised.value.key == "no_payroll_month" and "জানুয়ারি ২০২০" in raised.value.message("bn")
    with pytest.raises(PanchayatError) as raised:
        journey.pay_document(ANITA, journey.STATEMENT, "2019-20", True, "bn")
    assert raised.value.key == "no_payroll_year" and "২০১৯-২০" in raised.value.message("bn")
    with db.session_scope(database) as session:
        assert session.query(Employee).filter_by(code="DEMO-EMP-001").one().verified_until is not None
