"""Pay documents in the chat: the PIN first, the same refusal for strangers and wrong PINs, then the PDF."""
import asyncio
from datetime import date

import pytest
from pypdf import PdfReader

from actions.getting_pay_documents import ActionSendPayDocument, ValidatePayForm, pay_request
from panchayat import db, employees

EMPLOYEE_PHONE = "910000000001"  # DEMO-EMP-001 in the demo data


def issue(url, code="DEMO-EMP-001"):
    with db.session_scope(url) as session:
        return employees.issue_pin(session, code, actor="test")


def ask(intent, text, dispatcher, make_tracker, domain, sender=EMPLOYEE_PHONE, language="en", answered=None):
    tracker = make_tracker(text, intent=intent, sender=sender,
                           slots={"language": language, "pay_answer": answered})
    return asyncio.run(ActionSendPayDocument().run(dispatcher, tracker, domain))


def pin(typed, dispatcher, make_tracker, domain, sender=EMPLOYEE_PHONE, stage=None, language="en"):
    tracker = make_tracker(typed, intent="inform", sender=sender, slots={"language": language, "pay_stage": stage},
                           active_loop="pay_form")
    return asyncio.run(ValidatePayForm().validate_pay_answer(typed, dispatcher, tracker, domain))


def documents(dispatcher):
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


@pytest.mark.parametrize("text, entities, expected", [
    ("last month payslip", [], ("payslip", "2026-10")),
    ("gato maser payslip", [], ("payslip", "2026-10")),
    ("অক্টোবর মাসের বেতনের স্লিপ", [], ("payslip", "2026-10")),
    ("payslip 10/2026", [], ("payslip", "2026-10")),
    ("payslip", [{"entity": "month", "value": "2025-10"}], ("payslip", "2025-10")),
    ("payslip", [], ("payslip", "2026-10")),
])
def test_the_month_asked_for(text, entities, expected, make_tracker):
    tracker = make_tracker(text, intent="get_payslip", entities=entities)
    assert pay_request(tracker, today=date(2026, 11, 28)) == expected


@pytest.mark.parametrize("text, expected", [
    ("salary statement 2025-26", "2025-26"),
    ("gato bochorer salary statement", "2025-26"),
    ("annual statement", "2025-26"),
])
def test_the_financial_year_asked_for(text, expected, make_tracker):
    tracker = make_tracker(text, intent="get_salary_statement")
    assert pay_request(tracker, today=date(2026, 11, 28)) == ("statement", expected)


def test_a_first_time_employee_sets_a_pin_and_gets_the_slip(sqlite_database, dispatcher, make_tracker, domain):
    one_time = issue(sqlite_database)
    events = ask("get_payslip", "last month payslip", dispatcher, make_tracker, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "pay_form"}]
    assert pin(one_time, dispatcher, make_tracker, domain) == {"pay_answer": None, "pay_stage": "own_pin"}
    assert "choose your own PIN" in dispatcher.messages[-1]["text"]
    assert pin("1234", dispatcher, make_tracker, domain, stage="own_pin") == {"pay_answer": None}
    assert pin("4826", dispatcher, make_tracker, domain, stage="own_pin")["pay_answer"] == "verified"
    ask("get_payslip", "last month payslip", dispatcher, make_tracker, domain, answered="verified")
    (document,) = documents(dispatcher)
    assert document["filename"].startswith("payslip-DEMO-EMP-001-") and "Net pay" in document["caption"]
    text = "".join(page.extract_text() for page in PdfReader(document["document"]).pages)
    assert "Anita Pramanik" in text and "DEMO-EMP-001" in text


def test_a_stranger_and_a_wrong_pin_get_the_same_answer_and_nothing_else(sqlite_database, dispatcher,
                                                                        make_tracker, domain):
    issue(sqlite_database)
    assert pin("482193", dispatcher, make_tracker, domain, sender="919811111111") == {
        "pay_answer": "refused", "pay_stage": None}
    stranger = dispatcher.messages[-1]["text"]
    assert pin("482193", dispatcher, make_tracker, domain)["pay_answer"] == "refused"
    assert dispatcher.messages[-1]["text"] == stranger
    for sender in ("919811111111", EMPLOYEE_PHONE):
        assert ask("get_payslip", "payslip", dispatcher, make_tracker, domain, sender=sender,
                   answered="refused") == [{"event": "slot", "timestamp": None, "name": "pay_answer", "value": None},
                                           {"event": "slot", "timestamp": None, "name": "pay_stage", "value": None}]
    assert documents(dispatcher) == []


def test_one_employees_pin_never_opens_anothers_pay(sqlite_database, dispatcher, make_tracker, domain):
    one_time = issue(sqlite_database, "DEMO-EMP-002")
    pin(one_time, dispatcher, make_tracker, domain, sender="910000000002")
    pin("5831", dispatcher, make_tracker, domain, sender="910000000002", stage="own_pin")
    # The other employee's number is not verified by it, and typing that PIN there is refused.
    assert ask("get_payslip", "payslip", dispatcher, make_tracker, domain)[0]["name"] == "pay_form"
    assert pin("5831", dispatcher, make_tracker, domain)["pay_answer"] == "refused"
    ask("get_payslip", "payslip", dispatcher, make_tracker, domain, sender="910000000002", answered="verified")
    (document,) = documents(dispatcher)
    assert "DEMO-EMP-002" in document["filename"]


def test_a_month_without_payroll_gets_a_clear_answer_in_bengali(sqlite_database, dispatcher, make_tracker,
                                                                 domain):
    one_time = issue(sqlite_database)
    pin(one_time, dispatcher, make_tracker, domain, language="bn")
    pin("4826", dispatcher, make_tracker, domain, stage="own_pin", language="bn")
    ask("get_payslip", "payslip 01/2020", dispatcher, make_tracker, domain, language="bn", answered="verified")
    assert documents(dispatcher) == [] and "২০২০" in dispatcher.messages[-1]["text"]
    ask("get_salary_statement", "salary statement 2025-26", dispatcher, make_tracker, domain, language="bn",
        answered="verified")
    (document,) = documents(dispatcher)
    assert document["filename"] == "salary-statement-DEMO-EMP-001-2025-26.pdf" and "অর্থবর্ষ" in document["caption"]
