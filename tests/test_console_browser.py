"""The staff console in a real headless Chromium, against the whole served assistant.

`scripts/stack.py simulator` starts everything `make simulator` starts (action server, Rasa
server with the WhatsApp channel, notifier, the simulator playing Meta's part, and the staff
console) on ports of its own, over a fresh SQLite database prepared by `scripts/stack.py db`,
whose printed one-time passwords the test reads as a newcomer reads them from `make run`.

A villager on a new phone applies for a trade NOC over WhatsApp; in the browser the demo clerk
(first login: new password) finds it in the queue and starts the review, the demo pradhan
approves it; the approval reaches the phone, and the certificate PDF follows `ডাউনলোড NUMBER`.
Then the villager complains about a drain, the clerk assigns and resolves it in the browser, the
villager rates it 5; and the clerk imports a payroll CSV through the upload preview. Every
outcome is read from the database and from what reached the phone.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import ROOT
from tests.test_simulator_browser import MODEL, port_in_use, require_browser

pytestmark = pytest.mark.servers
if str(ROOT / "scripts") not in sys.path:
    sys.path.append(str(ROOT / "scripts"))
import console_screenshots as browser_helpers  # noqa: E402
from console_screenshots import NEW_PASSWORD, Console  # noqa: E402

# Not the ports of make run, tests/test_assistant.py, the simulator browser test or the conversations.
RASA_PORT, ACTION_PORT, SIMULATOR_PORT, CONSOLE_PORT = 5405, 5455, 8490, 8270
VILLAGER = "919800004321"
REPLY_SECONDS = 120
_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_browser()
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it first)")
    busy = [port for port in (RASA_PORT, ACTION_PORT, SIMULATOR_PORT, CONSOLE_PORT) if port_in_use(port)]
    if busy:
        pytest.fail(f"ports {busy} are taken; this test needs {RASA_PORT}, {ACTION_PORT}, {SIMULATOR_PORT} "
                    f"and {CONSOLE_PORT}")
    var = tmp_path_factory.mktemp("var")
    database_url = f"sqlite:///{var / 'panchayat.db'}"
    env = dict(os.environ, PANCHAYAT_VAR_DIR=str(var), DATABASE_URL=database_url, RASA_PORT=str(RASA_PORT),
               ACTION_PORT=str(ACTION_PORT), SIMULATOR_PORT=str(SIMULATOR_PORT), CONSOLE_PORT=str(CONSOLE_PORT),
               CERTIFICATE_SIGNING_KEY="test-signing-key")
    passwords = browser_helpers.demo_passwords(env)
    server = subprocess.Popen([sys.executable, "scripts/stack.py", "simulator"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline, sim, console, seen = time.time() + 420, None, None, []
    for line in server.stdout:
        seen.append(line)
        found = re.search(r"console: staff console at http://localhost:(\d+)", line)
        if found:
            console = f"http://127.0.0.1:{found.group(1)}"
        found = re.search(r"simulator: open http://localhost:(\d+)", line)
        if found:
            sim = f"http://127.0.0.1:{found.group(1)}"
            break
        if time.time() > deadline or server.poll() is not None:
            break
    if sim is None or console is None:
        server.kill()
        pytest.fail("the assistant with the simulator and the console did not start: " + "".join(seen[-10:]))
    # The servers' later lines go on being read, so that the pipe never fills.
    threading.Thread(target=lambda: seen.extend(server.stdout), daemon=True).start()
    yield SimpleNamespace(sim=sim, console=console, database_url=database_url, env=env, passwords=passwords,
                          var=var, log=seen)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    for port in (RASA_PORT, ACTION_PORT, SIMULATOR_PORT, CONSOLE_PORT):
        assert not port_in_use(port), f"port {port} still answers after the stack stopped"


@pytest.fixture(scope="module")
def driver(stack):
    browser = browser_helpers.chromium()
    yield browser
    browser.quit()


# -- the villager's phone (scripts/conversations.py's Phone: the simulator's HTTP API) --

def folded(text: str) -> str:
    return " ".join(str(text).translate(_BENGALI_DIGITS).casefold().split())


class Villager:
    def __init__(self, stack, wa_id: str) -> None:
        import conversations

        self.conversations = conversations
        self.phone = conversations.Phone(stack, wa_id)
        self.stack = stack

    def transcript(self, since: int = 0) -> str:
        return "\n".join("< " + self.conversations.text_of(entry)[:300] for entry in self.phone.received[since:])

    def wait_for(self, mark: int, *contains: str, kind: str = None, seconds: float = REPLY_SECONDS):
        """The first message to the phone after `mark` (an index into what it received) that holds
        every one of `contains` (digits in either script)."""
        wanted = [folded(text) for text in contains]
        deadline = time.time() + seconds
        while True:
            self.phone.new_messages()
            for entry in self.phone.received[mark:]:
                text = folded(self.conversations.text_of(entry))
                if all(part in text for part in wanted) and (kind is None or entry["type"] == kind):
                    return entry
            if time.time() > deadline:
                raise AssertionError(f"the phone got no message containing {' and '.join(map(repr, contains))} "
                                     f"within {seconds:.0f}s; it got:\n{self.transcript(mark) or '(nothing)'}")
            time.sleep(0.3)

    def say(self, text: str, expect: str = None):
        mark = len(self.phone.received)
        self.phone.wait_processed(self.phone.send({"type": "text", "body": text}), timeout=REPLY_SECONDS)
        return self.wait_for(mark, expect) if expect else None

    def tap(self, title: str, expect: str = None):
        offered = next((self.conversations.options_of(e) for e in reversed(self.phone.received)
                        if self.conversations.options_of(e)), [])
        chosen = [option for option in offered if option[1] == title]
        assert chosen, f"no button {title!r} to tap; offered {[o[1] for o in offered]}:\n{self.transcript()}"
        kind, title, reply_id = chosen[0]
        mark = len(self.phone.received)
        self.phone.wait_processed(self.phone.send({"type": kind, "id": reply_id, "title": title}),
                                  timeout=REPLY_SECONDS)
        return self.wait_for(mark, expect) if expect else None

    def send_file(self, kind: str, data: bytes, filename: str, caption: str = "", expect: str = None):
        mark = len(self.phone.received)
        self.phone.wait_processed(self.phone.upload(kind, data, filename, caption), timeout=REPLY_SECONDS)
        return self.wait_for(mark, expect) if expect else None

    def share_location(self, latitude: float, longitude: float, name: str):
        self.phone.wait_processed(self.phone.send({"type": "location", "latitude": latitude,
                                                   "longitude": longitude, "name": name}), timeout=REPLY_SECONDS)


# -- the database, as the office's records --

def newest(stack, model, wa_id: str):
    from panchayat import db
    from panchayat.models import Citizen

    with db.session_scope(stack.database_url) as session:
        citizen = session.query(Citizen).filter_by(wa_id=wa_id).first()
        if citizen is None:
            return None
        row = session.query(model).filter_by(citizen_id=citizen.id).order_by(model.id.desc()).first()
        return None if row is None else {c.name: getattr(row, c.name) for c in model.__table__.columns}


def status_of(stack, model, number: str) -> dict:
    from panchayat import db

    with db.session_scope(stack.database_url) as session:
        row = session.query(model).filter_by(number=number).one()
        return {c.name: getattr(row, c.name) for c in model.__table__.columns}


def wait_until(check, what: str, seconds: float = 30):
    deadline = time.time() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"{what}: not so after {seconds:.0f}s")
        time.sleep(0.3)


def test_an_application_and_a_complaint_go_from_whatsapp_through_the_console_and_back(stack, driver, tmp_path):
    from panchayat.models import Application, Employee, Grievance, PayrollLine

    villager = Villager(stack, VILLAGER)
    console = Console(driver, stack.console)

    # The villager applies for a trade NOC on WhatsApp (a new number names its GP first).
    villager.say("amar trade licence er abedon korte chai", expect="কোন গ্রাম পঞ্চায়েতের বাসিন্দা")
    villager.say("Bagula 1", expect="ব্যবসা বা দোকানের নাম কী?")
    for answer, next_question in (("Maa Kali Bhandar", "কী ধরনের ব্যবসা"), ("mudir dokan", "ঠিকানা"),
                                  ("Bagula bazar, bus stand er pashe", "মালিকের পুরো নাম"),
                                  ("Rahim Sheikh", "কবে শুরু"), ("১/১২/২০২৬", "জায়গার প্রমাণ")):
        villager.say(answer, expect=next_question)
    villager.send_file("document", villager.conversations.PDF, "dokan-dolil.pdf", expect="Maa Kali Bhandar")
    villager.tap("জমা দিন", expect="আবেদন নম্বর")
    filed = newest(stack, Application, VILLAGER)
    assert filed is not None and filed["service"] == "trade_noc", f"no trade NOC filed: {filed}"
    number = filed["number"]
    villager.wait_for(0, number)  # the confirmation names it
    assert filed["status"] == "submitted"

    # The clerk: first login with the printed one-time password, a password of her own, the queue.
    clerk_password = stack.passwords["demo-clerk"]
    console.log_in("demo-clerk", clerk_password)
    console.set_password(clerk_password, NEW_PASSWORD)
    console.open("/applications/")
    console.follow("a.application-link", f"application {number} in the clerk's queue", text=number)
    assert number in console.page_text(600), "the application's page names it"
    assert not console.all("form#approve-form"), "a clerk must not see the approve button"
    mark = len(villager.phone.received)
    console.submit("form#review-form", what=f"starting the review of {number}")
    assert status_of(stack, Application, number)["status"] == "under_review", console.page_text()
    villager.wait_for(mark, number, "যাচাই করা হচ্ছে")  # the notifier tells the villager
    console.log_out()

    # The pradhan approves.
    pradhan_password = stack.passwords["demo-pradhan"]
    console.log_in("demo-pradhan", pradhan_password)
    console.set_password(pradhan_password, NEW_PASSWORD)
    console.open(f"/applications/{number}")
    approve_mark = len(villager.phone.received)
    console.submit("form#approve-form", what=f"approving {number}")
    assert status_of(stack, Application, number)["status"] == "approved", console.page_text()
    # The certificate is there for the office too.
    link = console.need("a#certificate-pdf", "the certificate link after the approval")
    pdf = requests.get(urljoin(driver.current_url, link.get_attribute("href")), cookies=console.cookies(), timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), (pdf.status_code, pdf.content[:100])
    console.log_out()

    # The notifier tells the villager, who asks for the certificate as the message says.
    approval = villager.wait_for(approve_mark, number, "অনুমোদিত হয়েছে")
    assert "ডাউনলোড" in villager.conversations.text_of(approval), "the approval says how to get the certificate"
    mark = len(villager.phone.received)
    villager.say(f"ডাউনলোড {number}")  # as the approval message says
    document = villager.wait_for(mark, f"{number}.pdf", kind="document")
    assert document.get("media_url"), document
    media = requests.get(stack.sim + document["media_url"], timeout=30)
    assert media.status_code == 200 and media.content.startswith(b"%PDF"), (media.status_code, media.content[:100])
    assert media.headers["Content-Type"] == "application/pdf"

    # A complaint from the same phone (its GP is on record now).
    villager.say("amader parar nordoma ta bondho hoye geche 1 soptaho dhore jol jome ache khub gondho")
    villager.send_file("image", villager.conversations.JPEG, "drain.jpg", "drain er obostha")
    villager.share_location(23.1412, 88.6135, "Purba para, Bagula")
    villager.say("joma din", expect="GR-")  # the complaint's number
    complaint = newest(stack, Grievance, VILLAGER)
    assert complaint is not None, f"no complaint filed:\n{villager.transcript()}"
    number = complaint["number"]
    villager.wait_for(0, number)
    assert complaint["status"] == "open" and complaint["category"] == "drainage", complaint

    # The clerk assigns and resolves it in the browser.
    console.log_in("demo-clerk", NEW_PASSWORD)
    console.open("/complaints/")
    console.follow("a.complaint-link", f"complaint {number} in the queue", text=number)
    console.submit("form#assign-form", {"assignee": "Ratan Mistri"}, f"assigning {number}")
    assert status_of(stack, Grievance, number)["assigned_to"] == "Ratan Mistri"
    mark = len(villager.phone.received)
    console.submit("form#resolve-form", {"note": "নর্দমা পরিষ্কার করা হয়েছে"}, f"resolving {number}")
    resolved = status_of(stack, Grievance, number)
    assert resolved["status"] == "resolved" and resolved["resolution_note"] == "নর্দমা পরিষ্কার করা হয়েছে", resolved

    # The villager is asked for a rating, and gives one.
    villager.wait_for(mark, "নর্দমা পরিষ্কার করা হয়েছে")
    villager.say("5", expect="নথিভুক্ত")
    wait_until(lambda: status_of(stack, Grievance, number)["rating"] == 5, f"the rating 5 of {number} stored")

    # Payroll: the clerk uploads a month's sheet, sees the preview, confirms.
    month = date.today().strftime("%Y-%m")
    sheet = tmp_path / f"payroll-{month}.csv"
    sheet.write_text(browser_helpers.payroll_csv(month), encoding="utf-8")

    def lines():
        from panchayat import db

        with db.session_scope(stack.database_url) as session:
            return {(code, line.component): line.amount_paise for line, code in
                    session.query(PayrollLine, Employee.code).join(Employee).filter(PayrollLine.month == month)}

    assert lines() == {}, f"the demo data already holds {month}"
    console.open("/payroll/")
    upload = console.need('form#payroll-upload-form input[type="file"]', "the payroll upload's file input")
    console.submit("form#payroll-upload-form", {upload.get_attribute("name"): str(sheet)}, "uploading payroll")
    assert lines() == {}, "the upload alone must change nothing before the confirmation"
    assert "DEMO-EMP-003" in console.page_text(5000), "the preview shows the sheet's rows"
    console.submit("form#confirm-import-form", what="confirming the payroll import")
    after = lines()
    for code, basic in (("DEMO-EMP-001", 2980000), ("DEMO-EMP-002", 2630000), ("DEMO-EMP-003", 3650000)):
        assert after.get((code, "basic_pay")) == basic, f"{code}'s basic pay for {month}: {after}"
    assert after[("DEMO-EMP-002", "professional_tax")] == 15000 and len(after) == 15, after
    console.log_out()
