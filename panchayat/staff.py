"""Staff accounts of the console: who may sign in, what they may do, and which GPs they see.

An account is made from the command line (`staff add`) with a one-time password that is
shown once and must be changed at the first login. Passwords are kept as scrypt hashes,
the same hashing as the employees' PINs. Five wrong passwords lock the account for
STAFF_LOCK_MINUTES; many failures from one client are refused before any password is checked.

A signed-in browser holds a random token; the database keeps only its SHA-256, with the
form token (CSRF) of that session. A session ends after STAFF_IDLE_MINUTES without a
request or STAFF_SESSION_HOURS in all, at logout, at a password change or reset, and when the
account is disabled.

Scope is the rule of every page: a clerk, pradhan or secretary sees one GP, a block officer
every GP of one block, an administrator and a trainer no citizen records at all. Pages ask
`scope_gp_codes` and `may`, never the role directly.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, FrozenSet, List, Optional, Tuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from panchayat import config, journal, signing
from panchayat.employees import _spend_the_same_time, hash_pin as hash_secret, pin_matches as secret_matches
from panchayat.errors import PanchayatError
from panchayat.models import (
    STAFF_ROLES,
    Block,
    GramPanchayat,
    StaffAccount,
    StaffLoginAttempt,
    StaffSession,
    utcnow,
)

STAFF_MAX_FAILED_LOGINS = config.int_setting("STAFF_MAX_FAILED_LOGINS", 5)
STAFF_LOCK_MINUTES = config.int_setting("STAFF_LOCK_MINUTES", 15)
# Failed logins from one client (any usernames) in the window before the form refuses it for a while.
STAFF_CLIENT_MAX_FAILURES = config.int_setting("STAFF_CLIENT_MAX_FAILURES", 20)
STAFF_CLIENT_WINDOW_MINUTES = config.int_setting("STAFF_CLIENT_WINDOW_MINUTES", 15)
STAFF_IDLE_MINUTES = config.int_setting("STAFF_IDLE_MINUTES", 30)
STAFF_SESSION_HOURS = config.int_setting("STAFF_SESSION_HOURS", 12)
# A one-time password not used within this many days must be issued again.
STAFF_ONE_TIME_PASSWORD_DAYS = config.int_setting("STAFF_ONE_TIME_PASSWORD_DAYS", 7)
MIN_PASSWORD_LENGTH = 10

GP_ROLES = ("clerk", "pradhan", "secretary")
BLOCK_ROLES = ("block_officer",)
# What each role may do; a page checks `may(account, what)`.
PERMISSIONS: Dict[str, FrozenSet[str]] = {
    "see_cases": frozenset(GP_ROLES + BLOCK_ROLES),
    "review": frozenset(GP_ROLES),
    "decide": frozenset(("pradhan", "secretary")),
    "revoke": frozenset(("pradhan", "secretary")),
    "handle_complaints": frozenset(GP_ROLES),
    "cancel_bookings": frozenset(GP_ROLES),
    "payroll": frozenset(("clerk", "secretary")),
    "accounts": frozenset(("administrator",)),
    "train": frozenset(("trainer", "administrator")),
}
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,39}$")
# No 0/O, 1/l/I: the password is read off a screen and typed by hand.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_COMMON = {"password", "password123", "1234567890", "qwertyuiop", "panchayat123", "admin12345"}


def may(account: StaffAccount, what: str) -> bool:
    return account.role in PERMISSIONS[what]


def actor_name(account: StaffAccount) -> str:
    """How the audit log and the case histories name a console user."""
    return f"{account.full_name} ({account.username})"


def scope_gp_codes(session: Session, account: StaffAccount) -> FrozenSet[int]:
    """The GPs whose records this account may see; empty for roles without citizen records."""
    if account.role in GP_ROLES and account.gp_code is not None:
        return frozenset((account.gp_code,))
    if account.role in BLOCK_ROLES and account.block_code is not None:
        codes = session.execute(
            select(GramPanchayat.lgd_code).where(GramPanchayat.block_code == account.block_code)
        ).scalars()
        return frozenset(codes)
    return frozenset()


def scope_block_codes(session: Session, account: StaffAccount) -> FrozenSet[int]:
    """The blocks this account's GPs lie in (for guest houses, which belong to a block)."""
    if account.role in BLOCK_ROLES and account.block_code is not None:
        return frozenset((account.block_code,))
    if account.role in GP_ROLES and account.gp_code is not None:
        gp = session.get(GramPanchayat, account.gp_code)
        return frozenset((gp.block_code,)) if gp else frozenset()
    return frozenset()


def one_time_password() -> str:
    """Three groups of four letters and digits, e.g. `k7pq-3mxa-v9td` (about 71 bits)."""
    return "-".join("".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3))


