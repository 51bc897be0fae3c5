"""Plays the villager conversations of tests/conversations/ through the real WhatsApp channel,
and reports task success by service and by register.

    python scripts/conversations.py [FILE.yml ...] [--only NAME] [--report results/conversations.md]

The assistant runs as `make simulator` runs it (scripts/stack.py simulator: action server,
Rasa server with the WhatsApp channel, notification worker, and the simulator that plays
Meta's part) on its own ports, with a fresh SQLite database under a temporary folder. Each
conversation writes from a number of its own; a turn is over when the channel has marked
its message processed. Success is read from the database and from what reached the phone
(tests/conversations/README.md).
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import shutil
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONVERSATIONS_DIR = ROOT / "tests" / "conversations"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SIGNING_KEY = "conversation-suite-signing-key"
HOME_GP = 990001  # Bagula-I, the demo data's first sample GP
# A tiny JPEG and PDF, as a phone would send them (the channel checks the first bytes).
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SERVICES = ("building_permission", "trade_noc", "business_noc", "guest_house", "booking_cancellation",
            "complaint", "pay_slip", "salary_statement", "office_info", "application_status")
REGISTERS = ("bengali", "banglish", "english")
_BENGALI = re.compile(r"[\u0980-\u09FF]")


@dataclass
class Result:
    name: str
    service: str
    register: str
    ok: bool
    failures: List[str] = field(default_factory=list)
    transcript: List[str] = field(default_factory=list)


def load(paths: List[Path]) -> List[Dict[str, Any]]:
    conversations = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for conversation in (yaml.safe_load(handle) or {}).get("conversations") or []:
                conversation["file"] = path.name
                conversations.append(conversation)
    return conversations


class Stack:
    """`scripts/stack.py simulator` on ports of its own, with its own database."""

    def __init__(self, folder: Path, rasa_port: int = 5305, action_port: int = 5355, sim_port: int = 8390,
                 console_port: int = 8380) -> None:
        self.folder = folder
        self.database_url = f"sqlite:///{folder / 'panchayat.db'}"
        self.sim = f"http://127.0.0.1:{sim_port}"
        self.env = dict(os.environ, PANCHAYAT_VAR_DIR=str(folder), DATABASE_URL=self.database_url,
                        RASA_PORT=str(rasa_port), ACTION_PORT=str(action_port), SIMULATOR_PORT=str(sim_port),
                        CONSOLE_PORT=str(console_port), CERTIFICATE_SIGNING_KEY=SIGNING_KEY)
        self.process: Optional[subprocess.Popen] = None
        self.log: List[str] = []

    def start(self, timeout: float = 420) -> None:
        subprocess.run([PYTHON, "scripts/stack.py", "db"], cwd=ROOT, env=self.env, check=True, capture_output=True)
        self.enlarge_guest_houses()
        self.process = subprocess.Popen([PYTHON, "scripts/stack.py", "simulator"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + timeout
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            if "simulator: open" in line:
                break
            if time.time() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the assistant did not start: " + "".join(self.log[-8:]))
        threading.Thread(target=lambda: self.log.extend(self.process.stdout), daemon=True).start()

    def enlarge_guest_houses(self, rooms: int = 40) -> None:
        """Ninety villagers book the same weeks here: more rooms, so that no conversation fails
        for want of a free room (a full house is tested elsewhere)."""
        from panchayat import db
        from panchayat.models import GuestHouse, Room

        with db.session_scope(self.database_url) as session:
            for house in session.query(GuestHouse):
                tariff = min(room.tariff_paise for room in house.rooms)
                for index in range(rooms):
                    session.add(Room(guest_house_id=house.id, label=f"C{index + 1}", tariff_paise=tariff))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Phone:
    """One villager's phone in the simulator, and what the conversation has made of it."""

    def __init__(self, stack: Stack, wa_id: str) -> None:
        self.stack, self.wa_id = stack, wa_id
        self.seen = 0
        self.received: List[Dict[str, Any]] = []
        self.pin: Optional[str] = None

    # -- what the phone does --

    def send(self, message: Dict[str, Any]) -> str:
        answer = requests.post(f"{self.stack.sim}/sim/api/phones/{self.wa_id}/send", json=message, timeout=30)
        answer.raise_for_status()
        return answer.json()["id"]

    def upload(self, kind: str, data: bytes, filename: str, caption: str) -> str:
        answer = requests.post(f"{self.stack.sim}/sim/api/phones/{self.wa_id}/upload",
                               data={"kind": kind, "caption": caption or ""},
                               files={"file": (filename, data, "image/jpeg" if kind == "image" else "application/pdf")},
                               timeout=30)
        answer.raise_for_status()
        return answer.json()["id"]

    def new_messages(self) -> List[Dict[str, Any]]:
        answer = requests.get(f"{self.stack.sim}/sim/api/phones/{self.wa_id}/messages",
                              params={"after": self.seen}, timeout=30)
        answer.raise_for_status()
        entries = answer.json()["messages"]
        if entries:
            self.seen = entries[-1]["seq"]
        fresh = [e for e in entries if e["direction"] == "received"]
        self.received.extend(fresh)
        return fresh

    def wait_processed(self, wamid: str, timeout: float = 60) -> List[Dict[str, Any]]:
        """Waits until the channel has handled the message, then returns the replies."""
        from panchayat import db
        from panchayat.models import WhatsAppInbound

        deadline = time.time() + timeout
        while time.time() < deadline:
            with db.session_scope(self.stack.database_url) as session:
                row = session.query(WhatsAppInbound.processed).filter_by(wamid=wamid).first()
            if row is not None and row.processed:
                break
            time.sleep(0.05)
        return self.new_messages()

    def wait_notification(self, timeout: float = 30) -> List[Dict[str, Any]]:
        deadline, got = time.time() + timeout, []
        while time.time() < deadline:
            got += self.new_messages()
            if got:
                time.sleep(0.3)
                return got + self.new_messages()
            time.sleep(0.2)
        return got


