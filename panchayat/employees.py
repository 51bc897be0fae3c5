"""Employees proving who they are before they see their pay: a PIN on top of the registered phone.

Village phones are shared, so the registered WhatsApp number alone opens nothing.
The panchayat office issues a one-time PIN (`issue_pin`, from the staff CLI); at
first use the employee types it and then chooses their own PIN (`verify_pin`,
then `set_own_pin`). After a correct PIN the pay documents stay open for
EMPLOYEE_VERIFIED_MINUTES (`verified_employee`).

What a stranger can learn is nothing: a number that is not registered, an
inactive employee, an employee without a PIN and a wrong PIN all get the same
`refused` answer after the same slow hash computation. The chat should therefore
ask every sender for a PIN, never first check whether the number is an employee's.

Only slow salted hashes of PINs are stored; PINs and phone numbers are never
written to logs or audit details (audit entries name the employee code).
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panchayat import config, journal
from panchayat.errors import PanchayatError
from panchayat.models import Employee

# scrypt cost: about 60 ms per check on a small server. A 6-digit PIN space is small, so the
# lock after EMPLOYEE_MAX_PIN_ATTEMPTS is the real defence online; the slow hash makes a stolen
# database expensive to search. The parameters travel with each hash, so they can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
ONE_TIME_PIN_DIGITS = 6
OWN_PIN_LENGTHS = (4, 6)

VERIFIED = "verified"
MUST_CHANGE = "must_change"
REFUSED = "refused"
LOCKED = "locked"

_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
_PIN_SHAPE = re.compile(r"^\d{4,6}$")


@dataclass(frozen=True)
class PinCheck:
    """The answer to one PIN attempt.

    `outcome` is VERIFIED, MUST_CHANGE (the one-time PIN was right; the employee must now
    choose their own PIN with `set_own_pin`), REFUSED or LOCKED. LOCKED exists for the audit
    trail and tests only: the reply for it is the same as for REFUSED (see `reply_key`),
    because a different reply would tell a stranger holding the phone that the number
    belongs to an employee. The common refusal text therefore mentions, to everyone, that
    after several wrong tries one must wait EMPLOYEE_LOCK_MINUTES.
    """

    outcome: str
    employee_code: Optional[str] = None

    @property
    def verified(self) -> bool:
        return self.outcome == VERIFIED

    @property
    def must_change(self) -> bool:
        return self.outcome == MUST_CHANGE

    @property
    def reply_key(self) -> str:
        """The catalogue key the chat answers with: REFUSED and LOCKED share one."""
        return {VERIFIED: "employee_pin_verified", MUST_CHANGE: "employee_pin_choose_own"}.get(
            self.outcome, "employee_pin_refused"
        )

    @property
    def reply_params(self) -> dict:
        if self.outcome == VERIFIED:
            return {"minutes": config.EMPLOYEE_VERIFIED_MINUTES}
        if self.outcome == MUST_CHANGE:
            return {}
        return {"minutes": config.EMPLOYEE_LOCK_MINUTES}

    def message(self, language: str = "en") -> str:
        """The reply to send, in the user's language (minutes in Bengali digits for `bn`)."""
        from panchayat.catalogue import digits, text

        params = {name: digits(value, language) for name, value in self.reply_params.items()}
        return text(self.reply_key, language, **params)


