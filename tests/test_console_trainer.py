"""The trainers' inbox of the console (console/trainer.py): the groups newest first with the
assistant's guess, labelling through the core (into a copy of the training data), refused spans,
who may see and do what, and the retraining page with its report; on SQLite and PostgreSQL.
No retraining is ever started here: the process start is replaced."""
import functools
import html
import json
import os
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from console import trainer
from panchayat import db, nlu_inbox, nlu_training
from panchayat.models import NluInboxItem
from panchayat.seed import DEMO_GP

NOW = datetime(2026, 3, 10, 12, 0)


@pytest.fixture
def training_data(tmp_path, monkeypatch):
    """A copy of data/nlu that labelling writes into (never the repository's own)."""
    folder = tmp_path / "nlu_data"
    shutil.copytree(nlu_training.DATA_DIR, folder)
    monkeypatch.setattr(nlu_training, "DATA_DIR", folder)
    monkeypatch.setattr(nlu_training, "label", functools.partial(nlu_training.label, data_dir=folder))
    return folder


@pytest.fixture
def retrain_files(tmp_path, monkeypatch):
    """The retraining's status and report in a temporary folder, and a process start that only counts."""
    monkeypatch.setattr(trainer, "STATUS_FILE", tmp_path / "retrain" / "status.json")
    monkeypatch.setattr(trainer, "REPORT_FILE", tmp_path / "results" / "report.json")
    started = []
    monkeypatch.setattr(trainer, "start_retrain", lambda: started.append(datetime.now()))
    return started


def _add(url, text, minutes_ago, status="new", **fields):
    with db.session_scope(url) as session:
        item = NluInboxItem(
            key=f"key-{text}",
            text=text,
            variants=fields.pop("variants", []),
            count=fields.pop("count", 1),
            reason=fields.pop("reason", "fallback"),
            guess_intent=fields.pop("guess_intent", None),
            confidence=fields.pop("confidence", None),
            first_seen_at=NOW - timedelta(days=3),
            last_seen_at=NOW - timedelta(minutes=minutes_ago),
            status=status,
            **fields,
        )
        session.add(item)
        session.flush()
        return item.id


def _item(url, item_id):
    with db.session_scope(url) as session:
        item = session.get(NluInboxItem, item_id)
        return {"status": item.status, "intent": item.label_intent, "entities": item.label_entities,
                "by": item.labelled_by}


def _page(answer):
    assert answer.status_code == 200, answer.status_code
    return answer.get_data(as_text=True)


def _flashes(browser, url):
    shown = re.findall(r'<p class="flash (?:ok|error)"[^>]*>(.*?)</p>', _page(browser.get(url)), re.S)
    return html.unescape(" ".join(shown))


def test_the_trainer_sees_the_groups_newest_first_with_the_guess_and_no_number(console):
    older = _add(console.url, "trade licence kivabe pabo", 90, count=4, guess_intent="service_info",
                 confidence=0.42, reason="low_margin", variants=["trade license kibhabe pabo"])
    newer = _add(console.url, "amar rastar alo jolche na <number>", 5, count=2, guess_intent="lodge_grievance",
                 confidence=0.873)
    _add(console.url, "cricket score koto", 1, status="not_for_us", label_intent="out_of_scope",
         labelled_by="Test Trainer (t1)", labelled_at=NOW)
    browser = console.sign_in("trainer")
    # A trainer's home is the inbox, and the nav links to it.
    assert browser.get("/").location.endswith("/trainer/")
    page = _page(browser.get("/trainer/"))
    assert 'data-nav="trainer"' in page and 'data-nav="applications"' not in page
    rows = re.findall(r'<li class="card inbox-item" id="item-(\d+)"', page)
    assert rows == [str(newer), str(older)]  # newest first; the set-aside group is on its own tab
    assert "87% sure" in page and "42% sure" in page
    assert "lodge_grievance" in page and "service_info" in page
    assert "unsure between two meanings" in page and "not understood" in page
    assert "trade license kibhabe pabo" in page  # a variant
    assert "New (2)" in page and "Not for us (1)" in page and "Labelled (0)" in page
    assert page.count('class="label-form"') == 2
    # The intents of the domain and "not for us"; never the fallback.
    assert '<option value="apply_service">' in page and '<option value="not_for_us">' in page
    assert "nlu_fallback" not in page
    # Nothing that looks like a phone number or a PIN (the inbox keeps redacted text only).
    assert not re.search(r"\d{4,}", re.sub(r"<[^>]+>|csrf_token\" value=\"[^\"]+\"", " ", page).replace("2026", ""))
    aside = _page(browser.get("/trainer/?status=not_for_us"))
    assert "cricket score koto" in aside and "label-form" not in aside and "Test Trainer (t1)" in aside
    assert browser.get("/trainer/?status=nonsense").status_code == 404