def options_of(entry: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    """(kind, title, id) of the buttons or list rows of a received message."""
    content = entry.get("content") or {}
    if entry.get("type") != "interactive":
        return []
    action = content.get("action") or {}
    if content.get("type") == "button":
        return [("button_reply", b["reply"]["title"], b["reply"]["id"]) for b in action.get("buttons") or []]
    return [("list_reply", row["title"], row["id"]) for section in action.get("sections") or []
            for row in section.get("rows") or []]


def text_of(entry: Dict[str, Any]) -> str:
    content = entry.get("content") or {}
    kind = entry.get("type")
    if kind == "text":
        return content.get("body") or ""
    if kind == "interactive":
        titles = " | ".join(title for _k, title, _i in options_of(entry))
        return f"{(content.get('body') or {}).get('text') or ''} [{titles}]"
    if kind == "document":
        return f"<document {content.get('filename')}> {content.get('caption') or ''}"
    if kind == "template":
        parameters = [p.get("text") for c in content.get("components") or [] for p in c.get("parameters") or []]
        return f"<template {content.get('name')}> {' '.join(str(p) for p in parameters)}"
    return f"<{kind}>"


def _fold(value: str) -> str:
    return " ".join(str(value).casefold().split())


class Records:
    """What the panchayat's database holds for one phone."""

    def __init__(self, database_url: str, wa_id: str) -> None:
        self.url, self.wa_id = database_url, wa_id

    def _query(self, work):
        from panchayat import db
        from panchayat.models import Citizen

        with db.session_scope(self.url) as session:
            citizen = session.query(Citizen).filter_by(wa_id=self.wa_id).first()
            return work(session, citizen)

    def newest(self, model) -> Optional[Any]:
        def find(session, citizen):
            if citizen is None:
                return None
            row = (session.query(model).filter_by(citizen_id=citizen.id).order_by(model.id.desc()).first())
            if row is None:
                return None
            return {column.name: getattr(row, column.name) for column in model.__table__.columns}

        return self._query(find)

    def all(self, model) -> List[Dict[str, Any]]:
        def find(session, citizen):
            if citizen is None:
                return []
            return [{c.name: getattr(row, c.name) for c in model.__table__.columns}
                    for row in session.query(model).filter_by(citizen_id=citizen.id)]

        return self._query(find)


def prepare(stack: Stack, wa_id: str, who: str) -> Optional[str]:
    """Puts on record what `who` means for this number; returns the employee's one-time PIN."""
    from panchayat import citizens, db, employees
    from panchayat.models import Employee, GramPanchayat, PayrollLine

    with db.session_scope(stack.database_url) as session:
        if who == "citizen":
            citizen = citizens.get_or_create(session, wa_id)
            citizens.set_gram_panchayat(session, citizen, session.get(GramPanchayat, HOME_GP))
        if who != "employee":
            return None
        code = f"CONV-{wa_id[-6:]}"
        employee = Employee(code=code, name_en="Sumita Sarkar", name_bn="সুমিতা সরকার", designation="Job Assistant",
                            phone=wa_id, gp_code=HOME_GP)
        session.add(employee)
        session.flush()
        year, month = date.today().year, date.today().month
        for _ in range(26):  # two whole financial years, whenever the suite runs
            month -= 1
            if month == 0:
                year, month = year - 1, 12
            for component, kind, rupees in (("basic_pay", "earning", 21000), ("dearness_allowance", "earning", 2940),
                                            ("provident_fund", "deduction", 2520),
                                            ("professional_tax", "deduction", 150)):
                session.add(PayrollLine(employee_id=employee.id, month=f"{year:04d}-{month:02d}",
                                        component=component, kind=kind, amount_paise=rupees * 100))
        session.flush()
        return employees.issue_pin(session, code, actor="conversation-suite")


def fill(value: str, phone: Phone) -> str:
    from panchayat.models import Application, Booking, Grievance

    records = Records(phone.stack.database_url, phone.wa_id)
    for placeholder, model in (("{application}", Application), ("{booking}", Booking), ("{complaint}", Grievance)):
        if placeholder in value:
            newest = records.newest(model)
            value = value.replace(placeholder, newest["number"] if newest else "NONE")
    if "{pin}" in value:
        value = value.replace("{pin}", phone.pin or "")
    return value


def play_turn(phone: Phone, turn: Dict[str, Any], transcript: List[str]) -> Optional[str]:
    """Plays one turn; returns a problem with the script itself (e.g. no such button), else None."""
    if "user" in turn:
        typed = fill(str(turn["user"]), phone)
        transcript.append(f"> {typed}")
        replies = phone.wait_processed(phone.send({"type": "text", "body": typed}))
    elif "tap" in turn:
        wanted = _fold(fill(str(turn["tap"]), phone))
        offered = next((options_of(e) for e in reversed(phone.received) if options_of(e)), [])
        chosen = next((o for o in offered if _fold(o[1]) == wanted), None)
        if chosen is None:
            transcript.append(f"> [tap {turn['tap']}] -- no such option among {[o[1] for o in offered]}")
            return f"no option titled {turn['tap']!r} to tap"
        kind, title, reply_id = chosen
        transcript.append(f"> [tap {title}]")
        replies = phone.wait_processed(phone.send({"type": kind, "id": reply_id, "title": title}))
    elif "photo" in turn:
        transcript.append(f"> [photo] {turn['photo'] or ''}")
        replies = phone.wait_processed(phone.upload("image", JPEG, "photo.jpg", str(turn["photo"] or "")))
    elif "pdf" in turn:
        transcript.append(f"> [pdf] {turn['pdf'] or ''}")
        replies = phone.wait_processed(phone.upload("document", PDF, "document.pdf", str(turn["pdf"] or "")))
    elif "location" in turn:
        place = dict(turn["location"] or {})
        transcript.append(f"> [location] {place}")
        replies = phone.wait_processed(phone.send({"type": "location", "latitude": place.get("latitude", 23.19),
                                                   "longitude": place.get("longitude", 88.59),
                                                   "name": place.get("name"), "address": place.get("address")}))
    elif turn.get("sticker") or turn.get("voice"):
        kind = "sticker" if turn.get("sticker") else "audio"
        transcript.append(f"> [{kind}]")
        replies = phone.wait_processed(phone.send({"type": kind}))
    elif "staff" in turn:
        command = fill(str(turn["staff"]), phone)
        transcript.append(f"$ panchayat {command}")
        done = subprocess.run([PYTHON, "-m", "panchayat", *shlex.split(command)], cwd=ROOT, env=phone.stack.env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            transcript.append(f"  (exit {done.returncode}) {done.stderr.strip()[-300:]}")
            return f"staff command failed: {command}"
        replies = phone.wait_notification()
    else:
        return f"unknown turn {turn}"
    for entry in replies:
        transcript.append("< " + text_of(entry).replace("\n", " / ")[:400])
    return None


def check(done: Dict[str, Any], phone: Phone, first_reply_index: int) -> List[str]:
    from panchayat.models import Application, Booking, Grievance

    records = Records(phone.stack.database_url, phone.wa_id)
    failures = []
    documents = [e for e in phone.received if e.get("type") == "document"]
    texts = [text_of(e) for e in phone.received]
    for key, wanted in (done or {}).items():
        if key == "application":
            services = [a["service"] for a in records.all(Application)]
            if wanted not in services:
                failures.append(f"no {wanted} application filed (filed: {services or 'none'})")
        elif key in ("certificate", "pay_document"):
            if bool(documents) != bool(wanted):
                failures.append(f"{key}: {'no' if wanted else 'a'} document reached the phone")
        elif key == "no_document":
            if documents:
                failures.append("a document reached the phone")
        elif key == "booking":
            newest = records.newest(Booking)
            if newest is None or newest["status"] != wanted:
                failures.append(f"booking {wanted} expected, found {newest['status'] if newest else 'none'}")
        elif key == "complaint":
            filed = [g["category"] for g in records.all(Grievance)]
            if not filed or (wanted != "any" and wanted not in filed):
                failures.append(f"complaint {wanted} expected, filed: {filed or 'none'}")
        elif key == "rating":
            newest = records.newest(Grievance)
            if newest is None or newest["rating"] != int(wanted):
                failures.append(f"rating {wanted} expected, found {newest['rating'] if newest else 'no complaint'}")
        elif key == "nothing_filed":
            filed = records.all(Application) + records.all(Booking) + records.all(Grievance)
            if filed:
                failures.append(f"{len(filed)} record(s) filed")
        elif key == "reply_contains":
            options = [wanted] if isinstance(wanted, str) else list(wanted)
            if not any(_fold(option) in _fold(t) for option in options for t in texts):
                failures.append(f"no reply contains any of {options}")
        elif key == "replies_in":
            later = [text_of(e) for e in phone.received[first_reply_index:]
                     if e.get("type") in ("text", "interactive")]
            wrong = [t for t in later if bool(_BENGALI.search(t)) != (wanted == "bn")
                     and re.search(r"[A-Za-z\u0980-\u09FF]{3}", t)]
            if wrong:
                failures.append(f"a reply not in {wanted}: {wrong[0][:120]!r}")
        else:
            failures.append(f"unknown check {key}")
    return failures


def run_conversation(stack: Stack, conversation: Dict[str, Any], wa_id: str) -> Result:
    phone = Phone(stack, wa_id)
    who = conversation.get("who", "citizen")
    phone.pin = prepare(stack, wa_id, who)
    transcript: List[str] = [f"# {conversation.get('name')} ({conversation.get('file')}, {who})"]
    problems = []
    first_reply_index = None
    for index, turn in enumerate(conversation.get("turns") or []):
        problem = play_turn(phone, turn, transcript)
        if index == 0:
            # The privacy notice at first contact is in both languages, by design.
            first_reply_index = len(phone.received)
        if problem:
            problems.append(problem)
            break
    failures = problems + check(conversation.get("done") or {}, phone, first_reply_index or 0)
    return Result(str(conversation.get("name")), str(conversation.get("service")),
                  str(conversation.get("register")), not failures, failures, transcript)


def report(results: List[Result]) -> str:
    def rate(items: List[Result]) -> str:
        done = sum(r.ok for r in items)
        return f"{done}/{len(items)} ({100 * done / len(items):.0f}%)" if items else "-"

    lines = ["# Villager conversations: task success", "",
             f"Overall: {rate(results)}", "", "| service | " + " | ".join(REGISTERS) + " | all |",
             "|---|" + "---|" * (len(REGISTERS) + 1)]
    by_service = defaultdict(list)
    for result in results:
        by_service[result.service].append(result)
    for service in sorted(by_service, key=lambda s: SERVICES.index(s) if s in SERVICES else 99):
        cells = [rate([r for r in by_service[service] if r.register == register]) for register in REGISTERS]
        lines.append(f"| {service} | " + " | ".join(cells) + f" | {rate(by_service[service])} |")
    lines.append("| all | " + " | ".join(rate([r for r in results if r.register == register])
                                         for register in REGISTERS) + f" | {rate(results)} |")
    failed = [r for r in results if not r.ok]
    if failed:
        lines += ["", "## Failed", ""]
        for result in failed:
            lines += [f"### {result.name} ({result.service}, {result.register})", "",
                      *[f"- {f}" for f in result.failures], "", "```", *result.transcript, "```", ""]
    return "\n".join(lines) + "\n"


def rates(results: List[Result]) -> Dict[str, float]:
    """Task success overall, per service and per register (fractions)."""
    groups: Dict[str, List[Result]] = defaultdict(list)
    for result in results:
        groups["overall"].append(result)
        groups[f"service:{result.service}"].append(result)
        groups[f"register:{result.register}"].append(result)
    return {name: sum(r.ok for r in items) / len(items) for name, items in groups.items()}


def run_suite(conversations: List[Dict[str, Any]], folder: Optional[Path] = None,
              progress=None) -> List[Result]:
    """Plays the conversations against one stack; its database and server logs stay in `folder`
    (results/conversation-run by default, emptied first) for a look at what went wrong."""
    folder = folder or ROOT / "results" / "conversation-run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stack = Stack(folder)
    stack.start()
    try:
        results = []
        for index, conversation in enumerate(conversations):
            result = run_conversation(stack, conversation, f"9197{index + 1:08d}")
            results.append(result)
            if progress:
                progress(result)
        return results
    finally:
        stack.stop()


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--only", help="only conversations whose name contains this")
    parser.add_argument("--report", type=Path, default=ROOT / "results" / "conversations.md")
    args = parser.parse_args(argv)
    files = args.files or sorted(CONVERSATIONS_DIR.glob("*.yml"))
    conversations = [c for c in load(files) if not args.only or args.only in str(c.get("name"))]

    def progress(result: Result) -> None:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.register:8} {result.service:22} {result.name}"
              + ("" if result.ok else f"  -- {'; '.join(result.failures)}"), flush=True)

    results = run_suite(conversations, progress=progress)
    text = report(results)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(text.split("\n## Failed")[0])
    print(json.dumps({k: round(v, 3) for k, v in sorted(rates(results).items())}))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
