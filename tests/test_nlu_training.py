"""The trainers' inbox, parts 3 and 4: labelling into data/nlu/reviewed.yml (both engines), the
`nlu` command line, and the gated retrain's comparison and decision (no training here)."""
import importlib.util
import json
import shutil
import warnings
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from panchayat import db, nlu_inbox, nlu_training
from panchayat.cli import main
from panchayat.errors import PanchayatError
from panchayat.models import AuditLog, NluInboxItem
from tests.conftest import ROOT, snapshot

WHEN = datetime(2026, 12, 2, 9, 30)
SHOP_TEXT = "amar dokaner trade licence ta kobe hobe bolun to"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A copy of data/nlu; the module's default points at it, so the real file stays untouched."""
    copy = tmp_path / "nlu"
    shutil.copytree(ROOT / "data" / "nlu", copy)
    (copy / nlu_training.REVIEWED_FILE).unlink(missing_ok=True)
    monkeypatch.setattr(nlu_training, "DATA_DIR", copy)
    return copy


def add_item(text: str, key: str = "") -> int:
    with db.session_scope() as session:
        item = NluInboxItem(
            key=key or text.casefold(),
            text=text,
            variants=[],
            count=3,
            reason="fallback",
            guess_intent="service_info",
            confidence=0.41,
            first_seen_at=WHEN,
            last_seen_at=WHEN,
        )
        session.add(item)
        session.flush()
        return item.id


def do_label(item_id, intent, entities=None, data_dir=None, trainer="Rina Das (rina.trainer)"):
    with db.session_scope() as session:
        return nlu_training.label(session, item_id, intent, trainer, entities=entities, data_dir=data_dir, now=WHEN)


def item_row(item_id):
    with db.session_scope() as session:
        item = session.get(NluInboxItem, item_id)
        return {c: getattr(item, c) for c in ("status", "label_intent", "label_entities", "labelled_by", "labelled_at")}


def rasa_load(path: Path):
    from rasa.shared.nlu.training_data.loading import load_data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_data(str(path))
    assert not [w for w in caught if "reviewed.yml" in str(w.message)]
    return data


def test_trainable_intents_are_the_domain_s():
    intents = nlu_training.trainable_intents()
    assert "apply_service" in intents and "out_of_scope" in intents and "nlu_fallback" not in intents
    assert "service" in nlu_training.entity_types()


def test_label_writes_valid_rasa_yaml_with_the_comment_and_the_entity(database, data_dir):
    item_id = add_item(SHOP_TEXT)
    start = SHOP_TEXT.index("trade licence")
    entity = {"start": start, "end": start + len("trade licence"), "entity": "service", "value": "trade_noc"}
    path = do_label(item_id, "apply_service", [entity], data_dir)
    assert path == data_dir / "reviewed.yml"
    content = path.read_text(encoding="utf-8")
    assert content.startswith("# Reviewed examples from the trainers' inbox")
    assert "# reviewed 2026-12-02 by Rina Das (rina.trainer)" in content
    assert '[trade licence]{"entity": "service", "value": "trade_noc"}' in content
    second = add_item("ei mash er majne slip ta kothay paoa jabe dada")
    do_label(second, "get_payslip", None, data_dir)
    third = add_item("আমার দোকানের লাইসেন্সের জন্য কী কী কাগজ লাগবে জানান")
    do_label(third, "apply_service", None, data_dir)

    data = rasa_load(path)
    by_text = {m.get("text"): m for m in data.training_examples}
    assert set(by_text) == {SHOP_TEXT, "ei mash er majne slip ta kothay paoa jabe dada",
                            "আমার দোকানের লাইসেন্সের জন্য কী কী কাগজ লাগবে জানান"}
    shop = by_text[SHOP_TEXT]
    assert shop.get("intent") == "apply_service"
    assert [(e["start"], e["end"], e["entity"], e["value"]) for e in shop.get("entities")] == [
        (start, start + 13, "service", "trade_noc")
    ]
    # One block per intent, the new example under its own intent.
    content = path.read_text(encoding="utf-8")
    blocks = yaml.safe_load(content)["nlu"]
    assert [b["intent"] for b in blocks] == ["apply_service", "get_payslip"]
    assert len(blocks[0]["examples"]) == 2
    assert content.count("# reviewed 2026-12-02 by") == 3
    # The whole folder still loads as Rasa training data.
    assert rasa_load(data_dir).intents >= {"apply_service", "get_payslip"}

    row = item_row(item_id)
    assert row["status"] == "labelled" and row["label_intent"] == "apply_service"
    assert row["label_entities"] == [entity]
    assert row["labelled_by"] == "Rina Das (rina.trainer)" and row["labelled_at"] == WHEN
    with db.session_scope() as session:
        audit = session.execute(select(AuditLog).where(AuditLog.action == "nlu_example_labelled")).scalars().all()
        assert {(a.entity_ref, a.new_state) for a in audit} >= {(str(item_id), "labelled")}


