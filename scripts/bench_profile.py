"""Where the CPU of a turn goes: the embedded default under the benchmark's REST mix, sampled by py-spy.

    python scripts/bench_profile.py                 # 20 users, 40 s sampled; about 2 minutes
    python scripts/bench_profile.py --users 1 --duration 30 --top 30

Starts `scripts/stack.py serve` as `make bench` does (ports BENCH_PORT_BASE+1/+2, var/bench/ours),
drives it with scripts/bench_load.py --rest (panchayat mix, closed loop) and, during the measured
window, records the Rasa server and the action server with `py-spy record --format raw` (one
line per distinct stack and its sample count). It prints, per process, the share of samples:

- by "area" (the first frame of a stack that matches one of AREAS: NLU pipeline, policies,
  tracker store, action calls, JSON, ...), so that the cost of each kind of work reads at once;
- by function, self time (the innermost frame) and inclusive time (anywhere on the stack).

The raw files stay in var/bench/profile-<process>.txt for flame graphs (e.g. flamegraph.pl, or
speedscope after `py-spy record --format speedscope`). py-spy is in requirements-dev.txt; it
needs ptrace rights over the servers (root here, or `kernel.yama.ptrace_scope=0`).
"""

import argparse
import collections
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (the same stack and driver as make bench)

# The first matching (substring of "function (file)") frame, from the outermost in, names the
# area a sample is charged to. Order matters: the more specific first.
AREAS: List[Tuple[str, str]] = [
    ("NLU: DIET (TensorFlow)", "diet_classifier.py"),
    ("NLU: count vectors", "count_vectors_featurizer.py"),
    ("NLU: regex featurizer", "regex_featurizer.py"),
    ("NLU: lexical-syntactic", "lexical_syntactic_featurizer.py"),
    ("NLU: our components", "/nlu/"),
    ("NLU: other (graph, messages)", "rasa/nlu/"),
    ("policies: rules", "rule_policy.py"),
    ("policies: memoization", "memoization.py"),
    ("policies: featurize tracker", "rasa/core/featurizers"),
    ("policies: ensemble", "rasa/core/policies/"),
    ("action server call", "rasa/core/actions/action.py"),
    ("forms", "rasa/core/actions/forms.py"),
    ("tracker store", "tracker_store.py"),
    ("lock store", "lock_store.py"),
    ("tracker (events, states)", "rasa/shared/core/trackers.py"),
    ("events", "rasa/shared/core/events.py"),
    ("rest of the turn (processor, graph runner)", "rasa/core/channels"),
    ("sanic", "sanic/"),
    ("rasa_sdk: executor", "rasa_sdk/executor.py"),
    ("rasa_sdk: forms", "rasa_sdk/forms.py"),
    ("rasa_sdk: endpoint", "rasa_sdk/endpoint.py"),
    ("our actions", "/actions/"),
    ("our core (panchayat)", "/panchayat/"),
    ("json", "json"),
    ("asyncio loop", "asyncio/"),
]


def area_of(frames: List[str]) -> str:
    for label, needle in AREAS:
        if any(needle in frame for frame in frames):
            return label
    return "other"


def read_raw(path: Path) -> List[Tuple[List[str], int]]:
    """py-spy's raw format: frames outermost first, separated by ';', then a space and the count."""
    stacks = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        frames, _, count = line.rpartition(" ")
        stacks.append((frames.split(";"), int(count)))
    return stacks


def summarise(stacks: List[Tuple[List[str], int]], top: int) -> Dict:
    total = sum(count for _, count in stacks) or 1
    areas: Dict[str, int] = collections.Counter()
    own: Dict[str, int] = collections.Counter()
    inclusive: Dict[str, int] = collections.Counter()
    for frames, count in stacks:
        # Idle threads (the event loop waiting in select/epoll) are not work.
        if frames and ("select (selectors.py" in frames[-1] or "epoll" in frames[-1]):
            areas["idle (waiting)"] += count
            continue
        areas[area_of(frames)] += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def shares(counter: Dict[str, int]) -> List[Tuple[str, float]]:
        return [(name, round(100.0 * n / total, 1)) for name, n in collections.Counter(counter).most_common(top)]

    return {"samples": total, "areas": shares(areas), "self": shares(own), "inclusive": shares(inclusive)}


def print_summary(name: str, summary: Dict) -> None:
    print(f"\n## {name}: {summary['samples']} samples")
    for title in ("areas", "self", "inclusive"):
        print(f"\n{title} (% of samples)")
        for label, share in summary[title]:
            print(f"  {share:5.1f}  {label[:150]}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=40.0, help="seconds sampled (and measured)")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--tag", default="profile")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy", path=str(bench.ROOT / ".venv" / "bin")) or shutil.which("py-spy")
    if not py_spy:
        print("bench_profile: py-spy is missing (pip install -r requirements-dev.txt)", file=sys.stderr)
        return 2
    bench.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    stack = bench.start_ours()
    recorders: List[subprocess.Popen] = []
    try:
        bench.wait_http(f"http://127.0.0.1:{bench.OURS_RASA_PORT}/", stack, "ours")
        bench.wait_http(f"http://127.0.0.1:{bench.OURS_ACTION_PORT}/health", stack, "our action server")
        pids = bench.ours_pids(stack)
        pids_file = bench.BENCH_DIR / f"{args.tag}-pids.json"
        pids_file.write_text(json.dumps(pids))
        outputs = {name: bench.BENCH_DIR / f"{args.tag}-{name}.txt" for name in ("rasa", "actions")}
        load_json = bench.BENCH_DIR / f"{args.tag}-load.json"
        driver = subprocess.Popen(
            bench.rest_load_command(f"http://127.0.0.1:{bench.OURS_RASA_PORT}", "panchayat", args.users, args,
                                    pids_file, args.tag, load_json),
            cwd=bench.ROOT,
            env=bench.environment(),
        )  # fmt: skip
        time.sleep(args.warmup)
        for name, path in outputs.items():
            recorders.append(
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "-p",
                        str(pids[name]),
                        "-d",
                        str(int(args.duration)),
                        "-r",
                        str(args.rate),
                        "--format",
                        "raw",
                        "-o",
                        str(path),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        driver.wait()
        for recorder in recorders:
            recorder.wait(timeout=120)
        load = json.loads(load_json.read_text())
        print(
            f"load: {load['answered_per_second']} msg/s answered, p50 {load['latency_ms']['p50']} ms, "
            f"CPU ms per message {load['server_cpu_ms_per_answered']}"
        )
        summaries = {}
        for name, path in outputs.items():
            summaries[name] = summarise(read_raw(path), args.top)
            print_summary(name, summaries[name])
        (bench.BENCH_DIR / f"{args.tag}-summary.json").write_text(json.dumps(summaries, indent=1))
    finally:
        for recorder in recorders:
            if recorder.poll() is None:
                recorder.kill()
        bench.stop(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