def test_labelling_through_the_page_writes_the_example_and_moves_the_group(console, training_data):
    item_id = _add(console.url, "trade licence ta ebar notun kore nite chai", 5, guess_intent="service_info",
                   confidence=0.5)
    aside_id = _add(console.url, "ajke khela ke jitlo", 3)
    browser = console.sign_in("trainer")
    answer = browser.post(f"/trainer/items/{item_id}/label", {
        "intent": "apply_service", "entity_0": "service", "span_0": "trade licence", "value_0": "trade_noc",
    })
    assert answer.status_code == 302
    assert "Label saved: apply_service" in _flashes(browser, "/trainer/?status=labelled")
    stored = _item(console.url, item_id)
    assert stored["status"] == "labelled" and stored["intent"] == "apply_service"
    assert stored["entities"] == [{"start": 0, "end": 13, "entity": "service", "value": "trade_noc"}]
    assert stored["by"].endswith("(trainer1)")
    reviewed = (training_data / nlu_training.REVIEWED_FILE).read_text(encoding="utf-8")
    assert "trade licence" in reviewed and "- intent: apply_service" in reviewed and "trainer1" in reviewed
    labelled = _page(browser.get("/trainer/?status=labelled"))
    assert f'id="item-{item_id}"' in labelled and "Labelled apply_service" in labelled
    assert f'id="item-{item_id}"' not in _page(browser.get("/trainer/"))

    assert browser.post(f"/trainer/items/{aside_id}/label", {"intent": "not_for_us"}).status_code == 302
    assert _item(console.url, aside_id)["status"] == "not_for_us"
    assert "- intent: out_of_scope" in (training_data / nlu_training.REVIEWED_FILE).read_text(encoding="utf-8")


def test_a_bad_span_or_intent_is_refused_and_nothing_changes(console, training_data):
    item_id = _add(console.url, "amar barir samne jol jome ache", 5, guess_intent="lodge_grievance", confidence=0.3)
    browser = console.sign_in("trainer")
    reviewed = training_data / nlu_training.REVIEWED_FILE
    before = reviewed.read_text(encoding="utf-8") if reviewed.exists() else None

    def unchanged():
        assert _item(console.url, item_id) == {"status": "new", "intent": None, "entities": None, "by": None}
        assert (reviewed.read_text(encoding="utf-8") if reviewed.exists() else None) == before

    browser.post(f"/trainer/items/{item_id}/label",
                 {"intent": "lodge_grievance", "entity_0": "grievance_category", "span_0": "rasta bhanga"})
    assert 'The words "rasta bhanga" are not in the message' in _flashes(browser, "/trainer/")
    unchanged()
    # Part of a word is not a span either: "jom" is in "jome", not a word of its own.
    browser.post(f"/trainer/items/{item_id}/label",
                 {"intent": "lodge_grievance", "entity_0": "grievance_category", "span_0": "jom"})
    assert 'The words "jom" are not in the message' in _flashes(browser, "/trainer/")
    unchanged()
    # The same words twice for two entities.
    browser.post(f"/trainer/items/{item_id}/label", {"intent": "lodge_grievance", "entity_0": "grievance_category",
                                                     "span_0": "jol", "entity_1": "date", "span_1": "jol"})
    assert "cannot share the same words" in _flashes(browser, "/trainer/")
    unchanged()
    browser.post(f"/trainer/items/{item_id}/label", {"intent": "lodge_grievance", "span_0": "jol"})
    assert 'Choose the entity of the words "jol"' in _flashes(browser, "/trainer/")
    unchanged()
    browser.post(f"/trainer/items/{item_id}/label", {"intent": ""})
    assert "Choose a meaning" in _flashes(browser, "/trainer/")
    unchanged()
    # The core's own refusal (an intent not in the domain), in the reader's language.
    browser.post(f"/trainer/items/{item_id}/label", {"intent": "order_pizza"})
    assert "order_pizza" in _flashes(browser, "/trainer/")
    unchanged()
    # A value outside a closed list is the core's refusal too.
    browser.post(f"/trainer/items/{item_id}/label",
                 {"intent": "lodge_grievance", "entity_0": "service", "span_0": "jol", "value_0": "water"})
    assert _flashes(browser, "/trainer/")
    unchanged()
    assert browser.post("/trainer/items/999999/label", {"intent": "greet"}).status_code == 404


