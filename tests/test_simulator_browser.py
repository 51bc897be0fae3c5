"""The WhatsApp simulator in a real headless Chromium, against the whole served assistant.

`scripts/stack.py simulator` starts the action server, the Rasa server with the WhatsApp
channel on (random credentials, Graph API pointed at the simulator), the notification
worker and the simulator; the test then uses only the page, as a trainer would: it types,
taps buttons and attaches a PDF, and every message goes through the real channel as signed
webhooks. Chromium and its driver come from Debian (`make setup` installs them as root);
nothing is downloaded.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT

pytestmark = pytest.mark.servers
MODEL = ROOT / "models" / "panchayat.tar.gz"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Not 5005/5055 (make run) nor 5105/5155 (tests/test_assistant.py): both may run meanwhile.
RASA_PORT, ACTION_PORT, SIMULATOR_PORT = 5205, 5255, 8290
CITIZEN, EMPLOYEE = "919800000001", "910000000001"
REPLY_SECONDS = 90


def require_browser() -> None:
    """A missing browser fails the test: skipping would hide that the page was never tried."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: run `make setup` (as root it installs Debian's "
                    "chromium and chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("the selenium package is not in .venv: run `make setup`")


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_browser()
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it first)")
    busy = [port for port in (RASA_PORT, ACTION_PORT, SIMULATOR_PORT) if port_in_use(port)]
    if busy:
        pytest.fail(f"ports {busy} are taken; this test needs {RASA_PORT}, {ACTION_PORT} and {SIMULATOR_PORT}")
    var = tmp_path_factory.mktemp("var")
    env = dict(os.environ, PANCHAYAT_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'panchayat.db'}",
               RASA_PORT=str(RASA_PORT), ACTION_PORT=str(ACTION_PORT), SIMULATOR_PORT=str(SIMULATOR_PORT),
               CONSOLE_PORT="8370", CERTIFICATE_SIGNING_KEY="test-signing-key")
    subprocess.run([sys.executable, "scripts/stack.py", "db"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "scripts/stack.py", "simulator"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline, url, seen = time.time() + 300, None, []
    for line in server.stdout:
        seen.append(line)
        found = re.search(r"simulator: open (http://\S+)", line)
        if found:
            url = found.group(1).replace("localhost", "127.0.0.1")
            break
        if time.time() > deadline or server.poll() is not None:
            break
    if url is None:
        server.kill()
        pytest.fail("the assistant with the simulator did not start: " + "".join(seen[-8:]))
    # No secret is printed in full: only the first characters of the app secret.
    assert not any(re.search(r"[0-9a-f]{16,}", line) for line in seen), seen
    yield url, var, env
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    for port in (RASA_PORT, ACTION_PORT, SIMULATOR_PORT):
        assert not port_in_use(port), f"port {port} still answers after the stack stopped"


@pytest.fixture(scope="module")
def driver(stack):
    # One way to start Debian's headless Chromium for every browser test and the screenshots.
    sys.path.insert(0, str(ROOT / "scripts"))
    from console_screenshots import chromium

    browser = chromium(1280, 900)
    yield browser
    browser.quit()


class ChatPage:
    """The simulator page, seen through its data-testid attributes."""

    def __init__(self, driver, url: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url, self.by = driver, url, By
        self.wait = lambda seconds=REPLY_SECONDS: WebDriverWait(
            driver, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])

    def find(self, testid: str, within=None):
        return (within or self.driver).find_element(self.by.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def find_all(self, testid: str, within=None):
        return (within or self.driver).find_elements(self.by.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def open(self, wa_id: str) -> None:
        self.driver.get(f"{self.url}/#{wa_id}")
        self.wait(20).until(lambda d: d.find_element(self.by.TAG_NAME, "body").get_attribute("data-ready"))
        self.wait(20).until(lambda d: self.find("messages").get_attribute("data-phone") == wa_id)

    def switch_to(self, wa_id: str) -> None:
        self.find(f"chat-{wa_id}").click()
        self.wait(20).until(lambda d: self.find("messages").get_attribute("data-phone") == wa_id)
        self.wait(20).until(lambda d: self.find("messages").get_attribute("data-last-seq") is not None)

    def last_seq(self) -> int:
        return int(self.find("messages").get_attribute("data-last-seq") or 0)

    def rows(self, direction: str, after: int = 0):
        return [row for row in self.find_all(f"message-{direction}") if int(row.get_attribute("data-seq")) > after]

    def texts(self, direction: str):
        return [self.find("bubble", row).text for row in self.find_all(f"message-{direction}")]

    def send_text(self, text: str) -> int:
        """Types and sends a message; returns the sequence number replies come after."""
        mark = self.last_seq()
        box = self.find("composer-text")
        box.send_keys(text)
        self.find("send").click()
        self.wait_delivered(mark)
        return mark

    def wait_delivered(self, mark: int) -> None:
        """The phone's own message is on screen and the channel took the signed webhook (200)."""
        def delivered(_driver):
            mine = self.rows("sent", mark)
            if mine and mine[-1].get_attribute("data-status") == "failed":
                raise AssertionError("the channel refused the webhook: " + mine[-1].text)
            return mine and mine[-1].get_attribute("data-status") == "delivered"

        self.wait(30).until(delivered)

    def wait_reply(self, mark: int, contains: str, kind: str = None):
        """The first message from the panchayat after `mark` that contains `contains`."""
        def found(_driver):
            for row in self.rows("received", mark):
                if contains in row.text and (kind is None or row.get_attribute("data-type") == kind):
                    return row
            return False

        try:
            return self.wait().until(found)
        except Exception:
            shown = "\n".join(row.text for row in self.rows("received", mark))
            raise AssertionError(f"no reply containing {contains!r}; the page shows:\n{shown}")


def test_trade_noc_applied_for_and_downloaded_in_the_browser(stack, driver, tmp_path):
    url, var, env = stack
    page = ChatPage(driver, url)
    page.open(CITIZEN)
    mark = page.send_text("নমস্কার")
    page.wait_reply(mark, "নমস্কার!")

    mark = page.send_text("amar trade licence er abedon korte chai")
    page.wait_reply(mark, "ট্রেড এনওসি")
    page.wait_reply(mark, "কোন গ্রাম পঞ্চায়েতের বাসিন্দা")  # a new number names its GP first
    mark = page.send_text("Bagula 1")
    page.wait_reply(mark, "বগুলা-১")
    page.wait_reply(mark, "ব্যবসা বা দোকানের নাম কী?")
    for answer, next_question in (("Maa Kali Bhandar", "কী ধরনের ব্যবসা"), ("mudir dokan", "ঠিকানা"),
                                  ("Bagula bazar, bus stand er pashe", "মালিকের পুরো নাম"),
                                  ("Rahim Sheikh", "কবে শুরু"), ("১/১২/২০২৬", "জায়গার প্রমাণ")):
        mark = page.send_text(answer)
        page.wait_reply(mark, next_question)

    # The proof of premises goes as a PDF through the page's document button.
    deed = tmp_path / "dokan-dolil.pdf"
    deed.write_bytes(b"%PDF-1.4\n% proof of premises\n%%EOF\n")
    mark = page.last_seq()
    page.find("attach-document").send_keys(str(deed))
    page.wait_delivered(mark)
    (sent_document,) = page.rows("sent", mark)
    assert sent_document.get_attribute("data-type") == "document" and "dokan-dolil.pdf" in sent_document.text

    summary = page.wait_reply(mark, "Maa Kali Bhandar", kind="interactive")
    buttons = {button.text: button for button in page.find_all("reply-button", summary)}
    assert len(buttons) == 3 and "জমা দিন" in buttons, list(buttons)
    mark = page.last_seq()
    buttons["জমা দিন"].click()
    page.wait_delivered(mark)
    submitted = page.wait_reply(mark, "আবেদন নম্বর")
    number = re.search(r"TN-\d{4}-\d{6}", submitted.text).group(0)

    approved = subprocess.run([sys.executable, "-m", "panchayat", "applications", "approve", number,
                               "--by", "Rina Biswas"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert approved.returncode == 0, approved.stderr
    if (ROOT / "connectors" / "notifier.py").exists():
        # The notification worker tells the citizen over WhatsApp, inside the 24-hour window.
        page.wait_reply(mark, f"{number} অনুমোদিত")

    mark = page.send_text(f"{number} er certificate download korbo")
    document = page.wait_reply(mark, f"{number}.pdf", kind="document")
    link = page.find("document-link", document)
    assert link.text == f"{number}.pdf"
    assert number in page.find("caption", document).text
    pdf = requests.get(link.get_attribute("href"), timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"


def test_each_phone_sees_only_its_own_chat(stack, driver):
    url, _var, _env = stack
    page = ChatPage(driver, url)
    page.open(CITIZEN)
    mark = page.send_text("নমস্কার")
    page.wait_reply(mark, "নমস্কার!")

    page.switch_to(EMPLOYEE)
    assert page.find("current-phone").text == EMPLOYEE
    mark = page.send_text("hello")
    page.wait_reply(mark, "Hello")
    assert page.texts("sent") and all(text.startswith("hello") for text in page.texts("sent"))
    employee_chat = page.find("messages").text
    assert "নমস্কার" not in employee_chat and "Maa Kali Bhandar" not in employee_chat

    page.switch_to(CITIZEN)
    citizen_sent = page.texts("sent")
    assert any(text.startswith("নমস্কার") for text in citizen_sent)
    assert not any(text.startswith("hello") for text in citizen_sent)

    # Any number can join; its chat starts empty.
    page.find("new-phone-number").send_keys("919800000077")
    page.find("new-phone-name").send_keys("Test Villager")
    page.find("new-phone-add").click()
    page.wait(20).until(lambda d: page.find("messages").get_attribute("data-phone") == "919800000077")
    assert page.find("current-phone-name").text == "Test Villager"
    assert page.rows("sent") == [] and page.rows("received") == []
