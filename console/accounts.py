"""Staff accounts, for the administrator: the list, a new account, a password reset (the one-time
password is shown once, on the page that answers the action) and disabling an account."""

from typing import Any, Optional

from flask import Blueprint, render_template, request, url_for

from console import web
from panchayat import staff
from panchayat.errors import PanchayatError
from panchayat.models import STAFF_ROLES

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _code(name: str) -> Optional[int]:
    typed = web.form_text(name, 12)
    if not typed:
        return None
    if not typed.isdigit():
        raise PanchayatError("bad_code", typed=typed)
    return int(typed)


@bp.get("/")
@web.require("accounts")
def accounts() -> Any:
    return render_template("accounts.html", accounts=staff.list_accounts(web.db_session()), roles=STAFF_ROLES)


@bp.post("/")
@web.require("accounts")
def add() -> Any:
    with web.action(url_for("accounts.accounts")) as done:
        account, password = staff.add(
            web.db_session(),
            web.form_text("username", 40),
            web.form_text("full_name", 120),
            web.form_text("role", 20),
            web.actor(),
            gp_code=_code("gp_code"),
            block_code=_code("block_code"),
            language=web.form_text("language", 2) or "bn",
        )
        return render_template("one_time_password.html", account=account, password=password)
    return done.response


@bp.post("/<username>/reset")
@web.require("accounts")
def reset(username: str) -> Any:
    with web.action(url_for("accounts.accounts")) as done:
        password = staff.reset_password(web.db_session(), username, web.actor())
        return render_template(
            "one_time_password.html", account=staff.find(web.db_session(), username), password=password
        )
    return done.response


@bp.post("/<username>/active")
@web.require("accounts")
def set_active(username: str) -> Any:
    active = request.form.get("active") == "1"
    with web.action(url_for("accounts.accounts")) as done:
        if username == web.me().username and not active:
            raise PanchayatError("staff_self_disable")
        staff.set_active(web.db_session(), username, active, web.actor())
        done("console_account_enabled" if active else "console_account_disabled", username=username)
    return done.response
