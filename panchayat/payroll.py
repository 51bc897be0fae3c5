"""Employees and their monthly pay, imported from CSV files the administration keeps.

Both imports are all-or-nothing: every bad row is reported with its line number,
and a file with any error changes nothing.

One validator serves the CLI and the console: `check_employees` / `check_payroll` read a
file and return its parsed rows with every error per line number, writing nothing (the
console's preview); `import_employees` / `import_payroll` run the same check and write only
when it found no error. Given `gp_codes`, a line for an employee or a GP outside those GPs
is an error of that line (a clerk changes only their own GP's employees).
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Collection, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat import journal
from panchayat.errors import PanchayatError
from panchayat.models import Employee, GramPanchayat, PayrollLine

EMPLOYEE_COLUMNS = ("code", "name", "designation", "phone", "gp_code")
EMPLOYEE_OPTIONAL = ("name_bn",)


@dataclass(frozen=True)
class PayComponent:
    code: str
    kind: str  # earning or deduction
    en: str
    bn: str


PAY_COMPONENTS = (
    PayComponent("basic_pay", "earning", "Basic pay", "মূল বেতন"),
    PayComponent("dearness_allowance", "earning", "Dearness allowance", "মহার্ঘ ভাতা"),
    PayComponent("house_rent_allowance", "earning", "House rent allowance", "বাড়ি ভাড়া ভাতা"),
    PayComponent("medical_allowance", "earning", "Medical allowance", "চিকিৎসা ভাতা"),
    PayComponent("other_allowance", "earning", "Other allowance", "অন্যান্য ভাতা"),
    PayComponent("provident_fund", "deduction", "Provident fund", "প্রভিডেন্ট ফান্ড"),
    PayComponent("professional_tax", "deduction", "Professional tax", "বৃত্তি কর"),
    PayComponent("income_tax", "deduction", "Income tax (TDS)", "আয়কর (টিডিএস)"),
    PayComponent("other_deduction", "deduction", "Other deduction", "অন্যান্য কর্তন"),
)
COMPONENTS_BY_CODE = {c.code: c for c in PAY_COMPONENTS}
_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_PHONE = re.compile(r"^\d{8,15}$")


@dataclass(frozen=True)
class LineError:
    """One bad line: its number, the reason (catalogue entry `console_pay_row_<reason>`) and the
    reason's parameters. `str()` is the CLI's English wording, `line 3: name is empty`."""

    line: int
    reason: str
    params: Tuple[Tuple[str, str], ...] = ()

    def text(self, language: str = "en") -> str:
        from panchayat.catalogue import text

        return text(f"console_pay_row_{self.reason}", language, **dict(self.params))

    def __str__(self) -> str:
        return f"line {self.line}: {self.text('en')}"


def _error(line: int, reason: str, **params: Any) -> LineError:
    return LineError(line, reason, tuple((name, str(value)) for name, value in params.items()))


@dataclass
class CheckedFile:
    """What a check found: the parsed rows (line number, normalised values) and every error.

    Employees rows hold code, name, name_bn, designation, phone, gp_code and `new` (not yet
    registered); payroll rows hold employee_code, month and amounts ({component: paise})."""

    kind: str
    headers: List[str]
    rows: List[Tuple[int, Dict[str, Any]]]
    errors: List[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_by_line(self) -> Dict[int, List[LineError]]:
        grouped: Dict[int, List[LineError]] = {}
        for error in self.errors:
            grouped.setdefault(error.line, []).append(error)
        return grouped

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})


def _read_csv(path: Path) -> Tuple[List[str], List[Tuple[int, Dict[str, str]]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            headers = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = headers
            rows = [
                (line, {k: (v or "").strip() for k, v in row.items() if k}) for line, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise PanchayatError("file_unreadable", path=str(path), reason=exc.strerror or str(exc)) from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PanchayatError("file_unreadable", path=str(path), reason=str(exc)) from exc
    return headers, rows


def _fail_if(errors: List[str], path: Path) -> None:
    if errors:
        raise PanchayatError("csv_rows", path=str(path), count=len(errors), details="; ".join(errors[:20]))


def check_employees(session: Session, path: Path, gp_codes: Optional[Collection[int]] = None) -> CheckedFile:
    """Reads an employees file and checks every line, writing nothing. A file that cannot be
    read, lacks columns or has no rows raises PanchayatError; bad lines are in `errors`."""
    headers, rows = _read_csv(path)
    missing = [c for c in EMPLOYEE_COLUMNS if c not in headers]
    if missing:
        raise PanchayatError("csv_columns", path=str(path), needed=", ".join(missing))
    if not rows:
        raise PanchayatError("csv_empty", path=str(path))
    known_gps = set(session.execute(select(GramPanchayat.lgd_code)).scalars())
    existing = {e.code: e for e in session.execute(select(Employee)).scalars()}
    phone_owner = {e.phone: e.code for e in existing.values()}
    errors: List[LineError] = []
    parsed: List[Tuple[int, Dict[str, Any]]] = []
    seen_codes: Dict[str, int] = {}
    seen_phones: Dict[str, int] = {}
    for line, row in rows:
        code, phone = row.get("code", ""), row.get("phone", "").lstrip("+").translate(_BENGALI_DIGITS)
        if not code:
            errors.append(_error(line, "code_empty"))
        elif code in seen_codes:
            errors.append(_error(line, "code_repeats", code=code, first=seen_codes[code]))
        elif gp_codes is not None and code in existing and existing[code].gp_code not in gp_codes:
            errors.append(_error(line, "code_outside", code=code))
        seen_codes.setdefault(code, line)
        for column in ("name", "designation"):
            if not row.get(column):
                errors.append(_error(line, "column_empty", column=column))
        if not _PHONE.match(phone):
            errors.append(_error(line, "phone_shape"))
        elif phone in seen_phones:
            errors.append(_error(line, "phone_repeats", first=seen_phones[phone]))
        elif phone_owner.get(phone, code) != code:
            errors.append(_error(line, "phone_taken"))
        seen_phones.setdefault(phone, line)
        gp_text = row.get("gp_code", "").translate(_BENGALI_DIGITS)
        if not gp_text.isdigit() or int(gp_text) not in known_gps:
            errors.append(_error(line, "gp_unknown", value=repr(gp_text)))
        elif gp_codes is not None and int(gp_text) not in gp_codes:
            errors.append(_error(line, "gp_outside", value=repr(gp_text)))
        parsed.append(
            (
                line,
                {
                    "code": code,
                    "name": row.get("name", ""),
                    "name_bn": row.get("name_bn", ""),
                    "designation": row.get("designation", ""),
                    "phone": phone,
                    "gp_code": gp_text,
                    "new": code not in existing,
                },
            )
        )
    return CheckedFile("employees", headers, parsed, errors)


def import_employees(
    session: Session,
    path: Path,
    actor: str,
    gp_codes: Optional[Collection[int]] = None,
    file_name: Optional[str] = None,
) -> Tuple[int, int]:
    """Adds or updates employees; returns (added, updated). `file_name` names the file in the
    audit log (else the path's name)."""
    checked = check_employees(session, path, gp_codes)
    _fail_if([str(error) for error in checked.errors], path)
    existing = {e.code: e for e in session.execute(select(Employee)).scalars()}
    added = updated = 0
    now = datetime.utcnow()
    for _line, row in checked.rows:
        employee = existing.get(row["code"])
        if employee is None:
            employee = Employee(code=row["code"], created_at=now)
            added += 1
        else:
            updated += 1
        employee.name_en = row["name"]
        employee.name_bn = row.get("name_bn") or employee.name_bn
        employee.designation = row["designation"]
        employee.phone = row["phone"]
        employee.gp_code = int(row["gp_code"])
        employee.updated_at = now
        session.add(employee)
    journal.audit(
        session,
        actor=actor,
        action="employees_imported",
        entity_type="file",
        entity_ref=(file_name or Path(path).name)[:40],
        added=added,
        updated=updated,
    )
    session.flush()
    return added, updated


def parse_amount(text: str) -> int:
    """'12,345.50' or '১২৩৪৫' -> paise."""
    cleaned = text.translate(_BENGALI_DIGITS).replace(",", "").replace("₹", "").strip()
    value = Decimal(cleaned)  # may raise InvalidOperation
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidOperation(text)
    return int(value * 100)


def check_payroll(session: Session, path: Path, gp_codes: Optional[Collection[int]] = None) -> CheckedFile:
    """Reads a payroll file and checks every line, writing nothing (see `check_employees`)."""
    headers, rows = _read_csv(path)
    if "employee_code" not in headers or "month" not in headers:
        raise PanchayatError("csv_columns", path=str(path), needed="employee_code, month")
    unknown = [h for h in headers if h not in ("employee_code", "month") and h not in COMPONENTS_BY_CODE]
    if unknown:
        raise PanchayatError(
            "csv_unknown_columns", path=str(path), columns=", ".join(unknown), known=", ".join(COMPONENTS_BY_CODE)
        )
    if not rows:
        raise PanchayatError("csv_empty", path=str(path))
    employees = {e.code: e for e in session.execute(select(Employee)).scalars()}
    errors: List[LineError] = []
    parsed: List[Tuple[int, Dict[str, Any]]] = []
    seen: Dict[Tuple[str, str], int] = {}
    for line, row in rows:
        code = row.get("employee_code", "")
        month = row.get("month", "").translate(_BENGALI_DIGITS)
        if gp_codes is not None and (code not in employees or employees[code].gp_code not in gp_codes):
            # Unknown and another GP's code read the same: the answer tells nothing of other GPs.
            errors.append(_error(line, "employee_outside", value=repr(code)))
        elif code not in employees:
            errors.append(_error(line, "employee_unknown", value=repr(code)))
        match = _MONTH.match(month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            errors.append(_error(line, "month_shape", value=repr(month)))
        if (code, month) in seen:
            errors.append(_error(line, "month_repeats", code=code, month=month, first=seen[(code, month)]))
        seen.setdefault((code, month), line)
        amounts: Dict[str, int] = {}
        for component in headers:
            if component in COMPONENTS_BY_CODE and row.get(component):
                try:
                    amounts[component] = parse_amount(row[component])
                except (InvalidOperation, ValueError):
                    errors.append(_error(line, "amount", column=component, value=repr(row[component])))
        if not any(COMPONENTS_BY_CODE[c].kind == "earning" and v > 0 for c, v in amounts.items()):
            errors.append(_error(line, "no_earnings"))
        parsed.append((line, {"employee_code": code, "month": month, "amounts": amounts}))
    return CheckedFile("payroll", headers, parsed, errors)


def import_payroll(
    session: Session,
    path: Path,
    actor: str,
    gp_codes: Optional[Collection[int]] = None,
    file_name: Optional[str] = None,
) -> Tuple[int, int]:
    """Loads pay components per employee and month; returns (employees, months) loaded.

    A row replaces that employee's components for that month.
    """
    checked = check_payroll(session, path, gp_codes)
    _fail_if([str(error) for error in checked.errors], path)
    employees = {e.code: e for e in session.execute(select(Employee)).scalars()}
    parsed = [(row["employee_code"], row["month"], row["amounts"]) for _line, row in checked.rows]
    for code, month, amounts in parsed:
        employee = employees[code]
        current = {
            line.component: line
            for line in session.execute(
                select(PayrollLine).where(PayrollLine.employee_id == employee.id, PayrollLine.month == month)
            ).scalars()
        }
        for component, line in current.items():
            if component not in amounts:
                session.delete(line)
        for component, paise in amounts.items():
            payroll_line = current.get(component) or PayrollLine(
                employee_id=employee.id, month=month, component=component
            )
            payroll_line.kind = COMPONENTS_BY_CODE[component].kind
            payroll_line.amount_paise = paise
            session.add(payroll_line)
    journal.audit(
        session,
        actor=actor,
        action="payroll_imported",
        entity_type="file",
        entity_ref=(file_name or Path(path).name)[:40],
        rows=len(parsed),
    )
    session.flush()
    return len({c for c, _m, _a in parsed}), len({m for _c, m, _a in parsed})
