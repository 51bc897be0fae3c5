"""Pay slips and annual salary statements: facts gathered in a session, PDFs rendered outside it.

Like certificates, the facts are plain data read while the session is open, and
rendering is pure CPU work that the action server runs in an executor. A month or
year without any pay recorded is an error, never an empty document.

These documents carry salary details: the chat must hand them only to the employee
the PIN proved (`own_payslip_facts` / `own_statement_facts` do that check).
"""

import re
from datetime import date, datetime
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat.catalogue import digits, entries as catalogue_entries, text
from panchayat.directory import gp_profile
from panchayat.documents import INK, PanchayatPDF
from panchayat.employees import verified_employee
from panchayat.errors import PanchayatError
from panchayat.models import Employee, PayrollLine
from panchayat.money import amount_in_words_bn, amount_in_words_en, format_paise, format_rupees
from panchayat.payroll import COMPONENTS_BY_CODE, PAY_COMPONENTS

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_FINANCIAL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
COMPONENT_ORDER = {component.code: index for index, component in enumerate(PAY_COMPONENTS)}


# --- labels -------------------------------------------------------------------------


def both(key: str, **params) -> str:
    """`বাংলা / English` for a catalogue entry, as the bilingual documents print their labels."""
    return f"{text(key, 'bn', **params)} / {text(key, 'en', **params)}"


def month_label(month: str) -> Dict[str, str]:
    """`2026-10` -> {'en': 'October 2026', 'bn': 'অক্টোবর ২০২৬'}."""
    year, number = month.split("-")
    return {
        language: f"{text(f'pay_month_{int(number)}', language)} {digits(year, language)}" for language in ("en", "bn")
    }


def parse_month_key(month: str) -> str:
    """Checks a `YYYY-MM` month (periods.parse_month turns what people type into one)."""
    cleaned = digits_ascii(month or "").strip()
    if not _MONTH.match(cleaned):
        raise PanchayatError("bad_month", value=month)
    return cleaned


def financial_year_months(financial_year: str) -> List[str]:
    """`2025-26` -> ['2025-04', ..., '2026-03']."""
    cleaned = digits_ascii(financial_year or "").strip()
    match = _FINANCIAL_YEAR.match(cleaned)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise PanchayatError("bad_financial_year", value=financial_year)
    start = int(match.group(1))
    return [f"{start:04d}-{m:02d}" for m in range(4, 13)] + [f"{start + 1:04d}-{m:02d}" for m in range(1, 4)]


