"""Retrain behind the gate: `make retrain` or `python scripts/retrain.py [--no-activate]`.

1. Trains a candidate model on the current data into models/candidates/<timestamp>.tar.gz.
2. Evaluates the held-out set (tests/nlu) with the active model (before) and the candidate
   (after), the same way as `make nlu-heldout` (scripts/evaluate_nlu.py).
3. Runs the test stories (tests/stories) with the candidate.
4. Writes results/retrain/report.md and report.json: per-intent F1 before and after, macro-F1
   against the gate of docs/nlu-gate.json, the stories' result, the most confused pairs before
   and after and the held-out lines that changed.
5. Only when the gate and the stories pass does the candidate replace models/panchayat.tar.gz
   (an atomic rename), with models/.fingerprint as scripts/train.sh computes it; otherwise the
   active model stays and the exit code is 1 with the reason.

Progress is in var/retrain/status.json (state running / passed / refused / failed, started_at,
finished_at, summary) for the console. Exit codes: 0 passed (activated unless --no-activate),
1 refused or failed or already running.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import evaluate_nlu  # noqa: E402

MODELS = ROOT / "models"
ACTIVE_MODEL = MODELS / "panchayat.tar.gz"
FINGERPRINT = MODELS / ".fingerprint"
CANDIDATES = MODELS / "candidates"
OUT = ROOT / "results" / "retrain"
STATUS = ROOT / "var" / "retrain" / "status.json"
RASA = str(ROOT / ".venv" / "bin" / "rasa")
KEEP_CANDIDATES = 3
CONFUSED_PAIRS = 10
CHANGED_LINES = 30


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json_atomically(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(data, file, ensure_ascii=False, indent=2)
    os.replace(temporary, path)


def read_status(path: Path = STATUS) -> Dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def running_elsewhere(status: Dict[str, Any]) -> bool:
    """Whether the status file tells of a retrain whose process still lives."""
    if status.get("state") != "running" or not status.get("pid"):
        return False
    try:
        os.kill(int(status["pid"]), 0)
    except (OSError, ValueError):
        return False
    return int(status["pid"]) != os.getpid()


# --- The fingerprint of scripts/train.sh --------------------------------------------------


def fingerprint(root: Path = ROOT) -> str:
    """What scripts/train.sh writes to models/.fingerprint: sha256 over the `sha256sum` lines of
    config.yml, domain.yml and every *.yml, *.py, *.txt under data/ and nlu/, paths sorted bytewise."""
    inputs = ["config.yml", "domain.yml"]
    for folder in ("data", "nlu"):
        if (root / folder).is_dir():
            inputs += [
                str(path.relative_to(root))
                for path in (root / folder).rglob("*")
                if path.is_file() and path.suffix in (".yml", ".py", ".txt")
            ]
    lines = "".join(
        f"{hashlib.sha256((root / name).read_bytes()).hexdigest()}  {name}\n"
        for name in sorted(inputs, key=lambda name: name.encode())
    )
    return hashlib.sha256(lines.encode()).hexdigest()


# --- Pure comparison and decision -------------------------------------------------------------


def summarise(examples: List[Dict]) -> Dict[str, Any]:
    """Per-intent F1, macro-F1 (as evaluate_nlu's gate), confusions and each line's prediction."""
    pairs = [(e["intent"], e["predicted"]) for e in examples]
    scores = evaluate_nlu.f1_scores(pairs)
    return {
        "examples": len(pairs),
        "accuracy": sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0,
        "macro_f1": sum(scores.values()) / len(scores) if scores else 0.0,
        "per_intent_f1": dict(sorted(scores.items())),
        "support": dict(sorted(Counter(g for g, _ in pairs).items())),
        "confusions": [[g, p, n] for (g, p), n in Counter((g, p) for g, p in pairs if g != p).most_common()],
        "predictions": [[e["text"], e["intent"], e["predicted"]] for e in examples],
    }


def decide(before: Optional[Dict], after: Dict, gate: float, stories_passed: bool) -> Dict[str, Any]:
    """Whether the candidate may become active, and why (reason_key: a catalogue key)."""
    gate_passed = after["macro_f1"] >= gate
    params = {"after": f"{after['macro_f1']:.3f}", "gate": f"{gate:.3f}"}
    if not gate_passed:
        reason_key, reason = "nlu_retrain_refused_gate", f"held-out macro-F1 {params['after']} < gate {params['gate']}"
    elif not stories_passed:
        reason_key, reason = "nlu_retrain_refused_stories", "the test stories failed"
    else:
        reason_key, reason = "nlu_retrain_activated", f"held-out macro-F1 {params['after']} >= gate {params['gate']}"
    return {
        "activate": gate_passed and stories_passed,
        "gate": gate,
        "gate_passed": gate_passed,
        "stories_passed": stories_passed,
        "macro_f1_before": before["macro_f1"] if before else None,
        "macro_f1_after": after["macro_f1"],
        "reason_key": reason_key,
        "reason_params": params,
        "reason": reason,
    }


def _f(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def compare(before: Optional[Dict], after: Dict) -> Dict[str, Any]:
    """Per-intent F1 before and after, the confused pairs of both and the lines that changed."""
    before = before or {"per_intent_f1": {}, "confusions": [], "predictions": []}
    intents = sorted(set(before["per_intent_f1"]) | set(after["per_intent_f1"]))
    per_intent = [
        {
            "intent": intent,
            "before": before["per_intent_f1"].get(intent),
            "after": after["per_intent_f1"].get(intent),
            "support": after.get("support", {}).get(intent, 0),
        }
        for intent in intents
    ]
    counts_before = {(g, p): n for g, p, n in before["confusions"]}
    counts_after = {(g, p): n for g, p, n in after["confusions"]}
    ranked = sorted(
        set(counts_before) | set(counts_after),
        key=lambda pair: (-max(counts_before.get(pair, 0), counts_after.get(pair, 0)), pair),
    )
    confusions = [
        {"gold": g, "predicted": p, "before": counts_before.get((g, p), 0), "after": counts_after.get((g, p), 0)}
        for g, p in ranked[:CONFUSED_PAIRS]
    ]
    was = {text: predicted for text, _, predicted in before["predictions"]}
    changed = [
        {"text": text, "intent": gold, "before": was[text], "after": predicted}
        for text, gold, predicted in after["predictions"]
        if text in was and was[text] != predicted
    ]
    return {"per_intent": per_intent, "confusion_table": confusions, "changed": changed}


def report_markdown(decision: Dict, comparison: Dict, candidate: str, stories: Dict, activated: bool) -> str:
    verdict = "activated" if activated else "refused"
    if decision["activate"] and not activated:
        verdict = "passed, not activated (--no-activate)"
    lines = [
        "# Retrain report",
        "",
        f"Made by `make retrain` (`python scripts/retrain.py`) on {now_iso()}; candidate `{candidate}`.",
        "",
        f"- result: **{verdict}** — {decision['reason']}",
        f"- held-out intent macro-F1: before {_f(decision['macro_f1_before'])}, after {_f(decision['macro_f1_after'])}"
        f" (gate {decision['gate']:.3f}: {'passed' if decision['gate_passed'] else 'FAILED'})",
        f"- test stories: {'passed' if decision['stories_passed'] else 'FAILED'}"
        + (f" ({stories.get('detail')})" if stories.get("detail") else ""),
        "",
        "## Held-out F1 per intent",
        "",
        "| intent | before | after | change | support |",
        "|---|---|---|---|---|",
    ]
    for row in comparison["per_intent"]:
        delta = (
            f"{row['after'] - row['before']:+.3f}" if row["before"] is not None and row["after"] is not None else "-"
        )
        lines.append(f"| {row['intent']} | {_f(row['before'])} | {_f(row['after'])} | {delta} | {row['support']} |")
    lines += ["", "## Most confused pairs (gold -> predicted), lines before and after", ""]
    lines += ["| gold | predicted | before | after |", "|---|---|---|---|"]
    table = comparison["confusion_table"]
    lines += [f"| {c['gold']} | {c['predicted']} | {c['before']} | {c['after']} |" for c in table]
    if not comparison["confusion_table"]:
        lines.append("| - | - | 0 | 0 |")
    lines += ["", f"## Held-out lines whose prediction changed ({len(comparison['changed'])})", ""]
    for row in comparison["changed"][:CHANGED_LINES]:
        mark = "fixed" if row["after"] == row["intent"] else ("broken" if row["before"] == row["intent"] else "other")
        lines.append(f"- {mark}: \"{row['text']}\" ({row['intent']}): {row['before']} -> {row['after']}")
    if not comparison["changed"]:
        lines.append("- none")
    return "\n".join(lines) + "\n"


def write_report(out: Path, decision: Dict, comparison: Dict, candidate: str, stories: Dict, activated: bool) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report_markdown(decision, comparison, candidate, stories, activated), "utf-8")
    write_json_atomically(out / "report.json", report_data(decision, comparison, candidate, stories, activated))
    return out / "report.md"


def report_data(decision: Dict, comparison: Dict, candidate: str, stories: Dict, activated: bool) -> Dict[str, Any]:
    """report.json, as the console's retraining page reads it: per_intent [{intent, before, after,
    support}], confusions {before: [{true, predicted, count}], after: [...]}, gate {passed, ...},
    stories {passed, ...}; and confusion_table (both counts per pair) and changed lines."""

    def side(name: str) -> List[Dict[str, Any]]:
        return [
            {"true": c["gold"], "predicted": c["predicted"], "count": c[name]}
            for c in comparison["confusion_table"]
            if c[name]
        ]

    return {
        "made_at": now_iso(),
        "candidate": candidate,
        "activated": activated,
        "gate": {
            "minimum": decision["gate"],
            "passed": decision["gate_passed"],
            "macro_f1_before": decision["macro_f1_before"],
            "macro_f1_after": decision["macro_f1_after"],
            "reason": decision["reason"],
        },
        "stories": stories,
        "decision": decision,
        "per_intent": comparison["per_intent"],
        "confusions": {"before": side("before"), "after": side("after")},
        "confusion_table": comparison["confusion_table"],
        "changed": comparison["changed"],
    }


def activate(candidate: Path, models_dir: Path, stamp: str) -> Path:
    """The candidate becomes models_dir/panchayat.tar.gz (an atomic rename on the same disk) and
    models_dir/.fingerprint holds `stamp`, so `make train` sees the model as up to date."""
    target = models_dir / "panchayat.tar.gz"
    os.replace(candidate, target)
    handle, temporary = tempfile.mkstemp(prefix=".fingerprint.", dir=models_dir)
    with os.fdopen(handle, "w") as file:
        file.write(stamp + "\n")
    os.replace(temporary, models_dir / ".fingerprint")
    return target


def conclude(
    before: Optional[Dict],
    after: Dict,
    gate: float,
    stories: Dict,
    candidate: Path,
    models_dir: Path,
    stamp: str,
    out: Path,
    allow_activation: bool = True,
) -> Dict[str, Any]:
    """Decides, activates when allowed and passed, writes the report; the run's summary."""
    decision = decide(before, after, gate, bool(stories.get("passed")))
    activated = False
    if decision["activate"] and allow_activation:
        activate(candidate, models_dir, stamp)
        activated = True
    comparison = compare(before, after)
    report = write_report(out, decision, comparison, str(candidate.name), stories, activated)
    if decision["activate"] and not allow_activation:
        decision["reason_key"] = "nlu_retrain_passed_not_activated"
    return {
        "state": "passed" if decision["activate"] else "refused",
        "activated": activated,
        "report": str(report),
        "reason": decision["reason"],
        "reason_key": decision["reason_key"],
        "reason_params": decision["reason_params"],
        "macro_f1_before": decision["macro_f1_before"],
        "macro_f1_after": decision["macro_f1_after"],
        "gate": gate,
        "stories_passed": decision["stories_passed"],
    }