@pytest.mark.parametrize(
    "text",
    [
        "I HAVE A COMPLAINT!",  # data/nlu/grievances.yml, another case and a full stop
        "ok bye for now",  # the held-out set is never trained on
        "আমার একটা অভিযোগ আছে।",  # Bengali, with a danda
    ],
)
def test_a_text_that_already_is_an_example_is_refused_and_nothing_changes(database, data_dir, text):
    item_id = add_item(text)
    before = snapshot(database)
    with pytest.raises(PanchayatError) as raised:
        do_label(item_id, "lodge_grievance", None, data_dir)
    assert raised.value.key == "label_duplicate"
    assert snapshot(database) == before
    assert not (data_dir / "reviewed.yml").exists()


def test_a_second_label_of_the_same_text_is_refused(database, data_dir):
    first = add_item("pukurer jol e mach mara jacche keu dekhche na", key="a")
    second = add_item("Pukurer jol e mach mara jacche keu dekhche na.", key="b")
    do_label(first, "lodge_grievance", None, data_dir)
    content = (data_dir / "reviewed.yml").read_text(encoding="utf-8")
    with pytest.raises(PanchayatError) as raised:
        do_label(second, "lodge_grievance", None, data_dir)
    assert raised.value.key == "label_duplicate"
    assert (data_dir / "reviewed.yml").read_text(encoding="utf-8") == content
    assert item_row(second)["status"] == "new"
    with pytest.raises(PanchayatError) as raised:
        do_label(first, "greet", None, data_dir)
    assert raised.value.key == "label_not_new"


def test_not_for_us_is_trained_as_out_of_scope(database, data_dir):
    item_id = add_item("cricket match er score ta bolo to dada")
    path = do_label(item_id, "not_for_us", None, data_dir)
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    assert blocks == [{"intent": "out_of_scope", "examples": [{"text": "cricket match er score ta bolo to dada"}]}]
    row = item_row(item_id)
    assert (row["status"], row["label_intent"]) == ("not_for_us", "out_of_scope")


@pytest.mark.parametrize("text", ["amar number 9830012345 e phone korben", "call me on 98300 12345 please"])
def test_a_phone_number_is_refused(database, data_dir, text):
    item_id = add_item(text)
    with pytest.raises(PanchayatError) as raised:
        do_label(item_id, "talk_to_human", None, data_dir)
    assert raised.value.key == "label_phone_number"
    assert item_row(item_id)["status"] == "new" and not (data_dir / "reviewed.yml").exists()


@pytest.mark.parametrize(
    "intent, entities, key",
    [
        ("buy_a_cow", None, "label_unknown_intent"),
        ("nlu_fallback", None, "label_unknown_intent"),
        ("apply_service", [{"start": 40, "end": 99, "entity": "service"}], "label_entity_outside"),
        ("apply_service", [{"start": 12, "end": 20, "entity": "service"}], "label_entity_not_on_text"),
        ("apply_service", [{"start": 13, "end": 26, "entity": "cow"}], "label_unknown_entity"),
        (
            "apply_service",
            [{"start": 13, "end": 26, "entity": "service", "value": "cow_noc"}],
            "label_bad_entity_value",
        ),
        (
            "apply_service",
            [{"start": 13, "end": 26, "entity": "service"}, {"start": 19, "end": 26, "entity": "service"}],
            "label_entity_not_on_text",
        ),
    ],
)
def test_bad_labels_are_refused_in_both_languages(database, data_dir, intent, entities, key):
    item_id = add_item(SHOP_TEXT)
    before = snapshot(database)
    with pytest.raises(PanchayatError) as raised:
        do_label(item_id, intent, entities, data_dir)
    assert raised.value.key == key
    assert raised.value.message("en") != raised.value.message("bn")
    assert snapshot(database) == before and not (data_dir / "reviewed.yml").exists()


def test_a_rolled_back_label_takes_its_example_out_of_the_file(database, data_dir):
    kept = add_item("gramer pukur ta kobe sarano hobe jante chai")
    do_label(kept, "lodge_grievance", None, data_dir)
    content = (data_dir / "reviewed.yml").read_text(encoding="utf-8")
    item_id = add_item("amader parar school er samne alo nei")
    with pytest.raises(RuntimeError):
        with db.session_scope() as session:
            nlu_training.label(session, item_id, "lodge_grievance", "Rina Das", data_dir=data_dir, now=WHEN)
            assert "amader parar school" in (data_dir / "reviewed.yml").read_text(encoding="utf-8")
            raise RuntimeError("the commit failed")
    assert (data_dir / "reviewed.yml").read_text(encoding="utf-8") == content
    assert item_row(item_id)["status"] == "new"


