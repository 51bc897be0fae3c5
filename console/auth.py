"""Signing in and out, the first-login password change, and the language switch."""

from typing import Any, Optional
from urllib.parse import urlparse

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, send_from_directory, url_for

from console import web
from panchayat import staff
from panchayat.documents import FONTS as FONTS_DIR
from panchayat.errors import PanchayatError

bp = Blueprint("auth", __name__)

LOGIN_MESSAGES = {
    staff.BAD_CREDENTIALS: "console_login_failed",
    staff.LOCKED: "console_login_locked",
    staff.RATE_LIMITED: "console_login_rate_limited",
    staff.EXPIRED: "console_login_expired",
}


def _home() -> str:
    account = web.me()
    if staff.may(account, "see_cases"):
        return url_for("dashboard.dashboard")
    if staff.may(account, "accounts"):
        return url_for("accounts.accounts")
    if staff.may(account, "train"):
        return url_for("trainer.inbox")
    return url_for("auth.password")


def _safe_next(target: Optional[str]) -> Optional[str]:
    """Only a path of this site: a login link must not send anyone elsewhere."""
    if not target:
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def index() -> Any:
    if not web.signed_in():
        return redirect(url_for("auth.login"))
    if web.me().must_change_password:
        return redirect(url_for("auth.password"))
    return redirect(_home())


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if web.signed_in():
            return redirect(url_for("auth.index"))
        return render_template("login.html", next=_safe_next(request.args.get("next")))
    # The client address as the server saw it (ProxyFix puts the browser's there behind nginx).
    result = staff.log_in(
        web.db_session(),
        web.form_text("username", 40),
        request.form.get("password", "")[:200],
        request.remote_addr or "unknown",
    )
    if result.outcome != staff.LOGGED_IN:
        # The failure counts are written even though the login failed.
        web.db_session().commit()
        flash(web.t(LOGIN_MESSAGES[result.outcome]), "error")
        return render_template("login.html", next=_safe_next(request.form.get("next"))), 401
    target = _safe_next(request.form.get("next")) or url_for("auth.index")
    if result.account is not None and result.account.must_change_password:
        target = url_for("auth.password")
    response = make_response(redirect(target))
    response.set_cookie(
        "panchayat_staff",
        result.token or "",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        max_age=staff.STAFF_SESSION_HOURS * 3600,
    )
    return response


@bp.post("/logout")
def logout() -> Any:
    if web.signed_in():
        staff.log_out(web.db_session(), g.staff)
    response = make_response(redirect(url_for("auth.login")))
    response.delete_cookie("panchayat_staff")
    return response


@bp.route("/password", methods=["GET", "POST"])
def password() -> Any:
    if not web.signed_in():
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        new = request.form.get("new_password", "")[:200]
        if new != request.form.get("repeat_password", "")[:200]:
            flash(web.t("console_password_mismatch"), "error")
            return render_template("password.html"), 400
        try:
            staff.change_password(web.db_session(), g.staff, request.form.get("current_password", "")[:200], new)
        except PanchayatError as error:
            web.db_session().rollback()
            flash(error.message(web.lang()), "error")
            return render_template("password.html"), 400
        flash(web.t("console_password_changed"), "ok")
        return redirect(_home())
    return render_template("password.html")


@bp.post("/language")
def language() -> Any:
    chosen = request.form.get("language", "")
    back = _safe_next(request.form.get("back")) or url_for("auth.index")
    response = make_response(redirect(back))
    if web.signed_in():
        staff.set_language(g.staff, chosen)
    elif chosen in ("bn", "en"):
        response.set_cookie(
            web.LANGUAGE_COOKIE,
            chosen,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            max_age=365 * 24 * 3600,
        )
    return response


@bp.get("/healthz")
def health() -> Any:
    return {"status": "ok"}


@bp.get("/fonts/<name>")
def font(name: str) -> Any:
    """The shipped Noto fonts, so that Bengali shows on office PCs without them."""
    if not name.endswith(".ttf"):
        return ("", 404)
    return send_from_directory(FONTS_DIR, name, max_age=7 * 24 * 3600)
