"""Out-of-domain false accepts: how much real non-panchayat chatter the NLU takes for a request.

    python scripts/ood_false_accepts.py [--model models/panchayat.tar.gz] [--max-rate 0.03] [FILE ...]

Each FILE (default: tests/nlu/ood/dev.txt and heldout.txt, see tests/nlu/ood/README.md) holds
one line of real code-mixed Bengali-English social media text a line, none of it about panchayat
services. Every line is parsed by the model as the assistant would (FallbackClassifier included),
so an intent other than `nlu_fallback` was taken at or above the fallback threshold.

A false accept is a line taken as a TRANSACTIONAL intent: one that starts or changes something
for the villager with no question pending (a service request or lookup, a switch of reply
language, a hand-over to a human, a choice of panchayat, a rating, panchayat information in
place of an answer). Chit-chat (`out_of_scope`, `greet`, `goodbye`, `thank_you`,
`bot_challenge`, `show_menu`) and answers that only mean something to an open question
(`affirm`, `deny`, `inform`, `cancel`) are not counted; they are listed apart. Also counted: lines
where a `language` entity is extracted, since that alone may switch the reply language.

Exit 1 when any file's false-accept rate is above --max-rate.
"""

import argparse
import asyncio
import logging
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL = ROOT / "models" / "panchayat.tar.gz"
OOD_DIR = ROOT / "tests" / "nlu" / "ood"
# The service intents of scripts/evaluate_nlu.py (kept equal by tests/test_ood_false_accepts.py).
SERVICE_INTENTS = {
    "apply_service", "download_certificate", "check_application_status", "service_info", "book_guest_house",
    "cancel_booking", "check_booking", "lodge_grievance", "check_grievance_status", "get_payslip",
    "get_salary_statement",
}
TRANSACTIONAL_INTENTS = SERVICE_INTENTS | {
    "change_language", "talk_to_human", "inform_panchayat", "rate_grievance", "panchayat_info",
}


def quiet() -> None:
    """Rasa's per-message debug lines off: the report is what this prints."""
    import structlog

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("rasa").setLevel(logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def read_lines(path: Path) -> List[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def _parse(model: Path, texts: Sequence[str]) -> List[Dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def parse_all(model: Path, texts: Sequence[str]) -> List[Dict]:
    return asyncio.run(_parse(model, texts))


def summarise(texts: Sequence[str], parses: Sequence[Dict]) -> Dict:
    by_intent: Dict[str, List[str]] = defaultdict(list)
    other: Counter = Counter()
    language_entities: List[str] = []
    for text, parse in zip(texts, parses, strict=True):
        intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
        if intent in TRANSACTIONAL_INTENTS:
            by_intent[intent].append(text)
        else:
            other[intent] += 1
        if any(e.get("entity") == "language" for e in parse.get("entities", [])):
            language_entities.append(text)
    accepts = sum(len(v) for v in by_intent.values())
    return {
        "lines": len(texts),
        "false_accepts": accepts,
        "rate": accepts / len(texts) if texts else 0.0,
        "by_intent": dict(by_intent),
        "other_intents": dict(other),
        "language_entities": language_entities,
    }


def measure(model: Path, paths: Sequence[Path]) -> Dict[str, Dict]:
    """{file name: summary} for each file, parsed by one loaded model."""
    texts = {path: read_lines(path) for path in paths}
    everything = [t for path in paths for t in texts[path]]
    parses = iter(parse_all(model, everything))
    return {path.name: summarise(texts[path], [next(parses) for _ in texts[path]]) for path in paths}


def report(name: str, summary: Dict, examples: int = 3) -> List[str]:
    lines = [
        f"{name}: {summary['lines']} lines, {summary['false_accepts']} false accepts "
        f"({summary['rate']:.1%}); language entity on {len(summary['language_entities'])} lines"
    ]
    for intent, texts in sorted(summary["by_intent"].items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {intent}: {len(texts)}")
        lines += [f"    - {t}" for t in texts[:examples]]
    if summary["language_entities"]:
        lines.append("  language entity in:")
        lines += [f"    - {t}" for t in summary["language_entities"][:examples]]
    others = ", ".join(f"{k} {v}" for k, v in sorted(summary["other_intents"].items(), key=lambda kv: -kv[1]))
    lines.append(f"  not counted: {others}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: tests/nlu/ood/dev.txt and heldout.txt")
    parser.add_argument("--model", type=Path, default=MODEL, help=f"default: {MODEL.relative_to(ROOT)}")
    parser.add_argument("--max-rate", type=float, default=None, help="exit 1 when a file's rate is above this")
    parser.add_argument("--examples", type=int, default=3, help="example lines shown per intent")
    args = parser.parse_args()
    quiet()
    paths = args.files or [OOD_DIR / "dev.txt", OOD_DIR / "heldout.txt"]
    results = measure(args.model, paths)
    print(f"model: {args.model}")
    for name, summary in results.items():
        print("\n".join(report(name, summary, args.examples)))
    if args.max_rate is not None:
        over = [name for name, s in results.items() if s["rate"] > args.max_rate]
        if over:
            print(f"above {args.max_rate:.1%}: {', '.join(over)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
