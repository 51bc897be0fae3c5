"""What every page of the console shares: the request's database session, the signed-in account,
its language and scope, the form token, and the one way an action reports success or failure.

A page is written as

    @bp.get("/applications/<number>")
    @require("see_cases")
    def application(number):
        found = in_scope(applications.find(db_session(), number).gp_code)  # 404 outside the scope
        ...

and an action as

    @bp.post("/applications/<number>/approve")
    @require("decide")
    def approve(number):
        with action(url_for(...)) as done:
            ...core call...
            done("console_approved", number=number)
        return done.response

`action` commits nothing itself: the request's unit of work commits after the page is built
(`console.app`) or is rolled back whole when the core refuses (a PanchayatError, shown to the
user in their language) or anything else fails.
"""

import functools
from contextlib import contextmanager
from typing import Any, Callable, Collection, FrozenSet, Iterator, Optional, TypeVar

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from panchayat import catalogue, staff
from panchayat.errors import PanchayatError
from panchayat.models import StaffAccount

LANGUAGE_COOKIE = "panchayat_console_lang"


def db_session() -> Session:
    return g.db


def me() -> StaffAccount:
    return g.staff.account


def signed_in() -> bool:
    return g.get("staff") is not None


def lang() -> str:
    if signed_in():
        return me().language
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in catalogue.LANGUAGES else "bn"


def t(key: str, **params: Any) -> str:
    """A console text in the reader's language (panchayat/texts/console.yml and the rest of the catalogue)."""
    return catalogue.text(key, lang(), **params)


def scope() -> FrozenSet[int]:
    """The GP codes the signed-in account may see."""
    if "scope" not in g:
        g.scope = staff.scope_gp_codes(db_session(), me())
    return g.scope


def block_scope() -> FrozenSet[int]:
    if "block_scope" not in g:
        g.block_scope = staff.scope_block_codes(db_session(), me())
    return g.block_scope


def in_scope(gp_code: Optional[int]) -> Optional[int]:
    """404, not 403, for a record of another GP: the answer must not tell that it exists."""
    if gp_code not in scope():
        abort(404)
    return gp_code


Record = TypeVar("Record")


def record_in_scope(find: Callable[[Session, str], Record], number: str) -> Record:
    """The record a URL names (`find` is the core's lookup by typed number), or 404 when it is unknown
    or belongs to a GP outside the account's scope: the two answers must look alike."""
    try:
        found: Any = find(db_session(), number)
    except PanchayatError:
        abort(404)
    in_scope(found.gp_code)
    return found


def query_choice(name: str, allowed: Collection[str]) -> str:
    """A filter of the query string, kept only when it is one of `allowed` ("" otherwise)."""
    value = (request.args.get(name) or "").strip()
    return value if value in allowed else ""


def may(what: str) -> bool:
    return signed_in() and staff.may(me(), what)


def require(what: Optional[str] = None) -> Callable:
    """The page needs a signed-in account whose password is its own, and (if given) the permission."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not signed_in():
                return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
            if me().must_change_password:
                return redirect(url_for("auth.password"))
            if what is not None and not staff.may(me(), what):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return wrap


def actor() -> str:
    return staff.actor_name(me())


class Done:
    def __init__(self, back: str) -> None:
        self.back = back
        self.response: Response = redirect(back)

    def __call__(self, key: str, to: Optional[str] = None, **params: Any) -> None:
        flash(t(key, **params), "ok")
        if to:
            self.response = redirect(to)


@contextmanager
def action(back: str) -> Iterator[Done]:
    """One staff action: on a PanchayatError everything it wrote is rolled back and the user sees
    the reason in their language on the page they came from."""
    done = Done(back)
    try:
        yield done
        db_session().flush()
    except PanchayatError as error:
        db_session().rollback()
        flash(error.message(lang()), "error")
        done.response = redirect(back)


def masked_phone(number: Optional[str]) -> str:
    """All but the last four digits hidden (`••••••••0001`): staff tell citizens apart, they do not call them
    from the console, and a page left open on an office screen shows no one's number."""
    number = number or ""
    if len(number) <= 4:
        return "\u2022" * len(number)
    return "\u2022" * (len(number) - 4) + number[-4:]


def form_text(name: str, limit: int = 2000) -> str:
    return (request.form.get(name) or "").strip()[:limit]
