"""An employee getting their pay slip or annual salary statement, behind a PIN.

Every number is asked for the PIN, employee or not, and every refusal reads the same, so the
chat never tells a stranger whether a number belongs to an employee (panchayat.employees).
The PIN typed is only ever compared with its stored hash: it is never logged, echoed in a
reply or returned.
"""

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from sqlalchemy.orm import Session

from panchayat import config, employees, pay_documents
from panchayat.catalogue import digits
from panchayat.db import transaction
from panchayat.errors import PanchayatError
from panchayat.journeys import Reply, reply
from panchayat.periods import financial_year_of, parse_financial_year, parse_month

PAYSLIP = "payslip"
STATEMENT = "statement"

# What one PIN answer leads to.
VERIFIED = "verified"  # the pay documents are open now
REFUSED = "refused"  # wrong PIN, locked, a stranger, or a new PIN no longer allowed
CHOOSE_OWN = "choose_own"  # the one-time PIN was right: the employee now chooses their own
AGAIN = "again"  # the new PIN chosen was not acceptable: ask for another


def _last_month(today: date) -> str:
    return date.fromordinal(date(today.year, today.month, 1).toordinal() - 1).strftime("%Y-%m")


def asked_period(
    kind: Optional[str], said: str = "", entities: Optional[Mapping[str, Any]] = None, today: Optional[date] = None
) -> Tuple[str, str]:
    """(PAYSLIP, "YYYY-MM") or (STATEMENT, "YYYY-YY") from the words of the request and the month
    or financial year understood in them; `kind` None (no request found) means a pay slip.

    A pay slip without a month is last month's; a statement without a year is the last complete
    financial year's: the ones an employee usually needs.
    """
    today = today or date.today()
    if kind not in (PAYSLIP, STATEMENT):
        return PAYSLIP, _last_month(today)
    # An entity the normaliser could not read ("গত অর্থবছরের") is read again from the words.
    understood = {
        name: value for name, value in (entities or {}).items() if re.fullmatch(r"\d{4}-\d{2}", str(value or ""))
    }
    if kind == PAYSLIP:
        return PAYSLIP, str(understood.get("month") or parse_month(said, today) or _last_month(today))
    year = understood.get("financial_year") or parse_financial_year(said, today)
    return STATEMENT, str(year or financial_year_of(date(today.year - 1, today.month, 1)))


@dataclass(frozen=True)
class PinAnswer:
    """What one typed PIN led to (VERIFIED, REFUSED, CHOOSE_OWN or AGAIN) and what to say."""

    outcome: str
    replies: List[Reply] = field(default_factory=list)


def _minutes(language: str) -> str:
    return digits(config.EMPLOYEE_VERIFIED_MINUTES, language)


def answer_pin(sender: str, typed: str, choosing_own: bool, language: str) -> PinAnswer:
    """The employee's answer to the PIN question: the PIN to check, or (`choosing_own`, right after
    a correct one-time PIN) the PIN they choose for themselves."""
    if choosing_own:
        try:
            _set_own_pin(sender, typed)
        except PanchayatError as error:
            said = Reply(f"error_{error.key}", error.params)
            # Too simple or badly formed: another try. No longer allowed (time ran out): refused.
            return PinAnswer(REFUSED if error.key == "pin_change_not_allowed" else AGAIN, [said])
        return PinAnswer(VERIFIED, [reply("employee_pin_set", minutes=_minutes(language))])
    check = _verify_pin(sender, typed)
    said = Reply(check.reply_key, {name: digits(value, language) for name, value in check.reply_params.items()})
    if check.must_change:
        return PinAnswer(CHOOSE_OWN, [said])
    return PinAnswer(VERIFIED if check.verified else REFUSED, [said])


@transaction
def _set_own_pin(session: Session, sender: str, typed: str) -> None:
    employees.set_own_pin(session, sender, typed)


@transaction
def _verify_pin(session: Session, sender: str, typed: str) -> employees.PinCheck:
    # A refusal is committed too: it carries the failure count and the lock.
    return employees.verify_pin(session, sender, typed)


@dataclass(frozen=True)
class PayDocument:
    """The PDF to send (`path`, with its `caption`), or why there is none: `ask_pin` when the
    sender must first answer the PIN question; neither after a refused PIN."""

    path: Optional[Path] = None
    caption: str = ""
    ask_pin: bool = False

    @property
    def filename(self) -> str:
        return self.path.name if self.path else ""


def pay_document(sender: str, kind: str, period: str, pin_answered: bool, language: str) -> PayDocument:
    """The pay slip (kind PAYSLIP, period "YYYY-MM") or statement (STATEMENT, "YYYY-YY") of the
    employee verified on `sender`, as a private PDF file. Someone not verified gets the PIN
    question, unless they have just answered it (a refused PIN): then nothing.
    PanchayatError for a month or year with no pay recorded, said as people say them."""
    try:
        facts = _own_facts(sender, kind, period)
        if facts is None:
            return PayDocument(ask_pin=not pin_answered)
        render = pay_documents.render_payslip if kind == PAYSLIP else pay_documents.render_statement
        data = render(facts)
    except PanchayatError as error:
        if error.key == "no_payroll_month":
            error.params["month"] = pay_documents.month_label(period)[language]
        elif error.key == "no_payroll_year":
            error.params["year"] = digits(period, language)
        raise
    path = _keep_private(pay_documents.file_name(facts), data)
    return PayDocument(path=path, caption=pay_documents.caption(facts, language))


@transaction
def _own_facts(session: Session, sender: str, kind: str, period: str) -> Optional[Dict]:
    """The document's facts (plain data, read in the session; rendering happens after it), or
    None when the sender is not a verified employee."""
    if employees.verified_employee(session, sender) is None:
        return None
    if kind == PAYSLIP:
        return pay_documents.own_payslip_facts(session, sender, period)
    return pay_documents.own_statement_facts(session, sender, period)


def _keep_private(name: str, data: bytes) -> Path:
    """Pay documents are personal: readable by the service's own user only."""
    folder = config.VAR_DIR / "pay-documents"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path