def test_a_rolled_back_first_label_leaves_no_file(database, data_dir):
    item_id = add_item("amader parar school er samne alo nei")
    with pytest.raises(RuntimeError):
        with db.session_scope() as session:
            nlu_training.label(session, item_id, "lodge_grievance", "Rina Das", data_dir=data_dir, now=WHEN)
            raise RuntimeError("the commit failed")
    assert not (data_dir / "reviewed.yml").exists()


def test_taking_an_example_out_drops_its_empty_intent():
    entry = ["  # reviewed 2026-12-02 by A", "  - text: 'b'"]
    other = ["  # reviewed 2026-12-02 by A", "  - text: 'c'"]
    content = nlu_training.with_example(nlu_training.with_example(None, "greet", other), "deny", entry)
    assert nlu_training.without_example(content, entry) == nlu_training.with_example(None, "greet", other)


# --- The command line ------------------------------------------------------------------------


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_inbox_and_label(database, data_dir, capsys):
    item_id = add_item(SHOP_TEXT)
    code, out, _ = run(capsys, "nlu", "inbox")
    assert code == 0 and "1 messages in the trainers' inbox (new)" in out
    assert f"{item_id:>5}  x3" in out and "service_info" in out and "0.41" in out and SHOP_TEXT in out

    code, _, err = run(capsys, "nlu", "label", str(item_id), "buy_a_cow")
    assert code == 2 and "not an intent a trainer may choose" in err
    code, _, err = run(capsys, "nlu", "label", str(item_id), "apply_service", "--entity", "13-26-service")
    assert code == 2 and "START:END:ENTITY" in err
    code, _, err = run(capsys, "nlu", "label", "99999", "greet")
    assert code == 2 and "no message 99999" in err

    code, out, err = run(
        capsys, "nlu", "label", str(item_id), "apply_service", "--entity", "13:26:service:trade_noc", "--by", "Rina Das"
    )
    assert code == 0, err
    assert f"Message {item_id} labelled apply_service" in out and "reviewed.yml" in out
    content = (data_dir / "reviewed.yml").read_text(encoding="utf-8")
    assert '[trade licence]{"entity": "service", "value": "trade_noc"}' in content and "by Rina Das" in content

    code, out, _ = run(capsys, "--json", "nlu", "inbox", "--status", "labelled")
    listed = json.loads(out)
    assert [(d["id"], d["label_intent"], d["labelled_by"]) for d in listed] == [(item_id, "apply_service", "Rina Das")]

    other = add_item("cricket er khobor bolo")
    code, out, _ = run(capsys, "nlu", "label", str(other), "not_for_us", "--by", "Rina Das")
    assert code == 0 and "not for us" in out and "out_of_scope" in out


