"""The console's Flask app: one database unit of work per request, the signed-in session from its
cookie, the form token checked on every POST, and headers that keep pages out of caches and frames.

Why Flask: the core is synchronous SQLAlchemy 1.4 (as Rasa pins it), and a back office is forms
and tables rendered on the server; Flask's request-per-thread model calls the core directly, with
Jinja2's escaping on every page and a test client for the route tests. Its one web dependency,
Werkzeug, is already in the pinned environment. waitress serves it (`python -m console`).
"""

import hashlib
import hmac
import logging
import os
import secrets
from datetime import timedelta
from typing import Any, Dict, Optional

from flask import Flask, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from console import accounts, applications, auth, complaints, dashboard, guest_houses, payroll, trainer, web
from panchayat import catalogue, config, db, signing, staff

SESSION_COOKIE = "panchayat_staff"
log = logging.getLogger(__name__)


def _flask_secret() -> bytes:
    """Signs Flask's own cookie (flash messages and the login form's token only; the signed-in
    session is a random token looked up in the database)."""
    return hmac.new(signing.signing_key(), b"panchayat-console-cookie", hashlib.sha256).digest()


def csrf_token() -> str:
    """The form token of this browser: the signed-in session's, or before login one kept in the cookie."""
    if web.signed_in():
        return g.staff.csrf_token
    if "login_csrf" not in session:
        session["login_csrf"] = secrets.token_urlsafe(32)
    return session["login_csrf"]


def create_app(database_url: Optional[str] = None, testing: bool = False) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_flask_secret(),
        SESSION_COOKIE_NAME="panchayat_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Sent only over HTTPS when the console is served over HTTPS (behind nginx in production).
        SESSION_COOKIE_SECURE=os.environ.get("CONSOLE_SECURE_COOKIES") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=staff.STAFF_SESSION_HOURS),
        # CSV files and nothing larger; a bigger body is refused before it is read.
        MAX_CONTENT_LENGTH=config.int_setting("CONSOLE_MAX_UPLOAD_BYTES", 2 * 1024 * 1024),
        TESTING=testing,
    )
    if os.environ.get("CONSOLE_BEHIND_PROXY") == "1":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    url = database_url or config.database_url()
    make_session = sessionmaker(bind=db.get_engine(url), future=True, expire_on_commit=False)

    @app.before_request
    def open_unit_of_work() -> Any:
        g.db = make_session()
        g.staff = staff.session_for(g.db, request.cookies.get(SESSION_COOKIE))
        if request.method == "POST":
            if g.staff is None and request.endpoint not in ("auth.login", "auth.language"):
                # A form sent after the session ended (idle, logged out elsewhere): sign in again.
                flash(web.t("console_session_expired"), "error")
                return redirect(url_for("auth.login"))
            sent = request.form.get("csrf_token", "")
            expected = csrf_token()
            if not sent or not hmac.compare_digest(sent, expected):
                abort(400, description="csrf")

    @app.after_request
    def finish(response: Any) -> Any:
        unit = g.pop("db", None)
        if unit is not None:
            try:
                if response.status_code < 400:
                    unit.commit()
                else:
                    unit.rollback()
            finally:
                unit.close()
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        # A citizen's document shown inline may sit in a frame of our own page; nothing else may be framed.
        framed = response.mimetype == "application/pdf" and "attachment" not in response.headers.get(
            "Content-Disposition", ""
        )
        response.headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-src 'self'; object-src 'self'; form-action 'self'; base-uri 'none'; "
            + ("frame-ancestors 'self'" if framed else "frame-ancestors 'none'")
        )
        return response

    @app.teardown_request
    def close(_error: Optional[BaseException]) -> None:
        unit = g.pop("db", None)
        if unit is not None:
            unit.rollback()
            unit.close()

    @app.errorhandler(HTTPException)
    def error_page(error: HTTPException) -> Any:
        key = {
            400: "console_error_400",
            403: "console_error_403",
            404: "console_error_404",
            413: "console_error_413",
        }.get(error.code or 500, "console_error_500")
        if error.code == 400 and error.description == "csrf":
            key = "console_error_csrf"
        return render_template("error.html", message=web.t(key)), error.code

    @app.errorhandler(Exception)
    def failure(error: Exception) -> Any:
        # The operator gets the kind and the place; the page gets a plain sentence and no trace.
        from panchayat.errors import log_failure

        log_failure(log, f"console {request.method} {request.url_rule}", error)
        return render_template("error.html", message=web.t("console_error_500")), 500

    @app.context_processor
    def page_helpers() -> Dict[str, Any]:
        language = web.lang()
        return {
            "t": web.t,
            "lang": language,
            "me": web.me() if web.signed_in() else None,
            "may": web.may,
            "csrf_token": csrf_token,
            "day": lambda value: catalogue.day(value, language) if value else "",
            "rupees": lambda paise: catalogue.rupees(paise or 0, language),
            "digits": lambda value: catalogue.digits(value, language),
            "localised": lambda en, bn: catalogue.localised(en, bn, language),
        }

    for module in (auth, accounts, dashboard, applications, complaints, guest_houses, payroll, trainer):
        app.register_blueprint(module.bp)
    return app
