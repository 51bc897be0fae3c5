"""Screenshots of the staff console for the README (docs/console/*.png), in headless Chromium.

    .venv/bin/python scripts/console_screenshots.py [--out docs/console] [--port 8271]

Starts only the console (`python -m console`) on a fresh SQLite database with the demo data
(`scripts/stack.py db`, whose printed one-time passwords it reads), signs in as the demo clerk,
the demo pradhan (for the decision buttons) and a block officer made for the purpose with
`python -m panchayat staff add`, and saves 1366x768 PNGs. Nothing is downloaded: Chromium and
its driver are Debian's (`make setup`).

The browser helpers here (`chromium`, `Console`, `demo_passwords`) also drive the console in
tests/test_console_browser.py.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 1366, 768
DEMO_PASSWORD = re.compile(r"console: demo account (\S+), one-time password (\S+)")
STAFF_PASSWORD = re.compile(r"one-time password: (\S+)")
# What every demo account's password becomes at its first login (10+ characters, not the name).
NEW_PASSWORD = "Kalboishakhi-2026"


def demo_passwords(env: Dict[str, str]) -> Dict[str, str]:
    """Runs `scripts/stack.py db` as `make run` does; returns the one-time passwords it printed."""
    done = subprocess.run([PYTHON, "scripts/stack.py", "db"], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/stack.py db failed ({done.returncode}): {done.stderr[-2000:]}")
    passwords = dict(DEMO_PASSWORD.findall(done.stdout))
    if not {"demo-clerk", "demo-pradhan"} <= set(passwords):
        raise RuntimeError("scripts/stack.py db printed no one-time password for demo-clerk and demo-pradhan:\n"
                           + done.stdout)
    return passwords


def add_staff(env: Dict[str, str], username: str, *arguments: str) -> str:
    """`python -m panchayat staff add USERNAME ...`; returns the printed one-time password."""
    done = subprocess.run([PYTHON, "-m", "panchayat", "staff", "add", username, *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    found = STAFF_PASSWORD.search(done.stdout)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"staff add {username} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return found.group(1)


def chromium(width: int = WIDTH, height: int = HEIGHT):
    """Debian's headless Chromium through its own driver (Selenium Manager downloads nothing)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    # The page itself is width x height whatever the window's frame takes.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return browser


