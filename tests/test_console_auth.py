"""The console's front door: login, lockout, rate limit, sessions, CSRF, first-login password
change, the language switch, roles and the accounts page; on SQLite and PostgreSQL."""
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from panchayat import db, staff
from panchayat.models import AuditLog, StaffAccount, StaffSession
from panchayat.seed import DEMO_GP


def _login_page_token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def _new_account(url, username="rina", role="clerk", gp_code=DEMO_GP, block_code=None):
    with db.session_scope(url) as session:
        _, password = staff.add(session, username, "Rina Das", role, "test", gp_code=gp_code, block_code=block_code,
                                 language="en")
    return password


def test_first_login_must_change_the_one_time_password(console):
    password = _new_account(console.url)
    client = console.anonymous()
    token = _login_page_token(client)
    answer = client.post("/login", data={"username": "rina", "password": password, "csrf_token": token})
    assert answer.status_code == 302 and answer.location.endswith("/password")
    # Every case page sends a one-time password holder back to the password form.
    assert client.get("/applications/").location.endswith("/password")
    page = client.get("/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    weak = client.post("/password", data={"current_password": password, "new_password": "rina123456",
                                          "repeat_password": "rina123456", "csrf_token": token})
    assert weak.status_code == 400 and "too easy" in weak.get_data(as_text=True)
    done = client.post("/password", data={"current_password": password, "new_password": "Green-paddy-2026",
                                          "repeat_password": "Green-paddy-2026", "csrf_token": token})
    assert done.status_code == 302
    # The form token changes with the password; the old one is refused.
    assert client.post("/language", data={"language": "en", "csrf_token": token}).status_code == 400
    assert client.get("/applications/").status_code == 200
    with db.session_scope(console.url) as session:
        account = staff.find(session, "rina")
        assert not account.must_change_password and password not in account.password_hash
        actions = set(session.execute(select(AuditLog.action).where(AuditLog.entity_ref == "rina")).scalars())
    assert {"staff_added", "staff_login", "staff_password_changed"} <= actions


def test_wrong_passwords_lock_the_account_and_say_the_same_as_an_unknown_name(console):
    password = _new_account(console.url)
    client = console.anonymous()
    token = _login_page_token(client)
    unknown = client.post("/login", data={"username": "nobody", "password": "x", "csrf_token": token})
    wrong = client.post("/login", data={"username": "rina", "password": "x", "csrf_token": token})
    assert unknown.status_code == wrong.status_code == 401
    message = "Wrong username or password"
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)
    for _ in range(staff.STAFF_MAX_FAILED_LOGINS - 1):
        client.post("/login", data={"username": "rina", "password": "x", "csrf_token": token})
    locked = client.post("/login", data={"username": "rina", "password": password, "csrf_token": token})
    assert locked.status_code == 401 and "locked" in locked.get_data(as_text=True)
    with db.session_scope(console.url) as session:
        account = staff.find(session, "rina")
        assert account.locked_until is not None
        # After the lock has run out, the right password works again.
        account.locked_until = datetime.utcnow() - timedelta(seconds=1)
    assert client.post("/login", data={"username": "rina", "password": password,
                                       "csrf_token": token}).status_code == 302


def test_many_failures_from_one_client_are_refused_before_any_password_is_checked(console, monkeypatch):
    password = _new_account(console.url)
    monkeypatch.setattr(staff, "STAFF_CLIENT_MAX_FAILURES", 3)
    client = console.anonymous()
    token = _login_page_token(client)
    for name in ("a1x", "b2y", "c3z"):
        client.post("/login", data={"username": name, "password": "x", "csrf_token": token})
    answer = client.post("/login", data={"username": "rina", "password": password, "csrf_token": token})
    assert answer.status_code == 401 and "Too many failed logins" in answer.get_data(as_text=True)


def test_login_form_and_every_action_need_the_form_token(console):
    password = _new_account(console.url)
    client = console.anonymous()
    assert client.post("/login", data={"username": "rina", "password": password}).status_code == 400
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    assert browser.post_raw("/logout").status_code == 400
    assert browser.post_raw("/language", {"language": "bn", "csrf_token": "forged"}).status_code == 400
    assert browser.get("/applications/").status_code == 200


