"""Employees' second factor: one-time PIN, own PIN, lock-out, verification window, and what a stranger learns.

Every database test runs on SQLite and PostgreSQL (the `database` fixture)."""
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from panchayat import db, employees, pay_documents
from panchayat.cli import main
from panchayat.employees import LOCKED, MUST_CHANGE, REFUSED, VERIFIED
from panchayat.errors import PanchayatError
from panchayat.models import AuditLog, Employee
from tests.conftest import snapshot

ANITA, BIKASH = "DEMO-EMP-001", "DEMO-EMP-002"
ANITA_PHONE, BIKASH_PHONE = "910000000001", "910000000002"
STRANGER_PHONE = "919876543210"
T0 = datetime(2026, 11, 2, 10, 0, 0)


def issue(url, code=ANITA):
    with db.session_scope(url) as session:
        return employees.issue_pin(session, code, "test-secretary")


def verify(url, phone, pin, now=T0):
    with db.session_scope(url) as session:
        return employees.verify_pin(session, phone, pin, now=now)


def set_own(url, phone, pin, now=T0):
    with db.session_scope(url) as session:
        return employees.set_own_pin(session, phone, pin, now=now).code


def verified_code(url, phone, now=T0):
    with db.session_scope(url) as session:
        employee = employees.verified_employee(session, phone, now=now)
        return employee.code if employee else None


def employee_row(url, code=ANITA):
    with db.session_scope(url) as session:
        e = session.execute(select(Employee).where(Employee.code == code)).scalar_one()
        return {"pin_hash": e.pin_hash, "must_change": e.pin_must_change, "failed": e.failed_pin_attempts,
                "locked_until": e.locked_until, "verified_until": e.verified_until}


