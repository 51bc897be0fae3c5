"""Employees and payroll, for the clerk and the secretary of a GP: the employees of their GP,
the employees and payroll CSV files uploaded with a preview, a one-time PIN (shown once, on
the page that answers the action) and an employee's pay slip or annual statement as a PDF.

An upload is two steps. The POST of the file checks every line without writing anything
(`panchayat.payroll.check_*`, the same validator as the CLI's import), keeps the file under
VAR_DIR/console-uploads with a random name that carries the account's id, and shows a
preview: the first lines, the counts and every error with its line number. The confirming
POST sends that random token back; the file is found only under the signed-in account's id
(another user's token finds nothing), checked again and imported in the request's one
transaction, or refused whole when any line is wrong. The kept file is then deleted, and
files left behind are deleted after UPLOAD_HOURS. Nothing under that folder is ever served.

Scope is enforced on the server: the list shows only the GP's employees, an uploaded line
for another GP or another GP's employee is an error of that line, and another GP's employee
code in a URL is a 404. Phone numbers are shown masked; PINs are never logged or stored.
"""

import re
import secrets
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import distinct, func, select

from console import web
from panchayat import catalogue, config, journal, pay_documents, payroll, periods
from panchayat.employees import issue_pin
from panchayat.errors import PanchayatError
from panchayat.models import Employee, PayrollLine

bp = Blueprint("payroll", __name__, url_prefix="/payroll")

UPLOAD_FOLDER = "console-uploads"
UPLOAD_HOURS = config.int_setting("CONSOLE_UPLOAD_HOURS", 2)
PREVIEW_LINES = 20
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

Checker = Callable[..., payroll.CheckedFile]
CHECKS: Dict[str, Checker] = {"employees": payroll.check_employees, "lines": payroll.check_payroll}
IMPORTS: Dict[str, Callable[..., Tuple[int, int]]] = {
    "employees": payroll.import_employees,
    "lines": payroll.import_payroll,
}


# --- helpers --------------------------------------------------------------------------


def pin_state(employee: Employee, now: Optional[datetime] = None) -> str:
    """none, one_time, own or locked."""
    now = now or datetime.utcnow()
    if employee.locked_until is not None and employee.locked_until > now:
        return "locked"
    if not employee.pin_hash:
        return "none"
    return "one_time" if employee.pin_must_change else "own"


def _designation(designation: str, known: Dict[str, Dict[str, str]]) -> str:
    """The designation in the reader's language when it is one of the catalogue's roles."""
    key = "role_" + re.sub(r"[^a-z]+", "_", designation.lower()).strip("_")
    return known[key].get(web.lang(), designation) if key in known else designation


def _employee(code: str) -> Employee:
    """The employee of that code in the account's GPs; 404 for an unknown code or another GP's."""
    found = web.db_session().execute(select(Employee).where(Employee.code == code)).scalar_one_or_none()
    if found is None:
        abort(404)
    web.in_scope(found.gp_code)
    return found


def _folder() -> Path:
    folder = Path(config.VAR_DIR) / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _kept(kind: str, token: str) -> Optional[Path]:
    """The kept upload of the signed-in account for this token, or None (a malformed token or one
    of another account finds nothing)."""
    if not _TOKEN.match(token or ""):
        return None
    path = _folder() / f"{kind}-{web.me().id}-{token}.csv"
    if not path.is_file() or path.stat().st_mtime < time.time() - UPLOAD_HOURS * 3600:
        return None
    return path


def _name_file(path: Path) -> Path:
    return path.with_suffix(".name")


def _discard(path: Path) -> None:
    for each in (path, _name_file(path)):
        each.unlink(missing_ok=True)


def _sweep() -> None:
    """Deletes uploads nobody confirmed within UPLOAD_HOURS."""
    limit = time.time() - UPLOAD_HOURS * 3600
    for each in _folder().iterdir():
        try:
            if each.stat().st_mtime < limit:
                each.unlink()
        except OSError:
            continue