# --- The steps that run Rasa ------------------------------------------------------------------


def train_candidate(name: str) -> Path:
    CANDIDATES.mkdir(parents=True, exist_ok=True)
    evaluate_nlu.run([RASA, "train", "--out", str(CANDIDATES), "--fixed-model-name", name, "--quiet"])
    candidate = CANDIDATES / f"{name}.tar.gz"
    if not candidate.exists():
        raise RuntimeError(f"rasa train made no {candidate}")
    return candidate


def evaluate(model: Path, out: Path) -> Dict[str, Any]:
    examples, _ = evaluate_nlu.heldout_predictions(model, out)
    return summarise(examples)


def run_stories(model: Path, out: Path) -> Dict[str, Any]:
    command = [RASA, "test", "core", "--stories", "tests/stories", "--fail-on-prediction-errors",
               "--model", str(model), "--out", str(out)]
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT)
    failed = out / "failed_test_stories.yml"
    detail = ""
    if failed.exists():
        count = failed.read_text(encoding="utf-8").count("- story:")
        detail = f"{count} failed stories in {failed.relative_to(ROOT)}" if count else ""
    return {"passed": result.returncode == 0, "returncode": result.returncode, "detail": detail}


def running_servers() -> List[str]:
    """The Rasa servers that should answer with the new model at once: PANCHAYAT_RASA_URLS
    (comma-separated; scripts/production.py sets it for its console), else the one that
    scripts/stack.py starts on RASA_PORT."""
    configured = os.environ.get("PANCHAYAT_RASA_URLS")
    if configured is not None:
        return [url.strip().rstrip("/") for url in configured.split(",") if url.strip()]
    return [f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"]


def load_into_running_servers(model: Path, urls: List[str]) -> Dict[str, bool]:
    """Asks each running Rasa server to load `model` (its HTTP API, PUT /model); a server that is
    not running or refuses keeps its model until it is restarted, and that is all that fails."""
    import requests

    loaded = {}
    for url in urls:
        try:
            answer = requests.put(f"{url}/model", json={"model_file": str(model.resolve())}, timeout=600)
            loaded[url] = answer.status_code == 204
        except requests.RequestException:
            loaded[url] = False
    return loaded


def prune_candidates(keep: int = KEEP_CANDIDATES) -> None:
    models = sorted(CANDIDATES.glob("*.tar.gz"))
    for old in models[:-keep] if keep else models:
        old.unlink(missing_ok=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Retrain, gate on the held-out set and the test stories, activate.")
    parser.add_argument(
        "--no-activate", "--dry-run", dest="no_activate", action="store_true",
        help="train and evaluate, but leave the active model as it is",
    )
    args = parser.parse_args(argv)
    existing = read_status()
    if running_elsewhere(existing):
        print(f"retrain: already running since {existing.get('started_at')} (pid {existing.get('pid')})",
              file=sys.stderr)
        return 1
    status: Dict[str, Any] = {"state": "running", "started_at": now_iso(), "finished_at": None, "pid": os.getpid(),
                              "step": "train", "summary": None}
    write_json_atomically(STATUS, status)
    stamp = fingerprint()
    name = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    step = "train"
    try:
        candidate = train_candidate(name)
        step = status["step"] = "evaluate_before"
        write_json_atomically(STATUS, status)
        before = evaluate(ACTIVE_MODEL, OUT / "before") if ACTIVE_MODEL.exists() else None
        step = status["step"] = "evaluate_after"
        write_json_atomically(STATUS, status)
        after = evaluate(candidate, OUT / "after")
        step = status["step"] = "stories"
        write_json_atomically(STATUS, status)
        stories = run_stories(candidate, OUT / "stories")
        step = status["step"] = "decide"
        summary = conclude(before, after, evaluate_nlu.gate_minimum(), stories, candidate, MODELS, stamp, OUT,
                           allow_activation=not args.no_activate)
        prune_candidates()
        if summary["activated"]:
            step = status["step"] = "load"
            write_json_atomically(STATUS, status)
            summary["servers_loaded"] = load_into_running_servers(ACTIVE_MODEL, running_servers())
    except (Exception, KeyboardInterrupt) as error:
        status.update(state="failed", finished_at=now_iso(), pid=None, summary=f"{step}: {type(error).__name__}",
                      result={"reason": f"{step}: {type(error).__name__}: {error}",
                              "reason_key": "nlu_retrain_failed", "reason_params": {"step": step}})
        write_json_atomically(STATUS, status)
        print(f"retrain FAILED at {step}: {error}; the active model is unchanged", file=sys.stderr)
        return 1
    status.update(state=summary["state"], finished_at=now_iso(), pid=None, step="done", summary=summary["reason"],
                  result=summary)
    write_json_atomically(STATUS, status)
    print(Path(summary["report"]).read_text(encoding="utf-8"))
    if summary["state"] != "passed":
        print(f"retrain REFUSED: {summary['reason']}; the active model is unchanged", file=sys.stderr)
        return 1
    print("retrain passed: " + ("the candidate is now the active model" if summary["activated"]
                                else "the candidate was not activated (--no-activate)"))
    for url, loaded in summary.get("servers_loaded", {}).items():
        print(f"  {url}: " + ("answers with it now" if loaded else "not reached: it takes the model at its next start"))
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
