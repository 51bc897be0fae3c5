"""The staff command line of docs/contracts/admin-cli.md: every command, good and bad input.

Bad input must exit non-zero with a clear message and change nothing.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from panchayat import db
from panchayat.cli import main
from tests.conftest import ROOT, snapshot


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv):
    code, out, err = run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def notifications(url):
    from panchayat.models import Notification

    with db.session_scope(url) as session:
        return [(n.recipient, n.language, n.kind, n.params) for n in session.query(Notification).order_by(Notification.id)]


def test_db_upgrade_and_seed_from_empty(empty_database, capsys):
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "revision" in out
    code, out, _ = run(capsys, "seed", "--demo")
    assert code == 0 and "23 districts, 346 blocks" in out
    before = snapshot(empty_database)
    code, out, _ = run(capsys, "seed", "--demo")
    assert code == 0 and "already present" in out
    assert snapshot(empty_database) == before


def test_commands_before_db_upgrade_explain_what_to_do(empty_database, capsys):
    code, _, err = run(capsys, "applications", "list")
    assert code != 0 and "db upgrade" in err


def test_applications_list_filters(database, capsys):
    everything = run_json(capsys, "applications", "list")
    assert {a["status"] for a in everything} == {"submitted", "under_review", "approved", "rejected"}
    approved_trade = run_json(capsys, "applications", "list", "--status", "approved", "--service", "trade_noc")
    assert len(approved_trade) == 1
    assert (approved_trade[0]["status"], approved_trade[0]["service"]) == ("approved", "trade_noc")
    assert run_json(capsys, "applications", "list", "--gp", "990002") == []
    code, out, _ = run(capsys, "applications", "list", "--status", "approved")
    assert code == 0 and out.splitlines()[0] == "3 applications"


def test_applications_show_accepts_loose_numbers(database, capsys):
    number = run_json(capsys, "applications", "list", "--status", "under_review", "--service", "trade_noc")[0]["number"]
    loose = number.lower().replace("-", "/").replace("/0000", "/")
    shown = run_json(capsys, "applications", "show", loose)
    assert shown["number"] == number
    assert [h["to"] for h in shown["history"]] == ["submitted", "under_review"]
    assert shown["fields"]["trade_name"]


def test_approve_issues_a_certificate_and_notifies_the_applicant(database, capsys):
    number = run_json(capsys, "applications", "list", "--status", "under_review", "--service", "trade_noc")[0]["number"]
    before = len(notifications(database))
    code, out, _ = run(capsys, "applications", "approve", number, "--by", "Rina Biswas")
    assert code == 0 and "approved" in out
    shown = run_json(capsys, "applications", "show", number)
    assert shown["status"] == "approved" and shown["certificate"]["number"] == number
    assert shown["history"][-1]["actor"] == "Rina Biswas"
    sent = notifications(database)[before:]
    assert [n[2] for n in sent] == ["application_approved"] and sent[0][3]["number"] == number


def test_reject_needs_a_reason_and_notifies(database, capsys):
    number = run_json(capsys, "applications", "list", "--status", "submitted", "--service", "business_noc")[0]["number"]
    before = snapshot(database)
    code, _, err = run(capsys, "applications", "reject", number, "--reason", "   ")
    assert code != 0 and "reason" in err.lower()
    assert snapshot(database) == before
    code, out, _ = run(capsys, "applications", "reject", number, "--reason", "Premises proof is unreadable")
    assert code == 0
    assert notifications(database)[-1][2:] == ("application_rejected", {
        "number": number, "service": "business_noc", "reason": "Premises proof is unreadable"})


@pytest.mark.parametrize("argv, message", [
    (["applications", "approve", "TN-2026-999999"], "no application"),
    (["applications", "approve", "not-a-number"], "not an application number"),
    (["applications", "approve", "GH-2026-000001"], "not an application number"),
    (["applications", "show", "BP-2031-000001"], "no application"),
    (["applications", "reject", "TN-2026-999999", "--reason", "x"], "no application"),
    (["applications", "list", "--service", "pension"], "not one of"),
    (["bookings", "cancel", "GH-2026-999999", "--reason", "repairs"], "no booking"),
    (["bookings", "cancel", "TN-2026-000001", "--reason", "repairs"], "not a booking number"),
    (["bookings", "list", "--date", "2026-02-30"], "not a date"),
    (["bookings", "list", "--guest-house", "999"], "no guest house"),
    (["grievances", "assign", "GR-2026-999999", "--to", "Ratan"], "no complaint"),
    (["grievances", "assign", "GR-2026-000001", "--to", "  "], "assigned"),
    (["grievances", "resolve", "GR-2026-000001", "--note", ""], "note"),
    (["employees", "import", "/nonexistent/employees.csv"], "cannot read"),
    (["payroll", "import", "/nonexistent/payroll.csv"], "cannot read"),
    (["lgd", "import-gps", "/nonexistent/gps.csv"], "cannot read"),
    (["certificates", "revoke", "TN-2026-999999", "--reason", "error"], "no certificate"),
    (["certificates", "revoke", "TN-2026-000001", "--reason", "error"], "no certificate"),
    (["certificates", "pdf", "xyz", "--out", "/tmp/never.pdf"], "not an application number"),
])
def test_bad_input_exits_non_zero_with_a_clear_message_and_changes_nothing(database, capsys, argv, message):
    before = snapshot(database)
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert message in err.lower()
    assert out == ""
    assert snapshot(database) == before


def test_approving_twice_is_refused(database, capsys):
    number = run_json(capsys, "applications", "list", "--status", "approved")[0]["number"]
    before = snapshot(database)
    code, _, err = run(capsys, "applications", "approve", number)
    assert code != 0 and "approved" in err
    assert snapshot(database) == before


def test_missing_required_option_is_a_usage_error(database, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["applications", "reject", "TN-2026-000001"])
    assert exit_info.value.code != 0
    assert "--reason" in capsys.readouterr().err


def test_bookings_list_and_panchayat_cancellation_sends_the_reason(database, capsys):
    confirmed = [b for b in run_json(capsys, "bookings", "list") if b["status"] == "confirmed"]
    booking = confirmed[0]
    on_night = run_json(capsys, "bookings", "list", "--date", booking["check_in"], "--guest-house",
                        str(booking["guest_house_id"]))
    assert booking["number"] in [b["number"] for b in on_night]
    code, out, _ = run(capsys, "bookings", "cancel", booking["number"].lower(), "--reason", "Flood relief camp")
    assert code == 0 and "cancel" in out
    recipient, language, kind, params = notifications(database)[-1]
    assert kind == "booking_cancelled_by_panchayat" and params["reason"] == "Flood relief camp"
    assert params["number"] == booking["number"]
    before = snapshot(database)
    code, _, err = run(capsys, "bookings", "cancel", booking["number"], "--reason", "again")
    assert code != 0 and "already cancelled" in err
    assert snapshot(database) == before


def test_grievances_assign_resolve_and_overdue(database, capsys):
    open_ones = run_json(capsys, "grievances", "list", "--status", "open")
    overdue = run_json(capsys, "grievances", "list", "--overdue")
    assert overdue and all(g["status"] != "resolved" for g in overdue)
    code, out, _ = run(capsys, "grievances", "list", "--overdue")
    assert out.splitlines()[1].startswith("Block ")
    number = open_ones[0]["number"]
    assert run(capsys, "grievances", "assign", number, "--to", "Ratan Mistri")[0] == 0
    assert notifications(database)[-1][2] == "grievance_assigned"
    assert run(capsys, "grievances", "resolve", number, "--note", "Bulb replaced")[0] == 0
    assert notifications(database)[-1][2:] == ("grievance_resolved", {
        "number": number, "category": open_ones[0]["category"], "note": "Bulb replaced"})
    before = snapshot(database)
    code, _, err = run(capsys, "grievances", "resolve", number, "--note", "again")
    assert code != 0 and "already resolved" in err
    assert snapshot(database) == before


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_employees_import_adds_and_updates(database, capsys, tmp_path):
    path = write(tmp_path, "employees.csv",
                 "code,name,name_bn,designation,phone,gp_code\n"
                 "EMP-101,Sima Roy,সীমা রায়,Job Assistant,910000000101,990001\n"
                 "DEMO-EMP-001,Anita Pramanik,,Secretary,910000000001,990001\n")
    assert run_json(capsys, "employees", "import", path) == {"added": 1, "updated": 1}


def test_employees_import_with_any_bad_row_imports_nothing(database, capsys, tmp_path):
    path = write(tmp_path, "employees.csv",
                 "code,name,designation,phone,gp_code\n"
                 "EMP-201,Good Row,Clerk,910000000201,990001\n"
                 "EMP-202,,Clerk,12ab,990001\n"
                 "EMP-201,Repeat,Clerk,910000000203,424242\n")
    before = snapshot(database)
    code, _, err = run(capsys, "employees", "import", path)
    assert code != 0
    for fragment in ("line 3: name is empty", "line 3: phone", "line 4: code EMP-201 repeats line 2",
                     "line 4: gp_code '424242'"):
        assert fragment in err
    assert snapshot(database) == before


def test_payroll_import_loads_and_replaces_a_month(database, capsys, tmp_path):
    path = write(tmp_path, "payroll.csv",
                 "employee_code,month,basic_pay,dearness_allowance,provident_fund,professional_tax\n"
                 "DEMO-EMP-001,2030-04,\"30,000.00\",৪২০০,3600,200\n")
    assert run_json(capsys, "payroll", "import", path) == {"employees": 1, "months": 1}
    from panchayat.models import PayrollLine
    with db.session_scope(database) as session:
        lines = {l.component: l.amount_paise for l in session.query(PayrollLine).filter_by(month="2030-04")}
    assert lines == {"basic_pay": 3000000, "dearness_allowance": 420000, "provident_fund": 360000,
                     "professional_tax": 20000}


@pytest.mark.parametrize("text, fragment", [
    ("employee_code,month,basic_pay\nNOBODY,2030-04,100\n", "line 2: employee_code 'NOBODY'"),
    ("employee_code,month,basic_pay\nDEMO-EMP-001,2030-13,100\n", "line 2: month '2030-13'"),
    ("employee_code,month,basic_pay\nDEMO-EMP-001,2030-04,-5\n", "line 2: basic_pay '-5'"),
    ("employee_code,month,basic_pay\nDEMO-EMP-001,2030-04,abc\n", "line 2: basic_pay 'abc'"),
    ("employee_code,month,bonus_pay\nDEMO-EMP-001,2030-04,100\n", "unknown columns: bonus_pay"),
    ("employee_code,basic_pay\nDEMO-EMP-001,100\n", "lacks the columns"),
    ("employee_code,month,basic_pay\n", "no rows"),
])
def test_payroll_import_bad_files_import_nothing(database, capsys, tmp_path, text, fragment):
    path = write(tmp_path, "payroll.csv", text)
    before = snapshot(database)
    code, _, err = run(capsys, "payroll", "import", path)
    assert code != 0 and fragment in err
    assert snapshot(database) == before


def test_lgd_gram_panchayat_import(database, capsys, tmp_path):
    path = write(tmp_path, "pri.csv",
                 "S.No.,Local Body Code,Local Body Name (In English),Local Body Name (In Local),"
                 "Local Body Type Name,District Name,Intermediate Panchayat Name\n"
                 "1,123456,BAGULA-I,বগুলা-১,Village Panchayat,Nadia,Hanskhali\n"
                 "2,123457,GAZNA,গাজনা,Village Panchayat,NADIA,HANSKHALI\n"
                 "3,2400,HANSKHALI,হাঁসখালি,Intermediate Panchayat,Nadia,Hanskhali\n")
    assert run_json(capsys, "lgd", "import-gps", path) == {"imported": 2}
    from panchayat.models import GramPanchayat
    with db.session_scope(database) as session:
        gp = session.get(GramPanchayat, 123457)
        assert (gp.name_en, gp.name_bn, gp.block_code, gp.is_sample) == ("Gazna", "গাজনা", 3029, False)


def test_lgd_import_with_an_unknown_block_imports_nothing(database, capsys, tmp_path):
    path = write(tmp_path, "pri.csv",
                 "Local Body Code,Local Body Name (In English),District Name,Intermediate Panchayat Name\n"
                 "123456,Good,Nadia,Hanskhali\n"
                 "123458,Lost,Nadia,Atlantis\n")
    before = snapshot(database)
    code, _, err = run(capsys, "lgd", "import-gps", path)
    assert code != 0 and "line 3" in err
    assert snapshot(database) == before


def test_the_module_runs_as_a_program_with_exit_codes(database):
    env = dict(os.environ, DATABASE_URL=database)
    ok = subprocess.run([sys.executable, "-m", "panchayat", "grievances", "list"], cwd=ROOT, env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.splitlines()[0].endswith("complaints")
    bad = subprocess.run([sys.executable, "-m", "panchayat", "applications", "approve", "TN-2026-999999"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "no application" in bad.stderr.lower() and "Traceback" not in bad.stderr


def test_the_documented_sample_files_import(database, capsys):
    assert run_json(capsys, "employees", "import", str(ROOT / "docs/samples/employees.csv")) == {"added": 2, "updated": 0}
    assert run_json(capsys, "payroll", "import", str(ROOT / "docs/samples/payroll.csv")) == {"employees": 2, "months": 1}


def test_certificates_verify_and_revoke_from_the_command_line(database, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "cli-test-key")
    number = run_json(capsys, "applications", "list", "--status", "approved")[0]["number"]
    out_file = tmp_path / "c.pdf"
    assert run_json(capsys, "certificates", "pdf", number, "--out", str(out_file))["bytes"] == out_file.stat().st_size
    from panchayat import certificates
    with db.session_scope(database) as session:
        payload = certificates.facts(certificates.find(session, number))["qr_payload"]
    assert run_json(capsys, "certificates", "verify", payload)["result"] == "valid"
    assert run(capsys, "certificates", "revoke", number, "--reason", "Issued on a forged deed")[0] == 0
    code, out, _ = run(capsys, "certificates", "verify", payload)
    assert code == 0 and out.startswith("revoked: " + number)
    code, out, _ = run(capsys, "certificates", "verify", payload.replace(number, number[:-1] + "7"))
    assert out.strip() == "unknown"