def test_collect_gathers_now_and_says_how_many(console, monkeypatch):
    calls = []

    def collect(session, tracker_url):
        calls.append(tracker_url)
        return {"messages": 12, "misses": 5, "private_skipped": 1, "groups": 3}

    monkeypatch.setattr(nlu_inbox, "collect", collect)
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:////nowhere/trackers.db")
    browser = console.sign_in("trainer")
    assert browser.post("/trainer/collect").status_code == 302
    assert calls == ["sqlite:////nowhere/trackers.db"]
    assert "Read 12 messages: 5 not understood, in 3 groups (1 left out as private)" in _flashes(browser, "/trainer/")

    def broken(session, tracker_url):
        raise OSError("tracker store unreachable")

    monkeypatch.setattr(nlu_inbox, "collect", broken)
    assert browser.post("/trainer/collect").status_code == 302
    assert "could not be read now" in _flashes(browser, "/trainer/")


def test_case_workers_get_403_on_every_trainer_route(console, retrain_files):
    item_id = _add(console.url, "kichu ekta", 5)
    for browser in (console.sign_in("clerk", gp_code=DEMO_GP), console.sign_in("pradhan", gp_code=DEMO_GP)):
        assert 'data-nav="trainer"' not in _page(browser.get("/dashboard/"))
        assert browser.get("/trainer/").status_code == 403
        assert browser.get("/trainer/retrain").status_code == 403
        assert browser.post(f"/trainer/items/{item_id}/label", {"intent": "greet"}).status_code == 403
        assert browser.post("/trainer/collect").status_code == 403
        assert browser.post("/trainer/retrain").status_code == 403
    assert _item(console.url, item_id)["status"] == "new"
    assert retrain_files == []
    assert console.anonymous().get("/trainer/").status_code == 302


def test_only_the_administrator_starts_a_retraining_and_never_two(console, retrain_files):
    trainer_browser = console.sign_in("trainer")
    page = _page(trainer_browser.get("/trainer/retrain"))
    assert "No retraining has been run yet" in page and 'id="retrain-form"' not in page
    assert trainer_browser.post("/trainer/retrain").status_code == 403
    assert retrain_files == []

    admin = console.sign_in("administrator")
    assert 'data-nav="trainer"' in _page(admin.get("/accounts/"))
    assert 'id="retrain-form"' in _page(admin.get("/trainer/retrain"))
    assert admin.post("/trainer/retrain").status_code == 302
    assert len(retrain_files) == 1
    status = json.loads(trainer.STATUS_FILE.read_text(encoding="utf-8"))
    assert status["state"] == "running"
    answer = admin.get("/trainer/retrain")
    page = _page(answer)
    assert "Retraining has started" in page and answer.headers["Refresh"] == "10"
    assert '<meta http-equiv="refresh" content="10">' in page and "disabled" in page

    # A second click while it runs is refused; so is one while the script (pid alive) says it runs.
    admin.post("/trainer/retrain")
    assert "already running" in _flashes(admin, "/trainer/retrain") and len(retrain_files) == 1
    trainer.STATUS_FILE.write_text(json.dumps({"state": "running", "pid": os.getpid(), "step": "train",
                                               "started_at": datetime.now(timezone.utc).isoformat()}))
    admin.post("/trainer/retrain")
    assert len(retrain_files) == 1
    # A "running" status whose process is gone does not block the next one.
    trainer.STATUS_FILE.write_text(json.dumps({"state": "running", "pid": 2 ** 22 + 12345, "step": "train",
                                               "started_at": datetime.now(timezone.utc).isoformat()}))
    assert "Refresh" not in admin.get("/trainer/retrain").headers
    admin.post("/trainer/retrain")
    assert len(retrain_files) == 2


def _write_report(started_ago_minutes=30, servers_loaded=None):
    started = datetime.now(timezone.utc) - timedelta(minutes=started_ago_minutes)
    trainer.STATUS_FILE.parent.mkdir(parents=True, exist_ok=True)
    trainer.STATUS_FILE.write_text(json.dumps({
        "state": "passed", "started_at": started.isoformat(), "finished_at": datetime.now(timezone.utc).isoformat(),
        "pid": None, "step": "done", "result": {"state": "passed", "servers_loaded": servers_loaded or {}},
        "summary": {"state": "passed", "reason_key": "nlu_retrain_activated",
                    "reason_params": {"after": "0.912", "gate": "0.850"}, "reason": "held-out macro-F1 0.912 >= 0.850"},
    }), encoding="utf-8")
    trainer.REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    trainer.REPORT_FILE.write_text(json.dumps({
        "made_at": datetime.now(timezone.utc).isoformat(), "candidate": "20260310-120000.tar.gz", "activated": True,
        "decision": {"activate": True, "gate": 0.85, "gate_passed": True, "stories_passed": True,
                     "macro_f1_before": 0.874, "macro_f1_after": 0.912, "reason_key": "nlu_retrain_activated",
                     "reason_params": {"after": "0.912", "gate": "0.850"}, "reason": "ok"},
        "stories": {"passed": True, "returncode": 0, "detail": ""},
        "per_intent": [
            {"intent": "apply_service", "before": 0.8, "after": 0.95, "support": 20},
            {"intent": "service_info", "before": 0.9, "after": 0.85, "support": 18},
            {"intent": "talk_to_human", "before": None, "after": 1.0, "support": 3},
        ],
        "confusions": [
            {"gold": "apply_service", "predicted": "service_info", "before": 4, "after": 1},
            {"gold": "service_info", "predicted": "apply_service", "before": 0, "after": 2},
        ],
        "changed": [{"text": "trade licence chai", "intent": "apply_service", "before": "service_info",
                     "after": "apply_service"}],
    }), encoding="utf-8")