def find(session: Session, username: str) -> StaffAccount:
    account = session.execute(
        select(StaffAccount).where(StaffAccount.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    if account is None:
        raise PanchayatError("unknown_staff", username=(username or "").strip())
    return account


def _check_scope(session: Session, role: str, gp_code: Optional[int], block_code: Optional[int]) -> None:
    if role not in STAFF_ROLES:
        raise PanchayatError("bad_staff_role", role=role, roles=", ".join(STAFF_ROLES))
    if role in GP_ROLES:
        if gp_code is None or block_code is not None:
            raise PanchayatError("staff_needs_gp", role=role)
        if session.get(GramPanchayat, gp_code) is None:
            raise PanchayatError("unknown_gp", code=gp_code)
    elif role in BLOCK_ROLES:
        if block_code is None or gp_code is not None:
            raise PanchayatError("staff_needs_block", role=role)
        if session.get(Block, block_code) is None:
            raise PanchayatError("unknown_block", code=block_code)
    elif gp_code is not None or block_code is not None:
        raise PanchayatError("staff_no_scope", role=role)


def _set_one_time_password(account: StaffAccount, now: datetime) -> str:
    password = one_time_password()
    account.password_hash = hash_secret(password)
    account.must_change_password = True
    account.one_time_password_expires_at = now + timedelta(days=STAFF_ONE_TIME_PASSWORD_DAYS)
    account.failed_logins = 0
    account.locked_until = None
    return password


def add(
    session: Session,
    username: str,
    full_name: str,
    role: str,
    actor: str,
    gp_code: Optional[int] = None,
    block_code: Optional[int] = None,
    language: str = "bn",
) -> Tuple[StaffAccount, str]:
    """A new account and its one-time password (returned once, never stored in clear)."""
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise PanchayatError("bad_username", username=username)
    if not (full_name or "").strip():
        raise PanchayatError("staff_name_required")
    if language not in ("bn", "en"):
        raise PanchayatError("bad_language", language=language)
    _check_scope(session, role, gp_code, block_code)
    if session.execute(select(StaffAccount.id).where(StaffAccount.username == username)).first():
        raise PanchayatError("staff_exists", username=username)
    account = StaffAccount(
        username=username,
        full_name=full_name.strip(),
        role=role,
        gp_code=gp_code,
        block_code=block_code,
        language=language,
        active=True,
    )
    password = _set_one_time_password(account, utcnow())
    session.add(account)
    session.flush()
    journal.audit(
        session,
        actor=actor,
        action="staff_added",
        entity_type="staff_account",
        entity_ref=username,
        new_state=role,
        gp_code=gp_code,
        block_code=block_code,
    )
    return account, password


def reset_password(session: Session, username: str, actor: str) -> str:
    """A new one-time password; the old password, any lock and every open session end."""
    account = find(session, username)
    password = _set_one_time_password(account, utcnow())
    _end_sessions(session, account)
    journal.audit(
        session, actor=actor, action="staff_password_reset", entity_type="staff_account", entity_ref=account.username
    )
    return password


def set_active(session: Session, username: str, active: bool, actor: str) -> StaffAccount:
    account = find(session, username)
    account.active = active
    if not active:
        _end_sessions(session, account)
    journal.audit(
        session,
        actor=actor,
        action="staff_enabled" if active else "staff_disabled",
        entity_type="staff_account",
        entity_ref=account.username,
    )
    return account


def list_accounts(session: Session) -> List[StaffAccount]:
    return list(session.execute(select(StaffAccount).order_by(StaffAccount.username)).scalars())


# --- signing in --------------------------------------------------------------------------

LOGGED_IN = "logged_in"
BAD_CREDENTIALS = "bad_credentials"
LOCKED = "locked"
RATE_LIMITED = "rate_limited"
EXPIRED = "one_time_password_expired"


@dataclass(frozen=True)
class Login:
    outcome: str
    account: Optional[StaffAccount] = None
    token: Optional[str] = None


def client_hash(client_address: str) -> str:
    """A keyed hash of the browser's address: enough to count its failures, not to name it."""
    return hmac.new(signing.signing_key(), f"staff-login|{client_address}".encode(), hashlib.sha256).hexdigest()


def _client_failures(session: Session, client: str, now: datetime) -> int:
    since = now - timedelta(minutes=STAFF_CLIENT_WINDOW_MINUTES)
    return session.execute(
        select(func.count())
        .select_from(StaffLoginAttempt)
        .where(
            StaffLoginAttempt.client_hash == client,
            StaffLoginAttempt.succeeded.is_(False),
            StaffLoginAttempt.at >= since,
        )
    ).scalar_one()


def log_in(
    session: Session, username: str, password: str, client_address: str, now: Optional[datetime] = None
) -> Login:
    """Checks a login; on success opens a session and returns its token (for the cookie).

    An unknown username, a disabled account and a wrong password get the same answer after the
    same hash computation; a locked account says so only after a correct password, so the lock
    message does not confirm that a username exists."""
    now = now or utcnow()
    client = client_hash(client_address)
    if _client_failures(session, client, now) >= STAFF_CLIENT_MAX_FAILURES:
        return Login(RATE_LIMITED)
    typed = (username or "").strip().lower()
    account = (
        session.execute(
            select(StaffAccount).where(StaffAccount.username == typed).with_for_update()
        ).scalar_one_or_none()
        if USERNAME.match(typed)
        else None
    )
    if account is None or not account.active:
        _spend_the_same_time(password or "")
        session.add(StaffLoginAttempt(at=now, client_hash=client, succeeded=False))
        return Login(BAD_CREDENTIALS)
    locked = account.locked_until is not None and account.locked_until > now
    matches = secret_matches(password or "", account.password_hash)
    if locked or not matches:
        session.add(StaffLoginAttempt(at=now, client_hash=client, succeeded=False))
        if locked:
            return Login(LOCKED if matches else BAD_CREDENTIALS)
        account.failed_logins += 1
        if account.failed_logins >= STAFF_MAX_FAILED_LOGINS:
            account.locked_until = now + timedelta(minutes=STAFF_LOCK_MINUTES)
            account.failed_logins = 0
            journal.audit(
                session,
                actor=account.username,
                action="staff_locked",
                entity_type="staff_account",
                entity_ref=account.username,
                new_state="locked",
            )
        else:
            journal.audit(
                session,
                actor=account.username,
                action="staff_login_failed",
                entity_type="staff_account",
                entity_ref=account.username,
            )
        return Login(BAD_CREDENTIALS)
    if (
        account.must_change_password
        and account.one_time_password_expires_at is not None
        and account.one_time_password_expires_at < now
    ):
        session.add(StaffLoginAttempt(at=now, client_hash=client, succeeded=False))
        return Login(EXPIRED)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    session.add(StaffLoginAttempt(at=now, client_hash=client, succeeded=True))
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_token_hash(token),
            account=account,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    journal.audit(
        session,
        actor=actor_name(account),
        action="staff_login",
        entity_type="staff_account",
        entity_ref=account.username,
    )
    session.flush()
    return Login(LOGGED_IN, account, token)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_for(session: Session, token: Optional[str], now: Optional[datetime] = None) -> Optional[StaffSession]:
    """The live session of a cookie's token, or None (unknown, ended, idle too long, too old, or
    the account disabled). A live session's last-seen time moves on at most once a minute."""
    if not token:
        return None
    now = now or utcnow()
    held = session.execute(
        select(StaffSession).where(StaffSession.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if held is None or held.ended_at is not None or not held.account.active:
        return None
    if held.last_seen_at < now - timedelta(minutes=STAFF_IDLE_MINUTES) or held.created_at < now - timedelta(
        hours=STAFF_SESSION_HOURS
    ):
        held.ended_at = now
        return None
    if now - held.last_seen_at > timedelta(minutes=1):
        held.last_seen_at = now
    return held


def log_out(session: Session, held: StaffSession) -> None:
    held.ended_at = utcnow()
    journal.audit(
        session,
        actor=actor_name(held.account),
        action="staff_logout",
        entity_type="staff_account",
        entity_ref=held.account.username,
    )


def _end_sessions(session: Session, account: StaffAccount, keep: Optional[StaffSession] = None) -> None:
    query = update(StaffSession).where(StaffSession.account_id == account.id, StaffSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    session.execute(query.values(ended_at=utcnow()).execution_options(synchronize_session=False))


def check_new_password(account: StaffAccount, new_password: str) -> None:
    password = new_password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PanchayatError("password_too_short", length=MIN_PASSWORD_LENGTH)
    lowered = password.lower()
    if account.username in lowered or lowered in _COMMON or len(set(password)) < 4:
        raise PanchayatError("password_too_simple")


def change_password(session: Session, held: StaffSession, current: str, new_password: str) -> None:
    """The account's own new password. Every other session of the account ends; this one stays."""
    account = held.account
    if not secret_matches(current or "", account.password_hash):
        raise PanchayatError("password_wrong")
    check_new_password(account, new_password)
    if secret_matches(new_password, account.password_hash):
        raise PanchayatError("password_unchanged")
    account.password_hash = hash_secret(new_password)
    account.must_change_password = False
    account.one_time_password_expires_at = None
    _end_sessions(session, account, keep=held)
    held.csrf_token = secrets.token_urlsafe(32)
    journal.audit(
        session,
        actor=actor_name(account),
        action="staff_password_changed",
        entity_type="staff_account",
        entity_ref=account.username,
    )


def set_language(held: StaffSession, language: str) -> None:
    if language in ("bn", "en"):
        held.account.language = language


# --- the demo office ---------------------------------------------------------------------

DEMO_ACCOUNTS = (
    ("demo-clerk", "Rina Das (demo clerk)", "clerk"),
    ("demo-pradhan", "Asit Mondal (demo pradhan)", "pradhan"),
)


def ensure_demo_accounts(session: Session, gp_code: int) -> Dict[str, str]:
    """The demo clerk and pradhan of the demo GP, made if missing; a fresh one-time password for
    each that has never signed in (the old one is replaced). Returns {username: password}, which
    the caller prints once; accounts already in use are left alone."""
    passwords: Dict[str, str] = {}
    for username, full_name, role in DEMO_ACCOUNTS:
        account = session.execute(select(StaffAccount).where(StaffAccount.username == username)).scalar_one_or_none()
        if account is None:
            _, passwords[username] = add(session, username, full_name, role, actor="make run", gp_code=gp_code)
        elif account.last_login_at is None and account.active:
            passwords[username] = _set_one_time_password(account, utcnow())
    return passwords
