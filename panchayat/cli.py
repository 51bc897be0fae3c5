"""The back-office command line: `python -m panchayat <command>` (see docs/contracts/admin-cli.md).

Every command prints a one-line summary (or JSON with --json), exits 0 on
success and non-zero with a clear message on bad input; a failed command
changes nothing, because each runs in one transaction.
"""

import argparse
import getpass
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from panchayat import (
    applications,
    bookings,
    certificates,
    config,
    db,
    documents,
    employees,
    grievances,
    migrate,
    nlu_inbox,
    nlu_training,
    pay_documents,
    payroll,
    periods,
    seed,
    staff,
)
from panchayat.catalogue import text as catalogue_text
from panchayat.directory import import_gram_panchayats
from panchayat.errors import PanchayatError
from panchayat.models import APPLICATION_STATUSES, GRIEVANCE_STATUSES, STAFF_ROLES, District, GuestHouse
from panchayat.services import all_services

EXIT_BAD_INPUT = 2
EXIT_NOT_READY = 3
ROOT = Path(__file__).resolve().parent.parent
RETRAIN_STATUS = ROOT / "var" / "retrain" / "status.json"
INBOX_STATUSES = ("new", "labelled", "not_for_us")


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, summary: str, data: Any, lines: Optional[List[str]] = None) -> None:
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            print(summary)
            for line in lines or []:
                print(line)


def _actor(args) -> str:
    return getattr(args, "by", None) or os.environ.get("PANCHAYAT_STAFF") or getpass.getuser()


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PanchayatError("bad_date", value=value) from None


# --- serialisers --------------------------------------------------------------------


