"""Throughput and latency against offered load, one line per series, into one PNG.

    python scripts/bench_plot.py before=sweep-before after=sweep-after [--out docs/benchmark.png]

Each series is `label=tag`: the runs var/bench/<tag>-prod-whatsapp-rate<R>.json that
`scripts/bench.py --no-rest --whatsapp --rates 10,20,30,40,50 --tag <tag>` writes (the production
stack through the signed WhatsApp webhook at each offered rate). Left: answered msg/s against
offered msg/s (the diagonal is "answers all it is offered"). Right: p50 and p95 latency (log
scale), with the issue's p95 target of 1 s. The figures are also printed as a table.
"""

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
RATE = re.compile(r"-prod-whatsapp-rate(?P<rate>[0-9.]+)\.json$")


def series_points(tag: str) -> List[Tuple[float, Dict]]:
    points = []
    for path in BENCH_DIR.glob(f"{tag}-prod-whatsapp-rate*.json"):
        match = RATE.search(path.name)
        if match:
            points.append((float(match.group("rate")), json.loads(path.read_text())))
    return sorted(points, key=lambda point: point[0])


def plot(series: Dict[str, List[Tuple[float, Dict]]], out: Path, title: Optional[str]) -> None:
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(10, 4.2))
    highest = max((rate for points in series.values() for rate, _ in points), default=50)
    throughput.plot([0, highest], [0, highest], color="0.8", linestyle=":", label="offered = answered")
    for label, points in series.items():
        rates = [rate for rate, _ in points]
        (line,) = throughput.plot(
            rates, [result["answered_per_second"] for _, result in points], marker="o", label=label
        )
        latency.plot(
            rates,
            [result["latency_ms"]["p95"] for _, result in points],
            marker="o",
            color=line.get_color(),
            label=f"{label} p95",
        )
        latency.plot(
            rates,
            [result["latency_ms"]["p50"] for _, result in points],
            marker=".",
            linestyle="--",
            color=line.get_color(),
            label=f"{label} p50",
        )
    latency.axhline(1000, color="red", linewidth=0.8, linestyle=":", label="p95 target 1 s")
    throughput.set(xlabel="offered msg/s (signed WhatsApp webhooks)", ylabel="answered msg/s", title="throughput")
    latency.set(xlabel="offered msg/s", ylabel="first reply latency, ms", yscale="log", title="latency")
    for axes in (throughput, latency):
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("series", nargs="+", help="label=tag")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmark.png"))
    parser.add_argument("--title")
    args = parser.parse_args(argv)
    series: Dict[str, List[Tuple[float, Dict]]] = {}
    for item in args.series:
        label, _, tag = item.partition("=")
        points = series_points(tag or label)
        if not points:
            print(f"bench_plot: no runs var/bench/{tag or label}-prod-whatsapp-rate*.json", file=sys.stderr)
            return 2
        series[label] = points
    print("| series | offered msg/s | answered msg/s | p50 ms | p95 ms | errors | CPU ms per message |")
    print("|---|---|---|---|---|---|---|")
    for label, points in series.items():
        for rate, result in points:
            cpu = ", ".join(f"{k} {v}" for k, v in result["server_cpu_ms_per_answered"].items())
            print(
                f"| {label} | {rate:g} | {result['answered_per_second']} | {result['latency_ms']['p50']} "
                f"| {result['latency_ms']['p95']} | {result['errors']['total']} | {cpu} |"
            )
    plot(series, Path(args.out), args.title)
    print(f"bench_plot: written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
