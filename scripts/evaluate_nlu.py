"""NLU evaluation in one command: held-out test, 5-fold cross-validation, report and gate.

    python scripts/evaluate_nlu.py [--skip-cv] [--model PATH]

1. `rasa test nlu` on tests/nlu (the held-out set, never trained on).
2. `rasa test nlu --cross-validation --folds 5` on data/nlu (skipped with --skip-cv).
3. The model parses every held-out line once more to check normalised entity values.
4. docs/nlu-report.md: per-intent F1, accuracy and macro-F1 per register, the
   most confused pairs, entity F1 and value accuracy, out-of-scope leakage.
5. Gate: exit 1 when held-out intent macro-F1 falls below docs/nlu-gate.json.
"""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HELDOUT_DIR = ROOT / "tests" / "nlu"
RESULTS = ROOT / "results"
REPORT = ROOT / "docs" / "nlu-report.md"
GATE = ROOT / "docs" / "nlu-gate.json"
MODEL = ROOT / "models" / "panchayat.tar.gz"
RASA = str(ROOT / ".venv" / "bin" / "rasa")
SERVICE_INTENTS = {
    "apply_service", "download_certificate", "check_application_status", "service_info", "book_guest_house",
    "cancel_booking", "check_booking", "lodge_grievance", "check_grievance_status", "get_payslip",
    "get_salary_statement",
}
# [text]{"entity": ..., "value": ...} or [text](entity)
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\{(?P<json>[^}]+)\}|\((?P<entity>[^)]+)\))")


def plain_and_entities(example: str) -> Tuple[str, List[Dict]]:
    text, entities, cursor = "", [], 0
    for match in ANNOTATION.finditer(example):
        text += example[cursor:match.start()]
        start = len(text)
        text += match.group("text")
        if match.group("json"):
            spec = json.loads("{" + match.group("json") + "}")
        else:
            spec = {"entity": match.group("entity")}
        entities.append({"entity": spec["entity"], "value": spec.get("value"), "start": start, "end": len(text)})
        cursor = match.end()
    return text + example[cursor:], entities


def load_heldout() -> List[Dict]:
    examples = []
    for path in sorted(HELDOUT_DIR.glob("heldout_*.yml")):
        register = path.stem.replace("heldout_", "")
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text, entities = plain_and_entities(line[2:].strip())
                    examples.append({"text": text, "intent": block["intent"], "register": register,
                                     "entities": entities})
    return examples


def run(command: List[str]) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def f1_scores(pairs: List[Tuple[str, str]]) -> Dict[str, float]:
    """Per-label F1 over (gold, predicted) pairs, for the gold labels present."""
    labels = {gold for gold, _ in pairs}
    scores = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return scores


