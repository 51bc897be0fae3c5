"""Employees and their monthly pay, imported from CSV files the administration keeps.

Both imports are all-or-nothing: every bad row is reported with its line number,
and a file with any error changes nothing.
"""

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Dict, List, Tuple

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


def import_employees(session: Session, path: Path, actor: str) -> Tuple[int, int]:
    """Adds or updates employees; returns (added, updated)."""
    headers, rows = _read_csv(path)
    missing = [c for c in EMPLOYEE_COLUMNS if c not in headers]
    if missing:
        raise PanchayatError("csv_columns", path=str(path), needed=", ".join(missing))
    if not rows:
        raise PanchayatError("csv_empty", path=str(path))
    gp_codes = set(session.execute(select(GramPanchayat.lgd_code)).scalars())
    existing = {e.code: e for e in session.execute(select(Employee)).scalars()}
    phone_owner = {e.phone: e.code for e in existing.values()}
    errors: List[str] = []
    seen_codes: Dict[str, int] = {}
    seen_phones: Dict[str, int] = {}
    for line, row in rows:
        code, phone = row.get("code", ""), row.get("phone", "").lstrip("+").translate(_BENGALI_DIGITS)
        if not code:
            errors.append(f"line {line}: code is empty")
        elif code in seen_codes:
            errors.append(f"line {line}: code {code} repeats line {seen_codes[code]}")
        seen_codes.setdefault(code, line)
        for column in ("name", "designation"):
            if not row.get(column):
                errors.append(f"line {line}: {column} is empty")
        if not _PHONE.match(phone):
            errors.append(f"line {line}: phone must be 8 to 15 digits with the country code")
        elif phone in seen_phones:
            errors.append(f"line {line}: phone repeats line {seen_phones[phone]}")
        elif phone_owner.get(phone, code) != code:
            errors.append(f"line {line}: phone is registered to another employee")
        seen_phones.setdefault(phone, line)
        gp_text = row.get("gp_code", "").translate(_BENGALI_DIGITS)
        if not gp_text.isdigit() or int(gp_text) not in gp_codes:
            errors.append(f"line {line}: gp_code {gp_text!r} is not a known gram panchayat")
        row["phone"] = phone
        row["gp_code"] = gp_text
    _fail_if(errors, path)
    added = updated = 0
    now = datetime.utcnow()
    for _line, row in rows:
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
        entity_ref=Path(path).name[:40],
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


def import_payroll(session: Session, path: Path, actor: str) -> Tuple[int, int]:
    """Loads pay components per employee and month; returns (employees, months) loaded.

    A row replaces that employee's components for that month.
    """
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
    errors: List[str] = []
    parsed = []
    seen: Dict[Tuple[str, str], int] = {}
    for line, row in rows:
        code = row.get("employee_code", "")
        month = row.get("month", "").translate(_BENGALI_DIGITS)
        if code not in employees:
            errors.append(f"line {line}: employee_code {code!r} is not a registered employee")
        match = _MONTH.match(month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            errors.append(f"line {line}: month {month!r} must be YYYY-MM")
        if (code, month) in seen:
            errors.append(f"line {line}: {code} {month} repeats line {seen[(code, month)]}")
        seen.setdefault((code, month), line)
        amounts = {}
        for component in headers:
            if component in COMPONENTS_BY_CODE and row.get(component):
                try:
                    amounts[component] = parse_amount(row[component])
                except (InvalidOperation, ValueError):
                    errors.append(f"line {line}: {component} {row[component]!r} is not an amount")
        if not any(COMPONENTS_BY_CODE[c].kind == "earning" and v > 0 for c, v in amounts.items()):
            errors.append(f"line {line}: no earnings")
        parsed.append((code, month, amounts))
    _fail_if(errors, path)
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
        entity_ref=Path(path).name[:40],
        rows=len(parsed),
    )
    session.flush()
    return len({c for c, _m, _a in parsed}), len({m for _c, m, _a in parsed})