def wrong_pin(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def ready_with_own_pin(url, own="4826", code=ANITA, phone=ANITA_PHONE):
    """An employee who has used the one-time PIN and chosen `own`."""
    one_time = issue(url, code)
    assert verify(url, phone, one_time).outcome == MUST_CHANGE
    assert set_own(url, phone, own) == code
    return one_time


# --- issuing ---------------------------------------------------------------------------

def test_issue_pin_returns_six_digits_once_and_stores_only_a_salted_slow_hash(database):
    first = issue(database)
    row = employee_row(database)
    assert re.fullmatch(r"\d{6}", first)
    assert first not in row["pin_hash"]
    scheme, n, r, p, salt, digest = row["pin_hash"].split("$")
    assert scheme == "scrypt" and int(n) >= 2 ** 14 and salt and digest
    assert row["must_change"] is True and row["failed"] == 0 and row["verified_until"] is None
    assert employees.pin_matches(first, row["pin_hash"]) and not employees.pin_matches(wrong_pin(first), row["pin_hash"])
    # The same PIN hashed twice gives two different strings: the salt is random.
    assert employees.hash_pin("123456") != employees.hash_pin("123456")
    second = issue(database)
    assert employee_row(database)["pin_hash"] != row["pin_hash"]
    # A new one-time PIN replaces the old one.
    if second != first:
        assert verify(database, ANITA_PHONE, first).outcome == REFUSED
    assert verify(database, ANITA_PHONE, second).outcome == MUST_CHANGE


def test_issue_pin_clears_a_lock_and_an_earlier_verification(database):
    one_time = issue(database)
    for _ in range(5):
        verify(database, ANITA_PHONE, wrong_pin(one_time))
    assert employee_row(database)["locked_until"] is not None
    fresh = issue(database)
    row = employee_row(database)
    assert row["locked_until"] is None and row["failed"] == 0
    assert verify(database, ANITA_PHONE, fresh).outcome == MUST_CHANGE


def test_issue_pin_for_an_unknown_code_raises_and_changes_nothing(database):
    before = snapshot(database)
    with pytest.raises(PanchayatError) as error:
        issue(database, "NOBODY-1")
    assert error.value.key == "unknown_employee" and "NOBODY-1" in error.value.message("en")
    assert snapshot(database) == before


# --- the authorisation matrix ------------------------------------------------------------

def test_a_strangers_number_gets_exactly_what_a_wrong_pin_gets(database):
    one_time = issue(database)
    wrong = verify(database, ANITA_PHONE, wrong_pin(one_time))
    stranger = verify(database, STRANGER_PHONE, one_time)
    assert wrong.outcome == REFUSED
    assert stranger == wrong
    for language in ("en", "bn"):
        assert stranger.message(language) == wrong.message(language)
    assert verified_code(database, STRANGER_PHONE) is None


def test_a_registered_number_without_a_pin_or_inactive_is_refused_like_a_stranger(database):
    stranger = verify(database, STRANGER_PHONE, "123456")
    # Bikash has no PIN yet: whatever he types is refused, the same way.
    assert verify(database, BIKASH_PHONE, "123456") == stranger
    one_time = issue(database)
    with db.session_scope(database) as session:
        session.execute(select(Employee).where(Employee.code == ANITA)).scalar_one().active = False
    assert verify(database, ANITA_PHONE, one_time) == stranger


def test_refusing_a_stranger_costs_one_hash_check_like_a_wrong_pin(database, monkeypatch):
    one_time = issue(database)
    calls = []
    real = employees.pin_matches
    monkeypatch.setattr(employees, "pin_matches", lambda pin, stored: calls.append(1) or real(pin, stored))
    verify(database, STRANGER_PHONE, "123456")
    stranger_checks = len(calls)
    calls.clear()
    verify(database, ANITA_PHONE, wrong_pin(one_time))
    assert stranger_checks == len(calls) == 1


def test_first_use_one_time_pin_then_own_pin_opens_pay_documents(database):
    one_time = issue(database)
    check = verify(database, ANITA_PHONE, one_time)
    assert check.outcome == MUST_CHANGE and check.must_change and not check.verified
    # The one-time PIN alone does not open the pay documents.
    assert verified_code(database, ANITA_PHONE) is None
    assert set_own(database, ANITA_PHONE, "4826") == ANITA
    assert verified_code(database, ANITA_PHONE) == ANITA
    row = employee_row(database)
    assert row["must_change"] is False and not employees.pin_matches(one_time, row["pin_hash"])
    later = T0 + timedelta(hours=3)
    assert verified_code(database, ANITA_PHONE, later) is None
    check = verify(database, ANITA_PHONE, "4826", later)
    assert check.outcome == VERIFIED and check.verified and check.employee_code == ANITA
    assert "10" in check.message("en") and "১০" in check.message("bn")
    assert verified_code(database, ANITA_PHONE, later) == ANITA
    # The one-time PIN is spent.
    assert verify(database, ANITA_PHONE, one_time, later + timedelta(hours=1)).outcome == REFUSED


def test_pins_and_phone_numbers_are_accepted_in_bengali_digits_and_loose_forms(database):
    one_time = issue(database)
    bengali = one_time.translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    assert verify(database, "+91 00000 00001", bengali).outcome == MUST_CHANGE
    assert set_own(database, "+910000000001", "৪৮২৬") == ANITA
    assert verify(database, ANITA_PHONE, "4826", T0 + timedelta(hours=1)).outcome == VERIFIED


@pytest.mark.parametrize("bad_pin, key", [
    ("12", "pin_format"),
    ("1234567", "pin_format"),
    ("12a4", "pin_format"),
    ("", "pin_format"),
    ("1111", "pin_too_simple"),
    ("৫৫৫৫৫৫", "pin_too_simple"),
    ("1234", "pin_too_simple"),
    ("4321", "pin_too_simple"),
    ("123456", "pin_too_simple"),
    ("987654", "pin_too_simple"),
    ("7890", "pin_too_simple"),
    ("0001", "pin_too_simple"),  # the end of the phone number 910000000001
])
def test_own_pin_must_be_4_to_6_digits_and_not_easy_to_guess(bad_pin, key):
    with pytest.raises(PanchayatError) as error:
        employees.check_own_pin(bad_pin, ANITA_PHONE)
    assert error.value.key == key
    assert error.value.message("en") and re.search(r"[\u0980-\u09ff]", error.value.message("bn"))


@pytest.mark.parametrize("good_pin, stored", [("2580", "2580"), ("০৯১৭", "0917"), ("735 194", "735194"),
                                              ("0001", "0001")])
def test_acceptable_own_pins(good_pin, stored):
    # 0001 is fine for a phone number that does not end in it.
    assert employees.check_own_pin(good_pin, BIKASH_PHONE[:-4] + "5555") == stored


def test_a_bad_own_pin_changes_nothing_and_a_good_one_then_works(database):
    one_time = issue(database)
    assert verify(database, ANITA_PHONE, one_time).outcome == MUST_CHANGE
    before = snapshot(database)
    for bad_pin in ("1234", "0001", "12"):
        with pytest.raises(PanchayatError):
            set_own(database, ANITA_PHONE, bad_pin)
    assert snapshot(database) == before
    assert set_own(database, ANITA_PHONE, "2580") == ANITA
    assert verify(database, ANITA_PHONE, "2580", T0 + timedelta(hours=1)).outcome == VERIFIED


def test_own_pin_cannot_be_the_one_time_pin(database):
    one_time = issue(database)
    verify(database, ANITA_PHONE, one_time)
    with pytest.raises(PanchayatError) as error:
        set_own(database, ANITA_PHONE, one_time)
    assert error.value.key in ("pin_same_as_one_time", "pin_too_simple")
    if error.value.key == "pin_too_simple":  # a random one-time PIN can happen to be 123456
        pytest.skip("the random one-time PIN was itself a simple one")


def test_choosing_an_own_pin_needs_a_fresh_correct_one_time_pin(database):
    one_time = issue(database)
    refusals = []
    for phone, now in ((ANITA_PHONE, T0), (STRANGER_PHONE, T0)):
        with pytest.raises(PanchayatError) as error:
            set_own(database, phone, "4826", now)
        refusals.append(error.value.key)
    verify(database, ANITA_PHONE, one_time)
    with pytest.raises(PanchayatError) as expired:
        set_own(database, ANITA_PHONE, "4826", T0 + timedelta(minutes=11))
    refusals.append(expired.value.key)
    assert set_own(database, ANITA_PHONE, "4826", T0 + timedelta(minutes=9)) == ANITA
    # Once the own PIN is set, it cannot be replaced from the chat without a new one-time PIN.
    with pytest.raises(PanchayatError) as again:
        set_own(database, ANITA_PHONE, "9173", T0 + timedelta(minutes=9, seconds=30))
    refusals.append(again.value.key)
    assert refusals == ["pin_change_not_allowed"] * 4


def test_wrong_own_pin_is_refused_and_closes_an_open_window(database):
    ready_with_own_pin(database)
    assert verified_code(database, ANITA_PHONE) == ANITA
    assert verify(database, ANITA_PHONE, "4827", T0 + timedelta(minutes=1)).outcome == REFUSED
    assert verified_code(database, ANITA_PHONE, T0 + timedelta(minutes=1)) is None
    assert employee_row(database)["failed"] == 1


def test_text_that_is_not_a_pin_is_refused_without_counting_as_a_try(database):
    one_time = issue(database)
    assert verify(database, ANITA_PHONE, "payslip please") == verify(database, STRANGER_PHONE, "payslip please")
    assert verify(database, ANITA_PHONE, "payslip please").outcome == REFUSED
    assert employee_row(database)["failed"] == 0
    assert verify(database, ANITA_PHONE, one_time).outcome == MUST_CHANGE


def test_five_wrong_pins_lock_for_thirty_minutes_then_the_count_starts_again(database):
    ready_with_own_pin(database)
    start = T0 + timedelta(hours=1)
    for attempt in range(1, 5):
        assert verify(database, ANITA_PHONE, "9999", start).outcome == REFUSED
        assert employee_row(database)["failed"] == attempt and employee_row(database)["locked_until"] is None
    fifth = verify(database, ANITA_PHONE, "9999", start)
    assert fifth.outcome == REFUSED
    assert employee_row(database)["locked_until"] == start + timedelta(minutes=30)
    # While locked even the right PIN opens nothing, and the answer reads exactly like a refusal.
    locked = verify(database, ANITA_PHONE, "4826", start + timedelta(minutes=29, seconds=59))
    assert locked.outcome == LOCKED and not locked.verified and locked.employee_code is None
    stranger = verify(database, STRANGER_PHONE, "4826")
    for language in ("en", "bn"):
        assert locked.message(language) == fifth.message(language) == stranger.message(language)
    assert verified_code(database, ANITA_PHONE, start + timedelta(minutes=29, seconds=59)) is None
    # After the lock runs out: one wrong try counts as the first of a new series, not the sixth.
    after = start + timedelta(minutes=30, seconds=1)
    assert verify(database, ANITA_PHONE, "9999", after).outcome == REFUSED
    row = employee_row(database)
    assert row["failed"] == 1 and row["locked_until"] is None
    assert verify(database, ANITA_PHONE, "4826", after).outcome == VERIFIED
    assert employee_row(database)["failed"] == 0
    with db.session_scope(database) as session:
        locks = session.execute(select(AuditLog).where(AuditLog.action == "employee_pin_locked")).scalars().all()
        assert [(a.entity_ref, a.details["attempts"]) for a in locks] == [(ANITA, 5)]


def test_a_right_pin_resets_the_count_of_wrong_ones(database):
    ready_with_own_pin(database)
    for _ in range(4):
        verify(database, ANITA_PHONE, "9999")
    assert verify(database, ANITA_PHONE, "4826").outcome == VERIFIED
    for _ in range(4):
        verify(database, ANITA_PHONE, "9999")
    assert employee_row(database)["locked_until"] is None
    assert verify(database, ANITA_PHONE, "4826").outcome == VERIFIED


def test_lock_length_and_tries_come_from_the_settings(database, monkeypatch):
    monkeypatch.setattr("panchayat.config.EMPLOYEE_MAX_PIN_ATTEMPTS", 2)
    monkeypatch.setattr("panchayat.config.EMPLOYEE_LOCK_MINUTES", 5)
    ready_with_own_pin(database)
    verify(database, ANITA_PHONE, "9999")
    verify(database, ANITA_PHONE, "9999")
    assert employee_row(database)["locked_until"] == T0 + timedelta(minutes=5)
    assert "5" in verify(database, ANITA_PHONE, "4826").message("en")


def test_verification_expires_after_ten_minutes(database):
    ready_with_own_pin(database)
    assert verified_code(database, ANITA_PHONE, T0 + timedelta(minutes=9, seconds=59)) == ANITA
    assert verified_code(database, ANITA_PHONE, T0 + timedelta(minutes=10, seconds=1)) is None


def test_one_employees_verification_never_opens_anothers(database):
    ready_with_own_pin(database, "4826", ANITA, ANITA_PHONE)
    bikash_one_time = issue(database, BIKASH)
    assert verified_code(database, ANITA_PHONE) == ANITA
    assert verified_code(database, BIKASH_PHONE) is None
    # Anita's PIN typed on Bikash's phone is just a wrong PIN for Bikash.
    assert verify(database, BIKASH_PHONE, "4826").outcome == REFUSED
    assert verified_code(database, BIKASH_PHONE) is None
    # Bikash's one-time PIN typed on Anita's phone is a wrong PIN for Anita (and closes her window).
    assert verify(database, ANITA_PHONE, bikash_one_time).outcome == REFUSED
    assert verified_code(database, ANITA_PHONE) is None
    # Pay data follows the verified phone only.
    verify(database, ANITA_PHONE, "4826")
    month = latest_month(database)
    with db.session_scope(database) as session:
        assert pay_documents.own_payslip_facts(session, ANITA_PHONE, month, T0)["employee"]["code"] == ANITA
        with pytest.raises(PanchayatError) as error:
            pay_documents.own_payslip_facts(session, BIKASH_PHONE, month, T0)
        assert error.value.key == "employee_not_verified"
        with pytest.raises(PanchayatError):
            pay_documents.own_statement_facts(session, STRANGER_PHONE, "2026-27", T0)


def latest_month(url):
    from panchayat.models import PayrollLine

    with db.session_scope(url) as session:
        return max(session.execute(select(PayrollLine.month)).scalars())


def test_pins_and_phone_numbers_never_reach_the_audit_log(database):
    one_time = ready_with_own_pin(database)
    for _ in range(5):
        verify(database, ANITA_PHONE, "9999")
    with db.session_scope(database) as session:
        entries = [(a.action, a.entity_ref, a.reason, a.old_state, a.new_state, json.dumps(a.details))
                   for a in session.execute(select(AuditLog)).scalars()
                   if a.action.startswith("employee_pin")]
    assert {e[0] for e in entries} == {"employee_pin_issued", "employee_pin_set", "employee_pin_locked"}
    written = repr(entries)
    for secret in (one_time, "4826", "9999", ANITA_PHONE):
        assert secret not in written


# --- the staff command line ---------------------------------------------------------------

def test_issue_pin_command_prints_the_pin_once_and_stores_only_its_hash(database, capsys):
    assert main(["employees", "issue-pin", "demo-emp-001", "--by", "Subrata Ghosh"]) == 0
    out = capsys.readouterr().out
    pins = re.findall(r"\b\d{6}\b", out)
    assert len(pins) == 1 and ANITA in out and ANITA_PHONE not in out
    row = employee_row(database)
    assert pins[0] not in row["pin_hash"] and employees.pin_matches(pins[0], row["pin_hash"])
    assert verify(database, ANITA_PHONE, pins[0]).outcome == MUST_CHANGE
    with db.session_scope(database) as session:
        entry = session.execute(select(AuditLog).where(AuditLog.action == "employee_pin_issued")).scalar_one()
        assert (entry.actor, entry.entity_ref) == ("Subrata Ghosh", ANITA)


def test_issue_pin_command_with_json(database, capsys):
    assert main(["--json", "employees", "issue-pin", BIKASH]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"code", "pin"} and data["code"] == BIKASH and re.fullmatch(r"\d{6}", data["pin"])
    assert verify(database, BIKASH_PHONE, data["pin"]).outcome == MUST_CHANGE


@pytest.mark.parametrize("code, message", [("NOBODY-9", "no employee"), ("", "no employee")])
def test_issue_pin_command_with_a_bad_code_exits_non_zero_and_changes_nothing(database, capsys, code, message):
    before = snapshot(database)
    assert main(["employees", "issue-pin", code]) != 0
    captured = capsys.readouterr()
    assert message in captured.err.lower() and not re.search(r"\b\d{6}\b", captured.out)
    assert snapshot(database) == before


def test_issue_pin_command_refuses_an_inactive_employee(database, capsys):
    with db.session_scope(database) as session:
        session.execute(select(Employee).where(Employee.code == BIKASH)).scalar_one().active = False
    before = snapshot(database)
    assert main(["employees", "issue-pin", BIKASH]) != 0
    assert "no longer active" in capsys.readouterr().err
    assert snapshot(database) == before