def digits_ascii(value: str) -> str:
    return value.translate(str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789"))


def _designation(designation: str) -> Dict[str, str]:
    """The Bengali designation when it is one of the catalogue's roles, else the English one."""
    key = "role_" + re.sub(r"[^a-z]+", "_", designation.lower()).strip("_")
    bengali = catalogue_entries()[key]["bn"] if key in catalogue_entries() else designation
    return {"en": designation, "bn": bengali}


def _employee_facts(employee: Employee) -> Dict:
    return {
        "code": employee.code,
        "name": {"en": employee.name_en, "bn": employee.name_bn or employee.name_en},
        "designation": _designation(employee.designation),
    }


def _component_label(code: str) -> Dict[str, str]:
    component = COMPONENTS_BY_CODE.get(code)
    return {"en": component.en, "bn": component.bn} if component else {"en": code, "bn": code}


def _lines(session: Session, employee: Employee, months: List[str]) -> List[PayrollLine]:
    query = select(PayrollLine).where(PayrollLine.employee_id == employee.id, PayrollLine.month.in_(months))
    return list(session.execute(query).scalars())


# --- facts --------------------------------------------------------------------------


def payslip_facts(session: Session, employee: Employee, month: str) -> Dict:
    """Everything the pay slip shows. PanchayatError `no_payroll_month` when nothing is recorded."""
    month = parse_month_key(month)
    lines = _lines(session, employee, [month])
    if not lines:
        raise PanchayatError("no_payroll_month", month=month)
    lines.sort(key=lambda line: (COMPONENT_ORDER.get(line.component, len(COMPONENT_ORDER)), line.component))
    # Components recorded as zero are left off: a pay slip lists what was paid and deducted.
    earnings = [
        (_component_label(item.component), item.amount_paise)
        for item in lines
        if item.kind == "earning" and item.amount_paise
    ]
    deductions = [
        (_component_label(item.component), item.amount_paise)
        for item in lines
        if item.kind == "deduction" and item.amount_paise
    ]
    gross = sum(amount for _, amount in earnings)
    deducted = sum(amount for _, amount in deductions)
    return {
        "kind": "payslip",
        "gp": gp_profile(employee.gram_panchayat),
        "employee": _employee_facts(employee),
        "month": month,
        "month_label": month_label(month),
        "earnings": earnings,
        "deductions": deductions,
        "gross_paise": gross,
        "deductions_paise": deducted,
        "net_paise": gross - deducted,
        "generated": date.today(),
    }


def statement_facts(session: Session, employee: Employee, financial_year: str) -> Dict:
    """Everything the annual statement shows: April to March, month by month, with totals.
    PanchayatError `no_payroll_year` when the year has no pay recorded at all."""
    months = financial_year_months(financial_year)
    financial_year = digits_ascii(financial_year).strip()
    lines = _lines(session, employee, months)
    if not lines:
        raise PanchayatError("no_payroll_year", year=financial_year)
    by_month: Dict[str, Dict[str, int]] = {}
    by_component: Dict[str, int] = {}
    for line in lines:
        sums = by_month.setdefault(line.month, {"gross": 0, "deductions": 0})
        sums["gross" if line.kind == "earning" else "deductions"] += line.amount_paise
        by_component[line.component] = by_component.get(line.component, 0) + line.amount_paise
    rows = []
    for month in months:
        paid_in = by_month.get(month)
        rows.append(
            {
                "month": month,
                "label": month_label(month),
                "paid": paid_in is not None,
                "gross_paise": paid_in["gross"] if paid_in else None,
                "deductions_paise": paid_in["deductions"] if paid_in else None,
                "net_paise": paid_in["gross"] - paid_in["deductions"] if paid_in else None,
            }
        )
    paid = [row for row in rows if row["paid"]]
    components = sorted(by_component.items(), key=lambda item: COMPONENT_ORDER.get(item[0], len(COMPONENT_ORDER)))
    return {
        "kind": "statement",
        "gp": gp_profile(employee.gram_panchayat),
        "employee": _employee_facts(employee),
        "financial_year": financial_year,
        "first_month": months[0],
        "last_month": months[-1],
        "months": rows,
        "months_paid": len(paid),
        "components": [
            (_component_label(code), COMPONENTS_BY_CODE[code].kind if code in COMPONENTS_BY_CODE else "earning", amount)
            for code, amount in components
            if amount
        ],
        "gross_paise": sum(row["gross_paise"] for row in paid),
        "deductions_paise": sum(row["deductions_paise"] for row in paid),
        "net_paise": sum(row["net_paise"] for row in paid),
        "generated": date.today(),
    }


def own_payslip_facts(session: Session, phone: str, month: str, now: Optional[datetime] = None) -> Dict:
    """The pay slip facts of the employee verified on `phone`; `employee_not_verified` otherwise.
    The only way the chat should reach pay data: it cannot ask for someone else's."""
    employee = verified_employee(session, phone, now)
    if employee is None:
        raise PanchayatError("employee_not_verified")
    return payslip_facts(session, employee, month)


def own_statement_facts(session: Session, phone: str, financial_year: str, now: Optional[datetime] = None) -> Dict:
    employee = verified_employee(session, phone, now)
    if employee is None:
        raise PanchayatError("employee_not_verified")
    return statement_facts(session, employee, financial_year)


# --- file name and caption ------------------------------------------------------------


def file_name(facts: Dict) -> str:
    """`payslip-DEMO-EMP-001-2026-10.pdf` or `salary-statement-DEMO-EMP-001-2025-26.pdf`."""
    code = re.sub(r"[^A-Za-z0-9-]+", "-", facts["employee"]["code"]).strip("-")
    if facts["kind"] == "payslip":
        return f"payslip-{code}-{facts['month']}.pdf"
    return f"salary-statement-{code}-{facts['financial_year']}.pdf"


def caption(facts: Dict, language: str) -> str:
    """The message that goes with the PDF, in the reader's language."""
    net = format_rupees(facts["net_paise"], language)
    if facts["kind"] == "payslip":
        return text("pay_caption_payslip", language, month=facts["month_label"][language], net=net)
    return text("pay_caption_statement", language, year=digits(facts["financial_year"], language), net=net)


# --- rendering ------------------------------------------------------------------------


def _start(facts: Dict, title_key: str, title_suffix: str) -> PanchayatPDF:
    """A page with the GP's header and the document's title."""
    gp = facts["gp"]
    pdf = PanchayatPDF()
    pdf.set_title(f"{text(title_key, 'en')} {facts['employee']['code']} {title_suffix}")
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.para(text("pay_header_gp", "bn", name=gp["name"]["bn"]), 16, bold=True, align="C", height=8)
    pdf.para(text("pay_header_gp", "en", name=gp["name"]["en"]), 13, bold=True, align="C", height=7)
    pdf.para(
        f"{text('pay_header_place', 'bn', block=gp['block']['bn'], district=gp['district']['bn'])}  |  "
        f"{text('pay_header_place', 'en', block=gp['block']['en'], district=gp['district']['en'])}",
        9,
        align="C",
        height=5,
    )
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.6)
    rule_y = pdf.get_y() + 2
    pdf.line(pdf.l_margin, rule_y, pdf.l_margin + pdf.epw, rule_y)
    pdf.ln(5)
    pdf.para(both(title_key), 15, bold=True, align="C", height=8)
    return pdf