def test_sessions_end_at_logout_idle_time_and_when_the_account_is_disabled(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP, username="rina")
    assert browser.get("/applications/").status_code == 200
    with db.session_scope(console.url) as session:
        held = session.execute(select(StaffSession).join(StaffAccount).where(
            StaffAccount.username == "rina", StaffSession.ended_at.is_(None))).scalar_one()
        held.last_seen_at = datetime.utcnow() - timedelta(minutes=staff.STAFF_IDLE_MINUTES + 1)
    assert browser.get("/applications/").location.startswith("/login")

    again = console.sign_in("clerk", gp_code=DEMO_GP, username="mita")
    with db.session_scope(console.url) as session:
        staff.set_active(session, "mita", False, "test")
    assert again.get("/applications/").location.startswith("/login")

    third = console.sign_in("clerk", gp_code=DEMO_GP, username="tapas")
    token = third.csrf()
    assert third.post("/logout").status_code == 302
    assert third.get("/applications/").location.startswith("/login")
    # A form sent after the session ended is not carried out: the user is asked to log in again.
    late = third.post_raw("/logout", {"csrf_token": token}, follow_redirects=True)
    assert "Your session has ended" in late.get_data(as_text=True)
    cookie = third.client.get_cookie("panchayat_staff")
    assert cookie is None or not cookie.value


def test_session_cookie_is_http_only_and_holds_only_a_random_token(console):
    password = _new_account(console.url)
    client = console.anonymous()
    token = _login_page_token(client)
    answer = client.post("/login", data={"username": "rina", "password": password, "csrf_token": token})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = client.get_cookie("panchayat_staff").value
    with db.session_scope(console.url) as session:
        stored = session.execute(select(StaffSession.token_hash)).scalars().all()
    assert value not in stored and len(value) >= 40


def test_language_is_switched_per_user(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP, language="en")
    assert "Log out" in browser.get("/applications/").get_data(as_text=True)
    browser.post("/language", {"language": "bn"})
    assert "লগ আউট" in browser.get("/applications/").get_data(as_text=True)
    other = console.sign_in("pradhan", gp_code=DEMO_GP, language="en")
    assert "Log out" in other.get("/applications/").get_data(as_text=True)


def test_a_login_link_never_sends_anyone_to_another_site(console):
    password = _new_account(console.url)
    client = console.anonymous()
    token = _login_page_token(client)
    with db.session_scope(console.url) as session:
        account = staff.find(session, "rina")
        account.must_change_password = False
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        answer = client.post("/login", data={"username": "rina", "password": password, "csrf_token": token,
                                             "next": target})
        assert answer.status_code == 302 and answer.location == "/", target
        client.post("/logout", data={"csrf_token": re.search(
            r'name="csrf_token" value="([^"]+)"', client.get("/password").get_data(as_text=True)).group(1)})


def test_only_the_administrator_manages_accounts_and_sees_each_password_once(console):
    clerk = console.sign_in("clerk", gp_code=DEMO_GP)
    assert clerk.get("/accounts/").status_code == 403
    assert clerk.post("/accounts/", {"username": "x1x", "full_name": "X", "role": "clerk"}).status_code == 403
    admin = console.sign_in("administrator")
    page = admin.post("/accounts/", {"username": "sima", "full_name": "Sima Roy", "role": "pradhan",
                                     "gp_code": str(DEMO_GP), "language": "bn"})
    shown = re.search(r'id="one-time-password">([^<]+)<', page.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", shown)
    listing = admin.get("/accounts/").get_data(as_text=True)
    assert "sima" in listing and shown not in listing
    # A clerk without a GP is refused with the reason, and nothing is made.
    refused = admin.post("/accounts/", {"username": "nogp", "full_name": "No GP", "role": "clerk"},
                         follow_redirects=True)
    assert "needs a GP code" in refused.get_data(as_text=True)
    with db.session_scope(console.url) as session:
        assert session.execute(select(StaffAccount).where(StaffAccount.username == "nogp")).first() is None
        audit = session.execute(select(AuditLog).where(AuditLog.action == "staff_added",
                                                       AuditLog.entity_ref == "sima")).scalar_one()
        assert "Test Administrator" in audit.actor
    assert admin.post("/accounts/sima/active", {"active": "0"}).status_code == 302
    assert admin.post(f"/accounts/{admin.username}/active", {"active": "0"},
                      follow_redirects=True).get_data(as_text=True).count("cannot disable your own") == 1


def test_pages_send_no_trace_and_keep_out_of_caches_and_frames(console):
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    answer = browser.get("/no/such/page")
    assert answer.status_code == 404 and "Traceback" not in answer.get_data(as_text=True)
    page = browser.get("/applications/")
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_demo_accounts_get_a_password_until_first_used(database):
    with db.session_scope(database) as session:
        first = staff.ensure_demo_accounts(session, DEMO_GP)
    assert set(first) == {"demo-clerk", "demo-pradhan"}
    with db.session_scope(database) as session:
        again = staff.ensure_demo_accounts(session, DEMO_GP)
        assert again["demo-clerk"] != first["demo-clerk"]
        staff.find(session, "demo-clerk").last_login_at = datetime.utcnow()
    with db.session_scope(database) as session:
        assert set(staff.ensure_demo_accounts(session, DEMO_GP)) == {"demo-pradhan"}