# --- hashing --------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str) -> str:
    """`scrypt$n$r$p$salt$hash` with a random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@lru_cache(maxsize=4)
def _dummy_hash(n: int, r: int, p: int) -> str:
    return hash_pin(secrets.token_hex(4))


def _spend_the_same_time(pin: str) -> None:
    """A hash check whose answer is thrown away, so that refusing an unknown number takes as
    long as refusing a wrong PIN."""
    pin_matches(pin, _dummy_hash(SCRYPT_N, SCRYPT_R, SCRYPT_P))


# --- lookups --------------------------------------------------------------------------


def normalise_phone(phone: str) -> str:
    """Digits only (Bengali digits made ASCII): `+91 90000-00001` -> `919000000001`."""
    return re.sub(r"\D", "", (phone or "").translate(_BENGALI_DIGITS))


def normalise_pin(pin: str) -> str:
    return re.sub(r"[\s-]", "", (pin or "").translate(_BENGALI_DIGITS))


def _by_phone(session: Session, phone: str, for_update: bool = False) -> Optional[Employee]:
    digits = normalise_phone(phone)
    if not digits:
        return None
    query = select(Employee).where(Employee.phone == digits, Employee.active.is_(True))
    if for_update:
        # Two attempts at the same moment must not both read the same failure count.
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def find_by_code(session: Session, code: str) -> Employee:
    typed = (code or "").strip()
    employee = session.execute(select(Employee).where(Employee.code == typed)).scalar_one_or_none()
    if employee is None and typed:
        employee = session.execute(
            select(Employee).where(func.upper(Employee.code) == typed.upper())
        ).scalar_one_or_none()
    if employee is None:
        raise PanchayatError("unknown_employee", code=typed)
    return employee


# --- the staff side: issuing a one-time PIN -------------------------------------------


def issue_pin(session: Session, code: str, actor: str) -> str:
    """A new random one-time PIN for the employee, returned once and stored only as a hash.

    Any earlier PIN, lock, failure count and open verification end here."""
    employee = find_by_code(session, code)
    if not employee.active:
        raise PanchayatError("employee_inactive", code=employee.code)
    pin = f"{secrets.randbelow(10**ONE_TIME_PIN_DIGITS):0{ONE_TIME_PIN_DIGITS}d}"
    employee.pin_hash = hash_pin(pin)
    employee.pin_must_change = True
    employee.failed_pin_attempts = 0
    employee.locked_until = None
    employee.verified_until = None
    employee.updated_at = datetime.utcnow()
    journal.audit(
        session,
        actor=actor,
        action="employee_pin_issued",
        entity_type="employee",
        entity_ref=employee.code,
        new_state="one_time_pin",
    )
    session.flush()
    return pin


# --- the employee side: proving themselves --------------------------------------------


def verify_pin(session: Session, phone: str, pin: str, now: Optional[datetime] = None) -> PinCheck:
    """Checks a PIN sent from `phone`. Writes the failure count, lock and verification window
    (the caller commits them even when the answer is a refusal)."""
    now = now or datetime.utcnow()
    typed = normalise_pin(pin)
    employee = _by_phone(session, phone, for_update=True)
    if employee is None or not employee.pin_hash:
        _spend_the_same_time(typed)
        return PinCheck(REFUSED)
    if not _PIN_SHAPE.match(typed):
        # Chatter is not a guess at the PIN: refuse without counting it against the employee.
        _spend_the_same_time(typed)
        return PinCheck(REFUSED)
    if employee.locked_until is not None:
        if employee.locked_until > now:
            # Even the right PIN opens nothing while locked; the hash is still computed for timing.
            _spend_the_same_time(typed)
            return PinCheck(LOCKED)
        # The lock has run out: a fresh start.
        employee.locked_until = None
        employee.failed_pin_attempts = 0
    if not pin_matches(typed, employee.pin_hash):
        employee.failed_pin_attempts = (employee.failed_pin_attempts or 0) + 1
        # A wrong PIN also closes an open window: someone else may be holding the phone.
        employee.verified_until = None
        if employee.failed_pin_attempts >= config.EMPLOYEE_MAX_PIN_ATTEMPTS:
            employee.locked_until = now + timedelta(minutes=config.EMPLOYEE_LOCK_MINUTES)
            journal.audit(
                session,
                actor="chat",
                action="employee_pin_locked",
                entity_type="employee",
                entity_ref=employee.code,
                new_state="locked",
                attempts=employee.failed_pin_attempts,
                until=employee.locked_until.isoformat(),
            )
        session.flush()
        return PinCheck(REFUSED, None)
    employee.failed_pin_attempts = 0
    employee.verified_until = now + timedelta(minutes=config.EMPLOYEE_VERIFIED_MINUTES)
    session.flush()
    return PinCheck(MUST_CHANGE if employee.pin_must_change else VERIFIED, employee.code)


def check_own_pin(pin: str, phone: str = "") -> str:
    """The PIN in ASCII digits if it is acceptable as an employee's own PIN, else PanchayatError."""
    typed = normalise_pin(pin)
    low, high = OWN_PIN_LENGTHS
    if not re.fullmatch(r"\d+", typed) or not low <= len(typed) <= high:
        raise PanchayatError("pin_format", low=low, high=high)
    steps = {(int(b) - int(a)) % 10 for a, b in zip(typed, typed[1:], strict=False)}
    # One repeated digit (1111), a run up or down (1234, 987654, 7890), or the end of the
    # phone number: the first things someone holding the phone would try.
    if steps in ({0}, {1}, {9}) or (phone and normalise_phone(phone).endswith(typed)):
        raise PanchayatError("pin_too_simple")
    return typed


def set_own_pin(session: Session, phone: str, new_pin: str, now: Optional[datetime] = None) -> Employee:
    """Replaces the one-time PIN by the employee's own, right after a correct one-time PIN.

    Anyone else (another number, no one-time PIN typed, the window expired) gets the same
    `pin_change_not_allowed`, so this too tells a stranger nothing."""
    now = now or datetime.utcnow()
    employee = _by_phone(session, phone, for_update=True)
    if (
        employee is None
        or not employee.pin_hash
        or not employee.pin_must_change
        or employee.verified_until is None
        or employee.verified_until <= now
        or (employee.locked_until is not None and employee.locked_until > now)
    ):
        raise PanchayatError("pin_change_not_allowed")
    typed = check_own_pin(new_pin, employee.phone)
    if pin_matches(typed, employee.pin_hash):
        # The office that issued the one-time PIN knows it; it cannot become the employee's own.
        raise PanchayatError("pin_same_as_one_time")
    employee.pin_hash = hash_pin(typed)
    employee.pin_must_change = False
    employee.failed_pin_attempts = 0
    employee.verified_until = now + timedelta(minutes=config.EMPLOYEE_VERIFIED_MINUTES)
    employee.updated_at = now
    journal.audit(
        session,
        actor="chat",
        action="employee_pin_set",
        entity_type="employee",
        entity_ref=employee.code,
        old_state="one_time_pin",
        new_state="own_pin",
    )
    session.flush()
    return employee


def verified_employee(session: Session, phone: str, now: Optional[datetime] = None) -> Optional[Employee]:
    """The employee registered to `phone` if their own PIN is set and was typed correctly within
    the last EMPLOYEE_VERIFIED_MINUTES; None for anyone else."""
    now = now or datetime.utcnow()
    employee = _by_phone(session, phone)
    if (
        employee is None
        or not employee.pin_hash
        or employee.pin_must_change
        or employee.verified_until is None
        or employee.verified_until <= now
        or (employee.locked_until is not None and employee.locked_until > now)
    ):
        return None
    return employee