def application_dict(application, with_history: bool = False) -> Dict:
    data = {
        "number": application.number,
        "service": application.service,
        "status": application.status,
        "gp_code": application.gp_code,
        "fee_rupees": application.fee_paise / 100,
        "submitted_at": application.created_at.isoformat(timespec="seconds"),
        "updated_at": application.updated_at.isoformat(timespec="seconds"),
    }
    if with_history:
        data["fields"] = application.fields
        data["history"] = [
            {
                "at": e.at.isoformat(timespec="seconds"),
                "actor": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in application.events
        ]
        data["documents"] = [
            {"purpose": a.purpose, "mime_type": a.mime_type, "size_bytes": a.size_bytes}
            for a in application.attachments
        ]
        if application.certificate:
            data["certificate"] = {
                "number": application.certificate.number,
                "issued_at": application.certificate.issued_at.isoformat(timespec="seconds"),
                "valid_until": str(application.certificate.valid_until),
                "revoked": application.certificate.revoked_at is not None,
            }
    return data


def booking_dict(booking) -> Dict:
    return {
        "number": booking.number,
        "guest_house_id": booking.guest_house_id,
        "guest_house": booking.guest_house.name_en,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "rooms": [room.label for room in booking.rooms],
        "amount_rupees": booking.amount_paise / 100,
        "status": booking.status,
        "cancelled_by": booking.cancelled_by,
        "cancel_reason": booking.cancel_reason,
    }


def grievance_dict(grievance) -> Dict:
    block = grievance.gram_panchayat.block
    return {
        "number": grievance.number,
        "category": grievance.category,
        "status": grievance.status,
        "gp_code": grievance.gp_code,
        "block": block.name_en,
        "block_code": block.lgd_code,
        "assigned_to": grievance.assigned_to,
        "lodged_at": grievance.created_at.isoformat(timespec="seconds"),
        "updated_at": grievance.updated_at.isoformat(timespec="seconds"),
        "rating": grievance.rating,
    }


# --- commands -----------------------------------------------------------------------


def cmd_db_upgrade(args, out: Output) -> None:
    revision = migrate.upgrade()
    out.emit(f"database schema at revision {revision}", {"revision": revision})


def cmd_seed(args, out: Output) -> None:
    with db.session_scope() as session:
        counts = seed.seed_demo(session) if args.demo else seed.seed_reference(session)
    if counts.get("skipped"):
        summary = "demo data already present; nothing added"
    elif args.demo:
        summary = (
            f"seeded {counts['districts']} districts, {counts['blocks']} blocks, "
            f"{counts['sample_gps']} sample GPs, {counts['applications']} applications, "
            f"{counts['bookings']} bookings, {counts['grievances']} grievances, "
            f"{counts['employees']} employees with 12 months of payroll"
        )
    else:
        summary = f"loaded {counts['districts']} districts and {counts['blocks']} blocks"
    out.emit(summary, counts)


def cmd_lgd_import_gps(args, out: Output) -> None:
    with db.session_scope() as session:
        if session.execute(select(District.lgd_code).limit(1)).first() is None:
            raise PanchayatError("lgd_missing")
        count = import_gram_panchayats(session, Path(args.file))
    out.emit(f"imported {count} gram panchayats from {args.file}", {"imported": count})


def cmd_applications_list(args, out: Output) -> None:
    if args.service and args.service not in all_services():
        raise PanchayatError("bad_choice", value=args.service, choices=", ".join(all_services()))
    with db.session_scope() as session:
        rows = applications.list_applications(session, args.status, args.service, args.gp)
        data = [application_dict(a) for a in rows]
    out.emit(
        f"{len(data)} applications",
        data,
        [f"{d['number']}  {d['service']:<20} {d['status']:<13} GP {d['gp_code']}  {d['submitted_at']}" for d in data],
    )


def cmd_applications_show(args, out: Output) -> None:
    with db.session_scope() as session:
        data = application_dict(applications.find(session, args.number), with_history=True)
    lines = [f"  {k}: {v}" for k, v in data["fields"].items()]
    lines += [
        f"  {h['at']}  {h['from'] or '-'} -> {h['to']}  by {h['actor']}" + (f" ({h['note']})" if h["note"] else "")
        for h in data["history"]
    ]
    out.emit(f"{data['number']} {data['service']} {data['status']}", data, lines)


def cmd_applications_review(args, out: Output) -> None:
    with db.session_scope() as session:
        application = applications.find(session, args.number)
        applications.start_review(session, application, _actor(args))
        data = application_dict(application)
    out.emit(f"{data['number']} is now under review; the applicant is notified", data)


def cmd_applications_approve(args, out: Output) -> None:
    with db.session_scope() as session:
        application = applications.find(session, args.number)
        applications.approve(session, application, _actor(args))
        data = application_dict(application, with_history=True)
    out.emit(f"{data['number']} approved; certificate issued and the applicant is notified", data)


def cmd_applications_reject(args, out: Output) -> None:
    with db.session_scope() as session:
        application = applications.find(session, args.number)
        applications.reject(session, application, _actor(args), args.reason)
        data = application_dict(application)
    out.emit(f"{data['number']} rejected; the applicant is notified", data)


def cmd_bookings_list(args, out: Output) -> None:
    on_date = _date(args.date) if args.date else None
    with db.session_scope() as session:
        if args.guest_house is not None and session.get(GuestHouse, args.guest_house) is None:
            raise PanchayatError("unknown_guest_house", id=args.guest_house)
        data = [booking_dict(b) for b in bookings.list_bookings(session, on_date, args.guest_house)]
    out.emit(
        f"{len(data)} bookings",
        data,
        [
            f"{d['number']}  {d['check_in']} to {d['check_out']}  rooms {','.join(d['rooms'])}  "
            f"{d['status']}  {d['guest_house']}"
            for d in data
        ],
    )


def cmd_bookings_cancel(args, out: Output) -> None:
    with db.session_scope() as session:
        booking = bookings.find(session, args.number)
        bookings.cancel(session, booking, by="panchayat", actor=_actor(args), reason=args.reason)
        data = booking_dict(booking)
    out.emit(f"{data['number']} cancelled; the guest is sent the cancellation message", data)


def cmd_grievances_list(args, out: Output) -> None:
    with db.session_scope() as session:
        data = [grievance_dict(g) for g in grievances.list_grievances(session, args.status, args.overdue)]
    if args.overdue:
        data.sort(key=lambda d: (d["block"], d["updated_at"]))
        lines, current = [], None
        for d in data:
            if d["block"] != current:
                current = d["block"]
                lines.append(f"Block {current}:")
            lines.append(f"  {d['number']}  {d['category']:<15} {d['status']:<9} untouched since {d['updated_at']}")
        out.emit(f"{len(data)} overdue complaints in {len({d['block'] for d in data})} blocks", data, lines)
        return
    out.emit(
        f"{len(data)} complaints",
        data,
        [f"{d['number']}  {d['category']:<15} {d['status']:<9} GP {d['gp_code']}  {d['lodged_at']}" for d in data],
    )


def cmd_grievances_assign(args, out: Output) -> None:
    with db.session_scope() as session:
        grievance = grievances.find(session, args.number)
        grievances.assign(session, grievance, args.to, _actor(args))
        data = grievance_dict(grievance)
    out.emit(f"{data['number']} assigned to {data['assigned_to']}; the complainant is notified", data)


def cmd_grievances_resolve(args, out: Output) -> None:
    with db.session_scope() as session:
        grievance = grievances.find(session, args.number)
        grievances.resolve(session, grievance, args.note, _actor(args))
        data = grievance_dict(grievance)
    out.emit(f"{data['number']} resolved; the complainant is notified and asked to rate it", data)


def cmd_retention_purge(args, out: Output) -> None:
    from panchayat import retention

    with db.session_scope() as session:
        counts = retention.purge(session, args.days, _actor(args), tracker_url=args.tracker_url, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    out.emit(
        f"retention: {verb} what is older than {args.days} days: "
        + ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items()),
        dict(counts, days=args.days, dry_run=args.dry_run),
    )


def cmd_certificates_verify(args, out: Output) -> None:
    with db.session_scope() as session:
        answer = certificates.verify(session, args.payload)
    summary = answer["result"]
    if answer["result"] != "unknown":
        summary += (
            f": {answer['number']} ({answer['service']}) issued to {answer['holder']} by {answer['gram_panchayat']}"
        )
    out.emit(summary, answer)


def cmd_certificates_revoke(args, out: Output) -> None:
    with db.session_scope() as session:
        certificate = certificates.find(session, args.number)
        certificates.revoke(session, certificate, args.reason, _actor(args))
        number = certificate.number
    out.emit(f"{number} revoked; its QR code now verifies as revoked", {"number": number, "revoked": True})


def cmd_certificates_pdf(args, out: Output) -> None:
    with db.session_scope() as session:
        facts = certificates.facts(certificates.find(session, args.number))
    data = documents.render_certificate(facts)
    Path(args.out).write_bytes(data)
    out.emit(f"wrote {args.out} ({len(data)} bytes)", {"file": args.out, "bytes": len(data)})


def cmd_employees_import(args, out: Output) -> None:
    with db.session_scope() as session:
        added, updated = payroll.import_employees(session, Path(args.file), _actor(args))
    out.emit(f"employees: {added} added, {updated} updated", {"added": added, "updated": updated})


def cmd_employees_issue_pin(args, out: Output) -> None:
    with db.session_scope() as session:
        pin = employees.issue_pin(session, args.code, _actor(args))
        code = employees.find_by_code(session, args.code).code
    # The PIN is shown here once and nowhere else: only its hash is stored.
    out.emit(
        f"one-time PIN for {code}: {pin} (shown once; give it to the employee in person; "
        f"they choose their own PIN at first use)",
        {"code": code, "pin": pin},
    )


def _write_pay_document(args, out: Output, facts: Dict, data: bytes) -> None:
    target = Path(args.out) if args.out else Path(pay_documents.file_name(facts))
    target.write_bytes(data)
    out.emit(f"wrote {target} ({len(data)} bytes)", {"file": str(target), "bytes": len(data)})


def cmd_employees_payslip(args, out: Output) -> None:
    month = periods.parse_month(args.month)
    if month is None:
        raise PanchayatError("bad_month", value=args.month)
    with db.session_scope() as session:
        facts = pay_documents.payslip_facts(session, employees.find_by_code(session, args.code), month)
    _write_pay_document(args, out, facts, pay_documents.render_payslip(facts))


def cmd_employees_statement(args, out: Output) -> None:
    year = periods.parse_financial_year(args.year)
    if year is None:
        raise PanchayatError("bad_financial_year", value=args.year)
    with db.session_scope() as session:
        facts = pay_documents.statement_facts(session, employees.find_by_code(session, args.code), year)
    _write_pay_document(args, out, facts, pay_documents.render_statement(facts))


def cmd_payroll_import(args, out: Output) -> None:
    with db.session_scope() as session:
        employees, months = payroll.import_payroll(session, Path(args.file), _actor(args))
    out.emit(
        f"payroll loaded for {employees} employees over {months} months", {"employees": employees, "months": months}
    )


# --- parser -------------------------------------------------------------------------


def _account_dict(account) -> Dict:
    return {
        "username": account.username,
        "full_name": account.full_name,
        "role": account.role,
        "gp_code": account.gp_code,
        "block_code": account.block_code,
        "active": account.active,
        "must_change_password": account.must_change_password,
    }


def cmd_staff_add(args, out: Output) -> None:
    with db.session_scope() as session:
        account, password = staff.add(
            session,
            args.username,
            args.name,
            args.role,
            _actor(args),
            gp_code=args.gp,
            block_code=args.block,
            language=args.language,
        )
        data = {**_account_dict(account), "one_time_password": password}
    # Shown here once and nowhere else: only its scrypt hash is stored.
    out.emit(
        f"staff account {data['username']} ({data['role']}) added; one-time password: {password} "
        f"(shown once; to be changed at the first login within {staff.STAFF_ONE_TIME_PASSWORD_DAYS} days)",
        data,
    )


def cmd_staff_reset_password(args, out: Output) -> None:
    with db.session_scope() as session:
        password = staff.reset_password(session, args.username, _actor(args))
        data = {**_account_dict(staff.find(session, args.username)), "one_time_password": password}
    out.emit(f"{data['username']}: new one-time password {password} (shown once; sessions ended)", data)


def cmd_staff_set_active(args, out: Output) -> None:
    active = args.action == "enable"
    with db.session_scope() as session:
        data = _account_dict(staff.set_active(session, args.username, active, _actor(args)))
    out.emit(f"{data['username']} {'enabled' if active else 'disabled'}", data)


def cmd_staff_list(args, out: Output) -> None:
    with db.session_scope() as session:
        data = [_account_dict(account) for account in staff.list_accounts(session)]
    out.emit(
        f"{len(data)} staff accounts",
        data,
        [
            f"{a['username']:<20} {a['role']:<14} gp={a['gp_code'] or '-'} block={a['block_code'] or '-'}"
            f"{'' if a['active'] else ' (disabled)'}"
            for a in data
        ],
    )


def _inbox_item_dict(item) -> Dict:
    return {
        "id": item.id,
        "count": item.count,
        "last_seen_at": item.last_seen_at.isoformat(timespec="seconds") if item.last_seen_at else None,
        "reason": item.reason,
        "guess_intent": item.guess_intent,
        "confidence": item.confidence,
        "status": item.status,
        "label_intent": item.label_intent,
        "labelled_by": item.labelled_by,
        "text": item.text,
    }


def cmd_nlu_collect(args, out: Output) -> None:
    with db.session_scope() as session:
        counts = nlu_inbox.collect(session, config.tracker_database_url())
    out.emit(
        "trainers' inbox: " + (", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items()) or "-"),
        counts,
    )


def cmd_nlu_inbox(args, out: Output) -> None:
    with db.session_scope() as session:
        data = [_inbox_item_dict(item) for item in nlu_inbox.inbox(session, status=args.status, limit=args.limit)]
    out.emit(
        f"{len(data)} messages in the trainers' inbox ({args.status})",
        data,
        [
            f"{d['id']:>5}  x{d['count']:<4} {(d['last_seen_at'] or '-')[:16]:<16}  "
            f"{(d['label_intent'] or d['guess_intent'] or '-'):<24} "
            f"{'-' if d['confidence'] is None else format(d['confidence'], '.2f'):>5}  {d['text']}"
            for d in data
        ],
    )


def cmd_nlu_label(args, out: Output) -> None:
    entities = [nlu_training.parse_entity_spec(spec) for spec in args.entity or []]
    with db.session_scope() as session:
        path = nlu_training.label(session, args.id, args.intent, _actor(args), entities=entities)
        data = _inbox_item_dict(nlu_inbox.find(session, args.id))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    data["file"] = str(shown)
    key = "nlu_not_for_us" if data["status"] == "not_for_us" else "nlu_labelled"
    out.emit(catalogue_text(key, "en", id=args.id, intent=data["label_intent"], file=shown), data)


def cmd_nlu_retrain(args, out: Output) -> int:
    python = ROOT / ".venv" / "bin" / "python"
    command = [str(python if python.exists() else Path(sys.executable)), str(ROOT / "scripts" / "retrain.py")]
    if args.no_activate:
        command.append("--no-activate")
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    # Rasa's progress goes to stderr when --json asks for clean output on stdout.
    result = subprocess.run(command, cwd=ROOT, env=environment, stdout=sys.stderr if out.as_json else None)
    try:
        status = json.loads(RETRAIN_STATUS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        status = {}
    summary = status.get("result") or {}
    report = summary.get("report") or str(ROOT / "results" / "retrain" / "report.md")
    lines = []
    if summary.get("reason_key"):
        lines.append(catalogue_text(summary["reason_key"], "en", **summary.get("reason_params", {})))
    out.emit(
        catalogue_text("nlu_retrain_report", "en", state=status.get("state", "failed"), report=report),
        dict(status, exit_code=result.returncode),
        lines,
    )
    return result.returncode


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print machine-readable JSON instead of the summary",
    )
    parser = argparse.ArgumentParser(
        prog="python -m panchayat", parents=[common], description="Smart Panchayat back-office commands"
    )
    groups = parser.add_subparsers(dest="group", metavar="command")
    groups.required = True

    def command(sub, name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    def group(name: str, help_text: str):
        p = groups.add_parser(name, parents=[common], help=help_text)
        sub = p.add_subparsers(dest="action", metavar="action")
        sub.required = True
        return sub

    sub = group("db", "database schema")
    command(sub, "upgrade", cmd_db_upgrade, "create or migrate the schema")

    p = command(groups, "seed", cmd_seed, "load LGD districts and blocks; with --demo also demo data")
    p.add_argument("--demo", action="store_true", help="also load sample GPs, guest houses, employees, ...")

    sub = group("lgd", "LGD reference data")
    p = command(sub, "import-gps", cmd_lgd_import_gps, "import GPs from LGD's PRI local bodies CSV")
    p.add_argument("file")

    sub = group("applications", "certificate applications")
    p = command(sub, "list", cmd_applications_list, "list applications")
    p.add_argument("--status", choices=APPLICATION_STATUSES)
    p.add_argument("--service", metavar="CODE", help="one of: " + ", ".join(all_services()))
    p.add_argument("--gp", type=int, metavar="CODE")
    p = command(sub, "show", cmd_applications_show, "one application with its history")
    p.add_argument("number")
    for name, handler, text in (
        ("review", cmd_applications_review, "mark under review; the applicant is told"),
        ("approve", cmd_applications_approve, "approve and issue the certificate"),
    ):
        p = command(sub, name, handler, text)
        p.add_argument("number")
        p.add_argument("--by", metavar="NAME")
    p = command(sub, "reject", cmd_applications_reject, "reject with a reason")
    p.add_argument("number")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", metavar="NAME")

    sub = group("bookings", "guest-house bookings")
    p = command(sub, "list", cmd_bookings_list, "list bookings")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="bookings that cover this night")
    p.add_argument("--guest-house", type=int, metavar="ID")
    p = command(sub, "cancel", cmd_bookings_cancel, "cancel on the panchayat's side; the guest is told")
    p.add_argument("number")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", metavar="NAME")

    sub = group("grievances", "complaints")
    p = command(sub, "list", cmd_grievances_list, "list complaints")
    p.add_argument("--status", choices=GRIEVANCE_STATUSES)
    p.add_argument("--overdue", action="store_true", help="untouched past GRIEVANCE_OVERDUE_DAYS, per block")
    p = command(sub, "assign", cmd_grievances_assign, "assign to a worker")
    p.add_argument("number")
    p.add_argument("--to", required=True, metavar="NAME")
    p.add_argument("--by", metavar="NAME")
    p = command(sub, "resolve", cmd_grievances_resolve, "resolve; the complainant is told")
    p.add_argument("number")
    p.add_argument("--note", required=True)
    p.add_argument("--by", metavar="NAME")

    sub = group("retention", "data protection: delete old conversations and files (DPDP Act)")
    p = command(
        sub,
        "purge",
        cmd_retention_purge,
        "delete conversation events, delivered messages and unused files older than --days; official records stay",
    )
    p.add_argument("--days", type=int, default=config.CONVERSATION_RETENTION_DAYS)
    p.add_argument(
        "--tracker-url",
        metavar="URL",
        help="the Rasa SQL tracker store's database (e.g. postgresql://.../rasa_tracker)",
    )
    p.add_argument("--dry-run", action="store_true", help="count only")
    p.add_argument("--by", metavar="NAME")

    sub = group("certificates", "issued certificates")
    p = command(sub, "verify", cmd_certificates_verify, "check a QR payload or verify URL: valid, revoked or unknown")
    p.add_argument("payload")
    p = command(sub, "revoke", cmd_certificates_revoke, "revoke a certificate")
    p.add_argument("number")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", metavar="NAME")
    p = command(sub, "pdf", cmd_certificates_pdf, "write a certificate's PDF to a file")
    p.add_argument("number")
    p.add_argument("--out", required=True, metavar="FILE")

    sub = group("employees", "panchayat employees")
    p = command(sub, "import", cmd_employees_import, "add or update employees from CSV")
    p.add_argument("file")
    p.add_argument("--by", metavar="NAME")
    p = command(
        sub,
        "issue-pin",
        cmd_employees_issue_pin,
        "issue a one-time PIN (printed once) for the employee's first use of pay slips in the chat",
    )
    p.add_argument("code", help="employee code, e.g. DEMO-EMP-001")
    p.add_argument("--by", metavar="NAME")
    p = command(sub, "payslip", cmd_employees_payslip, "write an employee's pay slip PDF for a month")
    p.add_argument("code")
    p.add_argument("month", help="YYYY-MM (or e.g. 'october 2026')")
    p.add_argument("--out", metavar="FILE", help="default: payslip-CODE-YYYY-MM.pdf here")
    p = command(
        sub,
        "statement",
        cmd_employees_statement,
        "write an employee's annual salary statement PDF for a financial year",
    )
    p.add_argument("code")
    p.add_argument("year", help="financial year, e.g. 2025-26")
    p.add_argument("--out", metavar="FILE", help="default: salary-statement-CODE-YYYY-YY.pdf here")

    sub = group("payroll", "monthly pay")
    p = command(sub, "import", cmd_payroll_import, "load pay components per employee and month from CSV")
    p.add_argument("file")
    p.add_argument("--by", metavar="NAME")

    sub = group("staff", "staff accounts of the console")
    p = command(sub, "add", cmd_staff_add, "a new console account with a one-time password (shown once)")
    p.add_argument("username")
    p.add_argument("--name", required=True, metavar="FULL NAME")
    p.add_argument("--role", required=True, choices=STAFF_ROLES)
    p.add_argument("--gp", type=int, metavar="CODE", help="the GP (clerk, pradhan, secretary)")
    p.add_argument("--block", type=int, metavar="CODE", help="the block (block_officer)")
    p.add_argument("--language", choices=("bn", "en"), default="bn")
    p.add_argument("--by", metavar="NAME")
    p = command(sub, "reset-password", cmd_staff_reset_password, "a new one-time password; open sessions end")
    p.add_argument("username")
    p.add_argument("--by", metavar="NAME")
    for action, text in (("disable", "no more logins; open sessions end"), ("enable", "allow logins again")):
        p = command(sub, action, cmd_staff_set_active, text)
        p.add_argument("username")
        p.add_argument("--by", metavar="NAME")
    command(sub, "list", cmd_staff_list, "every account, its role and scope")

    sub = group("nlu", "the trainers' inbox: messages the assistant did not understand, labelling, retraining")
    command(sub, "collect", cmd_nlu_collect, "gather not-understood messages from the conversations into the inbox")
    p = command(sub, "inbox", cmd_nlu_inbox, "list the inbox: id, count, last seen, guess, confidence, text")
    p.add_argument("--status", choices=INBOX_STATUSES, default="new")
    p.add_argument("--limit", type=int, default=200, metavar="N")
    p = command(sub, "label", cmd_nlu_label, "label a message with an intent (or not_for_us) for training")
    p.add_argument("id", type=int)
    p.add_argument("intent", help="an intent of domain.yml, or not_for_us")
    p.add_argument(
        "--entity",
        action="append",
        metavar="START:END:ENTITY[:VALUE]",
        help="mark characters START to END of the text as ENTITY (repeatable)",
    )
    p.add_argument("--by", metavar="NAME")
    p = command(
        sub,
        "retrain",
        cmd_nlu_retrain,
        "retrain; the new model becomes active only if the held-out gate and the test stories pass",
    )
    p.add_argument("--no-activate", action="store_true", help="train and report, but keep the active model")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    out = Output(getattr(args, "json", False))
    try:
        result = args.handler(args, out)
    except PanchayatError as error:
        print(f"error: {error.message('en')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OperationalError, ProgrammingError) as error:
        if "no such table" in str(error) or "does not exist" in str(error):
            print(f"error: {PanchayatError('database_not_ready').message('en')}", file=sys.stderr)
            return EXIT_NOT_READY
        raise
    finally:
        db.dispose_engines()
    return result if isinstance(result, int) else 0