def _display_name(filename: Optional[str]) -> str:
    """The uploaded file's own name, made safe to show and to name in the audit log."""
    name = re.sub(r"[^\w.\- \u0980-\u09FF]+", "_", Path((filename or "").replace("\\", "/")).name).strip(" ._")
    return name[:60] or "upload.csv"


def _original_name(path: Path) -> str:
    try:
        return _name_file(path).read_text(encoding="utf-8")[:60] or "upload.csv"
    except OSError:
        return "upload.csv"


def _message(error: PanchayatError, name: str) -> str:
    """The core's reason in the reader's language, naming the file as the user knows it (never
    the kept file's path)."""
    params = dict(error.params)
    if "path" in params:
        params["path"] = name
    return PanchayatError(error.key, **params).message(web.lang())


def _digits(value: Any) -> str:
    return catalogue.digits(value, web.lang())


def _preview_rows(kind: str, checked: payroll.CheckedFile) -> List[Dict[str, Any]]:
    rows = []
    for line, row in checked.rows[:PREVIEW_LINES]:
        shown: Dict[str, Any] = {"line": line, "bad": line in checked.errors_by_line()}
        if kind == "employees":
            shown.update(
                code=row["code"],
                name=row["name"],
                name_bn=row["name_bn"],
                designation=row["designation"],
                phone=web.masked_phone(row["phone"]),
                gp_code=row["gp_code"],
                new=row["new"],
            )
        else:
            amounts = row["amounts"]
            gross = sum(v for c, v in amounts.items() if payroll.COMPONENTS_BY_CODE[c].kind == "earning")
            deducted = sum(v for c, v in amounts.items() if payroll.COMPONENTS_BY_CODE[c].kind == "deduction")
            shown.update(
                code=row["employee_code"], month=row["month"], gross=gross, deductions=deducted, net=gross - deducted
            )
        rows.append(shown)
    return rows


def _counts(kind: str, checked: payroll.CheckedFile) -> Dict[str, int]:
    counts = {"lines": len(checked.rows), "errors": len(checked.errors), "bad_lines": checked.bad_lines}
    if kind == "employees":
        counts["new"] = sum(1 for _line, row in checked.rows if row["new"])
        counts["updated"] = counts["lines"] - counts["new"]
    else:
        counts["employees"] = len({row["employee_code"] for _line, row in checked.rows})
        counts["months"] = len({row["month"] for _line, row in checked.rows})
    return counts


def _preview(kind: str, checked: payroll.CheckedFile, name: str, token: Optional[str]) -> str:
    errors = [(error.line, error.text(web.lang())) for error in checked.errors]
    return render_template(
        "payroll_preview.html",
        kind=kind,
        name=name,
        token=token,
        rows=_preview_rows(kind, checked),
        counts=_counts(kind, checked),
        errors=errors,
        more=max(0, len(checked.rows) - PREVIEW_LINES),
    )


# --- the employees page ---------------------------------------------------------------


@bp.get("/")
@web.require("payroll")
def employees() -> Any:
    session = web.db_session()
    gp_codes = web.scope()
    staff_list = list(
        session.execute(select(Employee).where(Employee.gp_code.in_(gp_codes)).order_by(Employee.code)).scalars()
    )
    on_record = {
        employee_id: (months, latest)
        for employee_id, months, latest in session.execute(
            select(PayrollLine.employee_id, func.count(distinct(PayrollLine.month)), func.max(PayrollLine.month))
            .join(Employee, Employee.id == PayrollLine.employee_id)
            .where(Employee.gp_code.in_(gp_codes))
            .group_by(PayrollLine.employee_id)
        ).all()
    }
    known = catalogue.entries()
    rows = []
    for employee in staff_list:
        months, latest = on_record.get(employee.id, (0, None))
        rows.append(
            {
                "code": employee.code,
                "name_en": employee.name_en,
                "name_bn": employee.name_bn,
                "designation": _designation(employee.designation, known),
                "phone": web.masked_phone(employee.phone),
                "pin": pin_state(employee),
                "active": employee.active,
                "months": months,
                "latest_month": latest or "",
                "year": (
                    periods.financial_year_of(date(int(latest[:4]), int(latest[5:7]), 1))
                    if latest
                    else periods.financial_year_of(date.today())
                ),
            }
        )
    return render_template("payroll_employees.html", employees=rows)