def test_cli_collect_calls_the_inbox_with_the_tracker_store(database, capsys, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:////tmp/no-such-trackers.db")
    calls = []

    def collect(session, tracker_url, now=None, **kwargs):
        calls.append(tracker_url)
        return {"messages": 7, "groups": 3}

    monkeypatch.setattr(nlu_inbox, "collect", collect)
    code, out, _ = run(capsys, "nlu", "collect")
    assert code == 0 and "7 messages, 3 groups" in out
    assert calls == ["sqlite:////tmp/no-such-trackers.db"]


def test_cli_retrain_runs_the_script_and_tells_where_the_report_is(capsys, monkeypatch, tmp_path):
    from panchayat import cli

    status = tmp_path / "status.json"
    status.write_text(json.dumps({
        "state": "refused",
        "summary": "held-out macro-F1 0.900 < gate 0.950",
        "result": {"report": "/x/results/retrain/report.md", "reason_key": "nlu_retrain_refused_gate",
                   "reason_params": {"after": "0.900", "gate": "0.950"}},
    }))
    monkeypatch.setattr(cli, "RETRAIN_STATUS", status)
    commands = []

    class Done:
        returncode = 1

    def fake_run(command, **kwargs):
        commands.append(command)
        return Done()

    monkeypatch.setattr(cli.subprocess, "run", fake_run)
    code, out, _ = run(capsys, "nlu", "retrain", "--no-activate")
    assert code == 1
    assert commands[0][1:] == [str(ROOT / "scripts" / "retrain.py"), "--no-activate"]
    assert "Retrain finished (refused); the report is in /x/results/retrain/report.md" in out
    assert "below the gate 0.950" in out


# --- The gated retrain, without training ----------------------------------------------------------


@pytest.fixture(scope="module")
def retrain():
    spec = importlib.util.spec_from_file_location("retrain_script", ROOT / "scripts" / "retrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluation(retrain, predictions):
    return retrain.summarise([{"text": t, "intent": g, "predicted": p} for t, g, p in predictions])


BEFORE = [
    ("hello", "greet", "greet"),
    ("bye", "goodbye", "goodbye"),
    ("trade licence chai", "apply_service", "service_info"),
    ("trade licence ki", "service_info", "service_info"),
    ("cricket score", "out_of_scope", "apply_service"),
]
AFTER_GOOD = [
    ("hello", "greet", "greet"),
    ("bye", "goodbye", "goodbye"),
    ("trade licence chai", "apply_service", "apply_service"),
    ("trade licence ki", "service_info", "service_info"),
    ("cricket score", "out_of_scope", "out_of_scope"),
]
AFTER_BAD = [
    ("hello", "greet", "goodbye"),
    ("bye", "goodbye", "goodbye"),
    ("trade licence chai", "apply_service", "service_info"),
    ("trade licence ki", "service_info", "apply_service"),
    ("cricket score", "out_of_scope", "apply_service"),
]


def models_dir(tmp_path):
    folder = tmp_path / "models"
    (folder / "candidates").mkdir(parents=True)
    (folder / "panchayat.tar.gz").write_bytes(b"old model")
    (folder / ".fingerprint").write_text("old\n")
    candidate = folder / "candidates" / "20261202-093000.tar.gz"
    candidate.write_bytes(b"new model")
    return folder, candidate


def test_a_candidate_that_passes_the_gate_and_the_stories_becomes_active(retrain, tmp_path):
    folder, candidate = models_dir(tmp_path)
    before, after = evaluation(retrain, BEFORE), evaluation(retrain, AFTER_GOOD)
    summary = retrain.conclude(before, after, 0.95, {"passed": True}, candidate, folder, "abc123", tmp_path / "out")
    assert summary["state"] == "passed" and summary["activated"]
    assert (folder / "panchayat.tar.gz").read_bytes() == b"new model" and not candidate.exists()
    assert (folder / ".fingerprint").read_text() == "abc123\n"
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "**activated**" in report
    assert "| apply_service | 0.000 | 1.000 | +1.000 | 1 |" in report
    assert "| apply_service | service_info | 1 | 0 |" in report  # fixed since
    assert "| out_of_scope | apply_service | 1 | 0 |" in report
    assert '- fixed: "cricket score" (out_of_scope): apply_service -> out_of_scope' in report
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["gate"]["passed"] and data["stories"]["passed"] and data["activated"]
    assert {"true": "out_of_scope", "predicted": "apply_service", "count": 1} in data["confusions"]["before"]
    assert data["confusions"]["after"] == []
    assert {"intent": "apply_service", "before": 0.0, "after": 1.0, "support": 1} in data["per_intent"]


def test_a_candidate_below_the_gate_is_not_made_active(retrain, tmp_path):
    folder, candidate = models_dir(tmp_path)
    before, after = evaluation(retrain, BEFORE), evaluation(retrain, AFTER_BAD)
    summary = retrain.conclude(before, after, 0.95, {"passed": True}, candidate, folder, "abc123", tmp_path / "out")
    assert summary["state"] == "refused" and not summary["activated"]
    assert summary["reason_key"] == "nlu_retrain_refused_gate" and "< gate 0.950" in summary["reason"]
    assert (folder / "panchayat.tar.gz").read_bytes() == b"old model" and candidate.exists()
    assert (folder / ".fingerprint").read_text() == "old\n"
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "**refused**" in report and "FAILED" in report
    assert '- broken: "hello" (greet): greet -> goodbye' in report


def test_failing_stories_or_no_activate_keep_the_active_model(retrain, tmp_path):
    folder, candidate = models_dir(tmp_path)
    after = evaluation(retrain, AFTER_GOOD)
    summary = retrain.conclude(None, after, 0.95, {"passed": False}, candidate, folder, "x", tmp_path / "out")
    assert summary["state"] == "refused" and summary["reason_key"] == "nlu_retrain_refused_stories"
    assert (folder / "panchayat.tar.gz").read_bytes() == b"old model"
    summary = retrain.conclude(
        None, after, 0.95, {"passed": True}, candidate, folder, "x", tmp_path / "out", allow_activation=False
    )
    assert summary["state"] == "passed" and not summary["activated"]
    assert summary["reason_key"] == "nlu_retrain_passed_not_activated"
    assert (folder / "panchayat.tar.gz").read_bytes() == b"old model"


def test_the_fingerprint_is_train_sh_s(retrain):
    import subprocess

    script = (
        "inputs=(config.yml domain.yml); for dir in data nlu; do while IFS= read -r f; do inputs+=(\"$f\"); done "
        "< <(find \"$dir\" -type f \\( -name '*.yml' -o -name '*.py' -o -name '*.txt' \\)); done; "
        "printf '%s\\n' \"${inputs[@]}\" | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1"
    )
    expected = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert retrain.fingerprint() == expected.strip()