def _row(
    pdf: PanchayatPDF,
    cells: List[Tuple[str, float, str]],
    size: float = 9.5,
    bold: bool = False,
    height: float = 6,
    rule: bool = True,
) -> None:
    """One table row: (text, width, align) per cell, side by side, with a thin rule under it."""
    # Room for a row of up to two lines, else a new page first (so that a row never straddles two pages).
    if pdf.get_y() + 2 * height > pdf.page_break_trigger:
        pdf.add_page()
    top, x, bottom = pdf.get_y(), pdf.l_margin, pdf.get_y()
    for value, width, align in cells:
        pdf.set_xy(x + 1, top)
        pdf.para(value, size, bold=bold, align=align, height=height, width=width - 2)
        bottom = max(bottom, pdf.get_y())
        x += width
    if rule:
        pdf.set_draw_color(190, 190, 190)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, bottom, pdf.l_margin + sum(w for _, w, _ in cells), bottom)
    pdf.set_xy(pdf.l_margin, bottom)


def _employee_block(pdf: PanchayatPDF, facts: Dict, period: Tuple[str, str]) -> None:
    employee, label_width = facts["employee"], 60
    value_width = pdf.epw - label_width
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    for label, value in (
        (both("pay_label_employee_code"), employee["code"]),
        (
            both("pay_label_name"),
            f"{employee['name']['bn']} / {employee['name']['en']}"
            if employee["name"]["bn"] != employee["name"]["en"]
            else employee["name"]["en"],
        ),
        (
            both("pay_label_designation"),
            f"{employee['designation']['bn']} / {employee['designation']['en']}"
            if employee["designation"]["bn"] != employee["designation"]["en"]
            else employee["designation"]["en"],
        ),
        period,
    ):
        _row(pdf, [(label, label_width, "L"), (value, value_width, "L")])
    pdf.ln(4)


def _words(pdf: PanchayatPDF, label_key: str, paise: int) -> None:
    pdf.para(f"{both(label_key)}:", 9.5, bold=True, height=5.5)
    pdf.para(amount_in_words_bn(paise), 9.5, height=5.5)
    pdf.para(amount_in_words_en(paise), 9.5, height=5.5)
    pdf.ln(1)


def _footer(pdf: PanchayatPDF, facts: Dict) -> None:
    pdf.ln(4)
    generated = facts["generated"].strftime("%d/%m/%Y")
    pdf.set_text_color(90, 90, 90)
    pdf.para(text("pay_note_generated", "bn", date=digits(generated, "bn")), 8, height=4.5)
    pdf.para(text("pay_note_generated", "en", date=generated), 8, height=4.5)
    if facts["gp"].get("is_sample"):
        pdf.set_text_color(160, 0, 0)
        pdf.ln(2)
        pdf.para(both("pay_note_sample"), 9, bold=True, align="C")