async def parse_all(texts: List[str], model: Path = MODEL) -> List[Dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def entity_values(examples: List[Dict], parses: List[Dict]) -> Dict[str, Tuple[int, int]]:
    """(correct, total) normalised values per entity type, over gold entities that carry a value."""
    counts: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for example, parse in zip(examples, parses):
        for gold in example["entities"]:
            if gold["value"] is None:
                continue
            counts[gold["entity"]][1] += 1
            if any(p["entity"] == gold["entity"] and str(p.get("value")) == str(gold["value"])
                   for p in parse["entities"]):
                counts[gold["entity"]][0] += 1
    return {kind: (c[0], c[1]) for kind, c in counts.items()}


def tune_threshold(cv_out: Path) -> List[Tuple[float, int, int, int, float]]:
    """Out-of-fold cost of each fallback threshold: a wrong service guess costs 2, a
    question back on a line that would have been right costs 1, any other wrong guess 1."""
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = cv_out / name
        if path.exists():
            rows += json.loads(path.read_text())
    table = []
    for step in range(30, 96, 5):
        threshold = step / 100
        wrong_service = wrong_other = questioned = 0
        for row in rows:
            predicted, confidence = row["intent_prediction"]["name"], row["intent_prediction"]["confidence"] or 0
            correct = predicted == row["intent"]
            if confidence < threshold:
                questioned += correct
            elif not correct:
                if predicted in SERVICE_INTENTS:
                    wrong_service += 1
                else:
                    wrong_other += 1
        cost = (2 * wrong_service + wrong_other + questioned) / max(len(rows), 1)
        table.append((threshold, wrong_service, wrong_other, questioned, cost))
    return table


def entity_f1(out_dir: Path) -> Dict[str, Tuple[float, int]]:
    """Best F1 per entity type over the extractors' reports (each extractor owns some types)."""
    best: Dict[str, Tuple[float, int]] = {}
    for report in out_dir.glob("*_report.json"):
        if report.name.startswith("intent") or report.name.startswith("response"):
            continue
        for kind, scores in json.loads(report.read_text()).items():
            if not isinstance(scores, dict) or kind.endswith("avg") or kind == "no_entity":
                continue
            if kind not in best or scores["f1-score"] > best[kind][0]:
                best[kind] = (scores["f1-score"], int(scores["support"]))
    return best


def heldout_predictions(model: Path = MODEL, out_dir: Path = RESULTS / "nlu-heldout") -> Tuple[List[Dict], List[Dict]]:
    """`rasa test nlu` of `model` on the held-out set into `out_dir`, then one parse per line:
    the held-out examples, each with its "predicted" intent, and the parses."""
    run([RASA, "test", "nlu", "--nlu", str(HELDOUT_DIR), "--model", str(model), "--out", str(out_dir),
         "--successes", "--no-plot"])
    examples = load_heldout()
    predicted = {}
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out_dir / name
        if path.exists():
            for row in json.loads(path.read_text()):
                predicted[row["text"]] = row["intent_prediction"]["name"]
    parses = asyncio.run(parse_all([e["text"] for e in examples], model))
    for example, parse in zip(examples, parses):
        example["predicted"] = predicted.get(example["text"], parse["intent"]["name"])
    return examples, parses


def gate_minimum() -> float:
    """The held-out intent macro-F1 a model must reach (docs/nlu-gate.json)."""
    return json.loads(GATE.read_text())["heldout_intent_macro_f1_min"] if GATE.exists() else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cv", action="store_true", help="skip the 5-fold cross-validation")
    parser.add_argument("--no-report", action="store_true", help="print the report without writing docs/")
    parser.add_argument("--model", type=Path, default=MODEL, help="the model to evaluate (default: models/panchayat.tar.gz)")
    args = parser.parse_args()
    heldout_out = RESULTS / "nlu-heldout"
    examples, parses = heldout_predictions(args.model, heldout_out)
    cv_report, threshold_table = None, []
    if not args.skip_cv:
        cv_out = RESULTS / "nlu-cv"
        # Cross-validate without the fallback, so every out-of-fold confidence is seen and the
        # fallback threshold can be chosen on training data, never on the held-out set.
        config = yaml.safe_load((ROOT / "config.yml").read_text())
        config["pipeline"] = [c for c in config["pipeline"] if c["name"] != "FallbackClassifier"]
        cv_config = RESULTS / "cv-config.yml"
        RESULTS.mkdir(exist_ok=True)
        cv_config.write_text(yaml.safe_dump(config, sort_keys=False))
        run([RASA, "test", "nlu", "--nlu", "data/nlu", "--config", str(cv_config), "--cross-validation",
             "--folds", "5", "--out", str(cv_out), "--no-plot", "--successes"])
        cv_report = json.loads((cv_out / "intent_report.json").read_text())
        threshold_table = tune_threshold(cv_out)

    report = json.loads((heldout_out / "intent_report.json").read_text())
    pairs = [(e["intent"], e["predicted"]) for e in examples]
    overall_f1 = f1_scores(pairs)
    macro = sum(overall_f1.values()) / len(overall_f1)
    by_register = defaultdict(list)
    for e in examples:
        by_register[e["register"]].append((e["intent"], e["predicted"]))
    confusions = Counter((g, p) for g, p in pairs if g != p)
    oos = [p for g, p in pairs if g == "out_of_scope"]
    oos_leak = sum(1 for p in oos if p in SERVICE_INTENTS) / len(oos) if oos else 0.0
    values = entity_values(examples, parses)
    spans = entity_f1(heldout_out)

    lines = [
        "# NLU evaluation",
        "",
        f"Made by `make evaluate-nlu` (`python scripts/evaluate_nlu.py`) on {date.today().isoformat()}; "
        "the held-out set `tests/nlu/` was written separately from `data/nlu/` and is never trained on.",
        "",
        "## Held-out intents",
        "",
        f"- examples: {len(examples)}; intents: {len(overall_f1)}",
        f"- accuracy: {report['accuracy']:.3f}",
        f"- macro-F1: {macro:.3f} (Rasa's report: {report['macro avg']['f1-score']:.3f}, "
        "which also averages labels only ever predicted, such as nlu_fallback)",
        f"- out-of-scope lines taken as a service intent: {oos_leak:.1%} of {len(oos)}",
        f"- sent to fallback (a question back): {sum(1 for _, p in pairs if p == 'nlu_fallback')} lines",
        "",
        "| register | examples | accuracy | macro-F1 | to fallback |",
        "|---|---|---|---|---|",
    ]
    for register, register_pairs in sorted(by_register.items()):
        scores = f1_scores(register_pairs)
        accuracy = sum(1 for g, p in register_pairs if g == p) / len(register_pairs)
        fallback = sum(1 for _, p in register_pairs if p == "nlu_fallback")
        lines.append(f"| {register} | {len(register_pairs)} | {accuracy:.3f} | "
                     f"{sum(scores.values()) / len(scores):.3f} | {fallback} |")
    lines += ["", "| intent | held-out F1 | support | 5-fold CV F1 |", "|---|---|---|---|"]
    support = Counter(g for g, _ in pairs)
    for intent in sorted(overall_f1):
        cv = f"{cv_report[intent]['f1-score']:.3f}" if cv_report and intent in cv_report else "-"
        lines.append(f"| {intent} | {overall_f1[intent]:.3f} | {support[intent]} | {cv} |")
    lines += ["", "## Most confused pairs (gold -> predicted)", ""]
    lines += [f"- {g} -> {p}: {n}" for (g, p), n in confusions.most_common(10)] or ["- none"]
    lines += ["", "## Entities", "", "| entity | span F1 | support | normalised value correct |", "|---|---|---|---|"]
    for kind in sorted(set(spans) | set(values)):
        f1, n = spans.get(kind, (0.0, 0))
        correct, total = values.get(kind, (0, 0))
        value_text = f"{correct}/{total} ({correct / total:.0%})" if total else "-"
        lines.append(f"| {kind} | {f1:.3f} | {n} | {value_text} |")
    if cv_report:
        lines += ["", "## 5-fold cross-validation on the training data (without the fallback)", "",
                  f"- accuracy: {cv_report['accuracy']:.3f}; macro-F1: {cv_report['macro avg']['f1-score']:.3f}"]
    if threshold_table:
        configured = next(c.get("threshold") for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
                          if c["name"] == "FallbackClassifier")
        best = min(threshold_table, key=lambda row: (row[4], row[0]))
        lines += ["", "## Fallback threshold, chosen on out-of-fold predictions", "",
                  f"Configured: {configured}; lowest cost here: {best[0]:.2f}. Cost per line = (2 x wrong service "
                  "guesses + other wrong guesses + questions back on lines that were right) / lines.", "",
                  "| threshold | wrong service guesses | other wrong guesses | needless questions | cost |",
                  "|---|---|---|---|---|"]
        lines += [f"| {t:.2f} | {ws} | {wo} | {q} | {c:.4f} |" for t, ws, wo, q, c in threshold_table]
    if not args.no_report:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))

    gate = gate_minimum()
    if macro < gate:
        print(f"\nGATE FAILED: held-out intent macro-F1 {macro:.3f} < {gate:.3f}", file=sys.stderr)
        return 1
    print(f"\ngate passed: held-out intent macro-F1 {macro:.3f} >= {gate:.3f}")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