# --- uploads: preview, then confirm ---------------------------------------------------


def _upload(kind: str) -> Any:
    back = url_for("payroll.employees")
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash(web.t("console_pay_no_file"), "error")
        return redirect(back)
    _sweep()
    name = _display_name(sent.filename)
    token = secrets.token_urlsafe(32)
    path = _folder() / f"{kind}-{web.me().id}-{token}.csv"
    sent.save(str(path))
    _name_file(path).write_text(name, encoding="utf-8")
    try:
        checked = CHECKS[kind](web.db_session(), path, web.scope())
    except PanchayatError as error:
        _discard(path)
        flash(_message(error, name), "error")
        return redirect(back)
    return _preview(kind, checked, name, token)


def _confirm(kind: str) -> Any:
    back = url_for("payroll.employees")
    path = _kept(kind, web.form_text("upload", 100))
    if path is None:
        flash(web.t("console_pay_upload_gone"), "error")
        return redirect(back)
    name = _original_name(path)
    session = web.db_session()
    try:
        checked = CHECKS[kind](session, path, web.scope())
        if not checked.ok:
            _discard(path)
            flash(web.t("console_pay_refused", count=_digits(checked.bad_lines)), "error")
            return _preview(kind, checked, name, None), 400
        first, second = IMPORTS[kind](session, path, web.actor(), gp_codes=web.scope(), file_name=name)
    except PanchayatError as error:
        session.rollback()
        _discard(path)
        flash(_message(error, name), "error")
        return redirect(back)
    _discard(path)
    if kind == "employees":
        flash(web.t("console_pay_employees_imported", added=_digits(first), updated=_digits(second)), "ok")
    else:
        flash(web.t("console_pay_lines_imported", employees=_digits(first), months=_digits(second)), "ok")
    return redirect(back)


@bp.post("/employees/upload")
@web.require("payroll")
def employees_upload() -> Any:
    return _upload("employees")


@bp.post("/lines/upload")
@web.require("payroll")
def lines_upload() -> Any:
    return _upload("lines")


@bp.post("/employees/confirm")
@web.require("payroll")
def employees_confirm() -> Any:
    return _confirm("employees")


@bp.post("/lines/confirm")
@web.require("payroll")
def lines_confirm() -> Any:
    return _confirm("lines")


# --- one employee: a one-time PIN, pay documents --------------------------------------


@bp.post("/employees/<code>/pin")
@web.require("payroll")
def pin(code: str) -> Any:
    employee = _employee(code)
    with web.action(url_for("payroll.employees")) as done:
        one_time = issue_pin(web.db_session(), employee.code, web.actor())
        # Shown on this answer once; only its hash is stored, and it is never logged.
        return render_template("payroll_pin.html", employee=employee, pin=one_time)
    return done.response


def _document(code: str, kind: str) -> Any:
    employee = _employee(code)
    session = web.db_session()
    try:
        if kind == "payslip":
            facts = pay_documents.payslip_facts(session, employee, request.args.get("month", "")[:20])
            data = pay_documents.render_payslip(facts)
            period = facts["month"]
        else:
            facts = pay_documents.statement_facts(session, employee, request.args.get("year", "")[:20])
            data = pay_documents.render_statement(facts)
            period = facts["financial_year"]
    except PanchayatError as error:
        status = 404 if error.key in ("no_payroll_month", "no_payroll_year") else 400
        return render_template("error.html", message=error.message(web.lang())), status
    journal.audit(
        session,
        actor=web.actor(),
        action=f"{kind}_printed",
        entity_type="employee",
        entity_ref=employee.code,
        period=period,
    )
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{pay_documents.file_name(facts)}"'},
    )


@bp.get("/employees/<code>/payslip.pdf")
@web.require("payroll")
def payslip(code: str) -> Any:
    return _document(code, "payslip")


@bp.get("/employees/<code>/statement.pdf")
@web.require("payroll")
def statement(code: str) -> Any:
    return _document(code, "statement")