class Console:
    """The staff console in one browser, seen through its form ids and data-nav links; every
    failure names the page and what it showed."""

    def __init__(self, driver, url: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver, self.url, self.by = driver, url.rstrip("/"), By

    # -- looking --

    def page_text(self, limit: int = 1500) -> str:
        try:
            text = self.driver.find_element(self.by.TAG_NAME, "body").text
        except Exception:  # noqa: BLE001 - only for a failure message
            text = "(no page)"
        return f"{self.driver.current_url}:\n{text[:limit]}"

    def all(self, css: str, within=None) -> List:
        return (within or self.driver).find_elements(self.by.CSS_SELECTOR, css)

    def need(self, css: str, what: str, within=None):
        found = self.all(css, within)
        if not found:
            raise AssertionError(f"{what}: no `{css}` on {self.page_text()}")
        return found[0]

    def errors(self) -> List[str]:
        return [element.text for element in self.all(".flash.error")]

    def flashes(self) -> List[str]:
        return [element.text for element in self.all(".flash")]

    def error_page(self) -> bool:
        """The console's error page (console/templates/error.html), by its title in either language."""
        from panchayat import catalogue

        titles = [catalogue.text("console_error_title", language) for language in ("bn", "en")]
        return any(self.driver.title.startswith(title) for title in titles)

    def language(self) -> str:
        return self.driver.find_element(self.by.TAG_NAME, "html").get_attribute("lang")

    # -- doing --

    def open(self, path: str, may_fail: bool = False) -> None:
        self.driver.get(self.url + path)
        self._loaded()
        if not may_fail and self.error_page():
            raise AssertionError(f"{path} answers with the error page: {self.page_text()}")

    def _loaded(self) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def click_and_wait(self, element) -> None:
        """Clicks something that loads a new page, and waits until it has."""
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.driver.find_element(self.by.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, 90).until(expected_conditions.staleness_of(old))
        self._loaded()

    def submit(self, form_css: str, fields: Optional[Dict[str, str]] = None, what: str = "",
               expect_error: bool = False) -> None:
        """Fills a form's fields by name (a file input gets a path), presses its submit button and
        waits for the answer; an error shown on the answering page fails, unless expected."""
        what = what or f"the form {form_css}"
        form = self.need(form_css, what)
        for name, value in (fields or {}).items():
            box = self.need(f'[name="{name}"]', f"{what}: field {name}", within=form)
            if box.get_attribute("type") != "file":
                box.clear()
            box.send_keys(value)
        button = self.need('button:not([type]), button[type="submit"], input[type="submit"]',
                           f"{what}: its submit button", within=form)
        self.click_and_wait(button)
        if self.error_page():
            raise AssertionError(f"{what} ended on the error page: {self.page_text()}")
        if not expect_error and self.errors():
            raise AssertionError(f"{what} was refused: {self.errors()} on {self.page_text()}")

    def log_in(self, username: str, password: str) -> None:
        self.open("/login")
        self.submit("form#login-form", {"username": username, "password": password}, f"logging in as {username}")
        if self.all("form#login-form"):
            raise AssertionError(f"{username} could not log in: {self.page_text()}")

    def set_password(self, current: str, new: str) -> None:
        """The first login's password change (the console sends a one-time password's holder there)."""
        self.need("form#password-form", "the first login asks for a new password")
        self.submit("form#password-form", {"current_password": current, "new_password": new,
                                           "repeat_password": new}, "changing the one-time password")
        if self.all("form#password-form"):
            raise AssertionError(f"the new password was not taken: {self.page_text()}")

    def log_out(self) -> None:
        self.click_and_wait(self.need("button#logout", "the log-out button"))
        self.need("form#login-form", "the login page after logging out")

    def switch_language(self, wanted: str) -> None:
        if self.language() != wanted:
            self.click_and_wait(self.need("button#switch-language", "the language switch"))
        if self.language() != wanted:
            raise AssertionError(f"the page is still in {self.language()!r}, not {wanted!r}")

    def follow(self, css: str, what: str, text: Optional[str] = None) -> None:
        """Follows the link `css` (with this exact text, if given)."""
        links = self.all(css)
        if text is not None:
            links = [link for link in links if link.text.strip() == text]
        if not links:
            raise AssertionError(f"{what}: no `{css}`{f' reading {text!r}' if text else ''} on {self.page_text(3000)}")
        self.click_and_wait(links[0])
        if self.error_page():
            raise AssertionError(f"{what}: the link leads to the error page: {self.page_text()}")

    def first_detail_with(self, link_css: str, form_css: str, what: str) -> str:
        """Opens the queue's rows in turn until one's page has `form_css`; returns its link text."""
        queue = self.driver.current_url
        targets = [(link.get_attribute("href"), link.text.strip()) for link in self.all(link_css)]
        for href, text in targets[:15]:
            self.driver.get(href)
            self._loaded()
            if self.error_page():
                raise AssertionError(f"{what}: {href} answers with the error page: {self.page_text()}")
            if self.all(form_css):
                return text
        self.driver.get(queue)
        raise AssertionError(f"{what}: none of {len(targets)} rows of {queue} shows `{form_css}`")

    def cookies(self) -> Dict[str, str]:
        return {cookie["name"]: cookie["value"] for cookie in self.driver.get_cookies()}


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the console stopped while starting (exit {process.returncode})")
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the console did not answer {url}/healthz within {timeout:.0f}s")


def payroll_csv(month: str) -> str:
    """A month's pay sheet for the three demo employees, with this year's increment (the demo data
    holds the twelve months before this one)."""
    return ("employee_code,month,basic_pay,dearness_allowance,house_rent_allowance,provident_fund,professional_tax\n"
            f"DEMO-EMP-001,{month},29800.00,4172.00,3576.00,3576.00,200.00\n"
            f"DEMO-EMP-002,{month},26300.00,3682.00,3156.00,3156.00,150.00\n"
            f"DEMO-EMP-003,{month},36500.00,5110.00,4380.00,4380.00,200.00\n")


def charts_drawn(console: Console) -> None:
    """The dashboard's charts (PNGs drawn by the console) have loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    console.need("img.chart", "the dashboard's charts")
    try:
        WebDriverWait(console.driver, 30).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('img.chart')].every(i => i.complete && i.naturalWidth > 0)"))
    except Exception:  # noqa: BLE001 - reported as what it means
        raise AssertionError(f"a chart of the dashboard did not load: {console.page_text()}") from None


def shoot(console: Console, out: Path, name: str, taken: List[str], scroll_to: Optional[str] = None) -> None:
    if console.error_page():
        raise AssertionError(f"not taking {name}.png of the error page: {console.page_text()}")
    path = out / f"{name}.png"
    if scroll_to:
        console.driver.execute_script("arguments[0].scrollIntoView(true); window.scrollBy(0, -12)",
                                      console.need(scroll_to, f"{name}: {scroll_to}"))
    else:
        console.driver.execute_script("window.scrollTo(0, 0)")
    console.driver.save_screenshot(str(path))
    taken.append(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path))
    print(f"screenshot: {taken[-1]}", flush=True)


def take(console: Console, out: Path, env: Dict[str, str], passwords: Dict[str, str], officer: str,
         folder: Path) -> List[str]:
    taken: List[str] = []
    console.open("/login")
    console.switch_language("en")
    shoot(console, out, "login", taken)

    # The clerk: dashboard, the queues, a complaint, the guest houses, payroll with a preview.
    console.log_in("demo-clerk", passwords["demo-clerk"])
    console.set_password(passwords["demo-clerk"], NEW_PASSWORD)
    console.switch_language("en")
    console.open("/dashboard/")
    charts_drawn(console)
    shoot(console, out, "dashboard", taken)
    console.open("/applications/")
    shoot(console, out, "applications", taken)
    console.open("/complaints/")
    shoot(console, out, "complaints", taken)
    console.first_detail_with("a.complaint-link", "form#assign-form, form#resolve-form", "an open complaint")
    shoot(console, out, "complaint", taken)
    console.open("/guest-houses/")
    shoot(console, out, "guest-houses", taken)
    console.open("/payroll/")
    month = date.today().strftime("%Y-%m")
    sheet = folder / f"payroll-{month}.csv"
    sheet.write_text(payroll_csv(month), encoding="utf-8")
    console.submit("form#payroll-upload-form", {console.need(
        'form#payroll-upload-form input[type="file"]', "the payroll file input").get_attribute("name"): str(sheet)},
        "uploading a payroll CSV")
    console.need("form#confirm-import-form", "the payroll preview's confirm button")
    shoot(console, out, "payroll-preview", taken)
    console.switch_language("bn")
    console.open("/applications/")
    shoot(console, out, "applications-bn", taken)
    console.log_out()

    # The pradhan: an application with the decision buttons.
    console.log_in("demo-pradhan", passwords["demo-pradhan"])
    console.set_password(passwords["demo-pradhan"], NEW_PASSWORD)
    console.switch_language("en")
    console.open("/applications/")
    console.first_detail_with("a.application-link", "form#approve-form", "an application awaiting a decision")
    shoot(console, out, "application", taken)
    console.log_out()

    # A block officer: the block's dashboard.
    console.log_in("demo-block", officer)
    console.set_password(officer, NEW_PASSWORD)
    console.switch_language("en")
    console.open("/dashboard/")
    charts_drawn(console)
    # Below the figures: the charts and the table of the block's GPs.
    shoot(console, out, "dashboard-block", taken, scroll_to="img.chart")
    console.log_out()
    return taken


def main(argv: Iterable[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "console"))
    parser.add_argument("--port", type=int, default=8271)
    args = parser.parse_args(list(argv))
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-screenshots-") as scratch:
        folder = Path(scratch)
        env = dict(os.environ, PANCHAYAT_VAR_DIR=str(folder), DATABASE_URL=f"sqlite:///{folder / 'panchayat.db'}",
                   CERTIFICATE_SIGNING_KEY="screenshot-signing-key", SQLALCHEMY_SILENCE_UBER_WARNING="1")
        passwords = demo_passwords(env)
        officer = add_staff(env, "demo-block", "--name", "Sanjay Saha (block officer)", "--role", "block_officer",
                            "--block", "3029", "--language", "en")
        url = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen([PYTHON, "-m", "console", "--port", str(args.port)], cwd=ROOT, env=env,
                                  start_new_session=True)
        driver = None
        try:
            wait_healthy(url, server)
            driver = chromium()
            taken = take(Console(driver, url), out, env, passwords, officer, folder)
        finally:
            if driver is not None:
                driver.quit()
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"{len(taken)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