def _cells(page, table_id):
    table = re.search(rf'<table class="list" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    return [re.findall(r"<td[^>]*>(?:<code>)?(.*?)(?:</code>)?</td>", row, re.S)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def test_the_retraining_page_shows_the_report_before_and_after(console, retrain_files):
    _write_report()
    page = _page(console.sign_in("trainer").get("/trainer/retrain"))
    assert "passed: the new model is in use" in page
    assert "The new model passed the gate (macro-F1 0.912 ≥ 0.850)" in page
    assert re.search(r'id="gate-verdict" class="passed">passed', page)
    assert "macro-F1 before 0.874, after 0.912; the gate asks for 0.850" in page
    assert re.search(r'id="stories-result" class="passed">passed', page)
    assert [row[:4] for row in _cells(page, "per-intent")] == [
        ["apply_service", "0.800", "0.950", "+0.150"],
        ["service_info", "0.900", "0.850", "-0.050"],
        ["talk_to_human", "–", "1.000", "–"],
    ]
    assert _cells(page, "confusions-before") == [["apply_service", "service_info", "4"]]
    assert _cells(page, "confusions-after") == [
        ["service_info", "apply_service", "2"], ["apply_service", "service_info", "1"]]
    assert "trade licence chai" in page and "now right" in page
    assert "http-equiv" not in page  # finished: no refreshing
    assert 'id="servers-loaded"' not in page  # no server was asked (--no-activate, or none)


def test_the_retraining_page_says_which_running_servers_took_the_new_model(console, retrain_files):
    _write_report(servers_loaded={"http://127.0.0.1:5005": True, "http://127.0.0.1:5006": False})
    page = _page(console.sign_in("trainer").get("/trainer/retrain"))
    assert re.search(r'id="servers-loaded">1 of 2 Rasa servers answer with the new model now\. '
                     r'The others take it when they are next started\.', page)
    _write_report(servers_loaded={"http://127.0.0.1:5005": True})
    page = _page(console.sign_in("trainer").get("/trainer/retrain"))
    assert re.search(r'id="servers-loaded">1 of 1 Rasa servers answer with the new model now\.</dd>', page)


def test_the_pages_in_bengali(console, retrain_files, training_data):
    _add(console.url, "amar rastar alo jolche na", 5, count=12, guess_intent="lodge_grievance", confidence=0.873)
    _write_report()
    browser = console.sign_in("trainer", language="bn")
    page = _page(browser.get("/trainer/"))
    assert "প্রশিক্ষকের ইনবক্স" in page and "৮৭% নিশ্চিত" in page and "নতুন (১)" in page
    assert ">১২<" in page and "চিহ্ন সংরক্ষণ করুন" in page and "আমাদের জন্য নয়" in page
    # A span of Bengali words: found in the message (offsets in characters), said in Bengali.
    item_id = _add(console.url, "এবার আমার ট্রেড লাইসেন্স নতুন করে নিতে চাই", 2)
    browser.post(f"/trainer/items/{item_id}/label", {"intent": "apply_service", "entity_0": "service",
                                                     "span_0": "ট্রেড লাইসেন্স", "value_0": "trade_noc"})
    assert "চিহ্ন সংরক্ষিত হয়েছে" in _flashes(browser, "/trainer/")
    assert _item(console.url, item_id)["entities"] == [{"start": 10, "end": 24, "entity": "service",
                                                         "value": "trade_noc"}]
    browser.post(f"/trainer/items/{item_id - 1}/label", {"intent": "lodge_grievance", "entity_0": "date",
                                                         "span_0": "রাস্তা"})
    assert "পুরো শব্দ হিসেবে বার্তায় নেই" in _flashes(browser, "/trainer/")
    report = _page(browser.get("/trainer/retrain"))
    assert "উত্তীর্ণ" in report and "০.৯৫০" in report and "+০.১৫০" in report and "বিভ্রান্তি" in report