def render_payslip(facts: Dict) -> bytes:
    pdf = _start(facts, "pay_slip_title", facts["month"])
    label = facts["month_label"]
    pdf.para(f"{label['bn']} / {label['en']}", 11.5, bold=True, align="C", height=7)
    _employee_block(pdf, facts, (both("pay_label_month"), f"{label['bn']} / {label['en']}"))
    amount_width = 50
    label_width = pdf.epw - amount_width
    for heading_key, items, total_key, total in (
        ("pay_label_earnings", facts["earnings"], "pay_label_gross", facts["gross_paise"]),
        ("pay_label_deductions", facts["deductions"], "pay_label_total_deductions", facts["deductions_paise"]),
    ):
        pdf.set_text_color(*INK)
        _row(pdf, [(both(heading_key), label_width, "L"), (both("pay_label_amount"), amount_width, "R")], 10, bold=True)
        pdf.set_text_color(0, 0, 0)
        for component, amount in items:
            _row(
                pdf,
                [
                    (f"{component['bn']} / {component['en']}", label_width, "L"),
                    (format_paise(amount), amount_width, "R"),
                ],
            )
        _row(pdf, [(both(total_key), label_width, "L"), (format_paise(total), amount_width, "R")], bold=True)
        pdf.ln(4)
    pdf.set_text_color(*INK)
    _row(
        pdf,
        [(both("pay_label_net"), label_width, "L"), (format_rupees(facts["net_paise"]), amount_width, "R")],
        11.5,
        bold=True,
        height=7.5,
    )
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)
    _words(pdf, "pay_label_net_in_words", facts["net_paise"])
    _footer(pdf, facts)
    return bytes(pdf.output())


def render_statement(facts: Dict) -> bytes:
    year = facts["financial_year"]
    pdf = _start(facts, "pay_statement_title", year)
    start, end = facts["first_month"][:4], facts["last_month"][:4]
    span = {
        language: text(
            "pay_label_financial_year_span",
            language,
            year=digits(year, language),
            start=digits(start, language),
            end=digits(end, language),
        )
        for language in ("en", "bn")
    }
    pdf.para(f"{span['bn']} / {span['en']}", 11, bold=True, align="C", height=7)
    _employee_block(pdf, facts, (both("pay_label_financial_year"), f"{digits(year, 'bn')} / {year}"))
    month_width, amount_width = 54, (pdf.epw - 54) / 3
    pdf.set_text_color(*INK)
    _row(
        pdf,
        [
            (both("pay_label_month"), month_width, "L"),
            (both("pay_label_gross"), amount_width, "R"),
            (both("pay_label_deductions"), amount_width, "R"),
            (both("pay_label_net"), amount_width, "R"),
        ],
        9,
        bold=True,
        height=5.5,
    )
    pdf.set_text_color(0, 0, 0)
    for row in facts["months"]:
        label = f"{row['label']['bn']} / {row['label']['en']}"
        if row["paid"]:
            _row(
                pdf,
                [
                    (label, month_width, "L"),
                    (format_paise(row["gross_paise"]), amount_width, "R"),
                    (format_paise(row["deductions_paise"]), amount_width, "R"),
                    (format_paise(row["net_paise"]), amount_width, "R"),
                ],
                9,
                height=5.5,
            )
        else:
            pdf.set_text_color(120, 120, 120)
            _row(pdf, [(label, month_width, "L"), (both("pay_label_no_payroll"), amount_width * 3, "R")], 9, height=5.5)
            pdf.set_text_color(0, 0, 0)
    _row(
        pdf,
        [
            (both("pay_label_total"), month_width, "L"),
            (format_paise(facts["gross_paise"]), amount_width, "R"),
            (format_paise(facts["deductions_paise"]), amount_width, "R"),
            (format_paise(facts["net_paise"]), amount_width, "R"),
        ],
        9.5,
        bold=True,
        height=6,
    )
    count = facts["months_paid"]
    pdf.para(
        f"{text('pay_label_months_paid', 'bn', count=digits(count, 'bn'))} / "
        f"{text('pay_label_months_paid', 'en', count=count)}",
        8.5,
        height=5,
    )
    pdf.ln(3)
    _words(pdf, "pay_label_gross_in_words", facts["gross_paise"])
    _words(pdf, "pay_label_net_in_words", facts["net_paise"])
    pdf.ln(2)
    amount_width = 50
    label_width = pdf.epw - amount_width
    pdf.set_text_color(*INK)
    _row(
        pdf,
        [(both("pay_label_component_totals"), label_width, "L"), (both("pay_label_amount"), amount_width, "R")],
        9.5,
        bold=True,
        height=5.5,
    )
    pdf.set_text_color(0, 0, 0)
    for kind, heading_key in (("earning", "pay_label_earnings"), ("deduction", "pay_label_deductions")):
        items = [
            (component, amount) for component, component_kind, amount in facts["components"] if component_kind == kind
        ]
        if items:
            _row(pdf, [(both(heading_key), label_width, "L")], 9, height=5.5, rule=False)
        for component, amount in items:
            _row(
                pdf,
                [
                    (f"    {component['bn']} / {component['en']}", label_width, "L"),
                    (format_paise(amount), amount_width, "R"),
                ],
                9,
                height=5.5,
            )
    _footer(pdf, facts)
    return bytes(pdf.output())
