"""`make bench`: ours against a stock `rasa init` assistant, in one run, on this machine.

    python scripts/bench.py --whatsapp           # what `make bench` runs; about 6-7 minutes
    python scripts/bench.py                      # the REST comparison alone; about 4-5 minutes
    python scripts/bench.py --duration 30 --tag quick
    BENCH_PORT_BASE=7600 python scripts/bench.py  # other ports (default 7500..7503; 7503 the console)

What it does:
  1. the stock assistant: `rasa init --no-prompt --init-dir var/bench/stock` (made and trained
     once, reused when its model is there), served by plain `rasa run --enable-api` on its own
     port, REST channel only;
  2. ours, the embedded default: `scripts/stack.py serve` (whatever Rasa server it starts; SQLite
     and logs in var/bench/ours, WhatsApp off) on its own ports;
  3. REST load (scripts/bench_load.py --rest, closed loop, no think time) against each in turn:
     1 user, then 20 users, each a warm-up and a short measured window; ours plays the panchayat
     conversation mix, stock the moodbot mix;
  4. a report with the ratios against issue 15's targets: var/bench/report-<tag>.md and .json
     (each run's full result in var/bench/<tag>-<run>.json), printed at the end.

Each run records the CPU milliseconds per answered message of each server process (and its
children) from /proc, and their resident memory.

With --whatsapp (`make bench` passes it; about 2 minutes more; needs nginx-light, PostgreSQL and Redis as in
docs/production.md): the production stack (`scripts/production.py start --rasa 2 --actions 1
--quiet`, its default ports) at 40 msg/s offered through the signed webhook (bench_load.py
--rate 40): answered/s, p95, errors, CPU ms per message per process. `--no-rest` skips the REST part.

A failed production run is reported and does not stop the REST report.

Before and after against offered load (about 7 minutes each; the plot in docs/benchmark.md):

    python scripts/bench.py --no-rest --whatsapp --rates 10,20,30,40,50 --duration 30 --tag sweep-after
    python scripts/bench.py --no-rest --whatsapp --rates 10,20,30,40,50 --duration 30 \\
        --tag sweep-before --stack-root ../before   # a worktree of the earlier commit, its .venv, models/
    python scripts/bench_plot.py before=sweep-before after=sweep-after
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
RASA = str(ROOT / ".venv" / "bin" / "rasa")
BENCH_DIR = ROOT / "var" / "bench"
STOCK_DIR = BENCH_DIR / "stock"
OURS_VAR = BENCH_DIR / "ours"
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", 7500))
STOCK_PORT, OURS_RASA_PORT, OURS_ACTION_PORT = PORT_BASE, PORT_BASE + 1, PORT_BASE + 2
RUNS = [  # (label, users)
    ("1user", 1),
    ("20users", 20),
]
TARGETS = {"throughput_ratio_20users": 1.0, "p50_ms_1user": 100.0, "rss_mib": 1024.0}


def environment(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATSAPP_")}  # WhatsApp off
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    env.update(extra)
    return env


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def stock_model() -> Path:
    """The stock assistant's model, made once by `rasa init` (which trains it)."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz")) if (STOCK_DIR / "models").exists() else []
    if not models:
        log("making the stock assistant (rasa init --no-prompt; trains once, 1-3 minutes)")
        STOCK_DIR.mkdir(parents=True, exist_ok=True)
        with open(BENCH_DIR / "stock-init.log", "w") as out:
            subprocess.run(
                [RASA, "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                cwd=STOCK_DIR,
                env=environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=900,
            )
        models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    return models[-1]


def wait_http(url: str, process: subprocess.Popen, name: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited (code {process.returncode}); see its log in {BENCH_DIR}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{name} not ready after {timeout:.0f} s")


def start_stock() -> subprocess.Popen:
    model = stock_model()
    out = open(BENCH_DIR / "stock-server.log", "w")
    process = subprocess.Popen(
        [RASA, "run", "--enable-api", "--port", str(STOCK_PORT), "--model", str(model)],
        cwd=STOCK_DIR,
        env=environment(),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process


def start_ours() -> subprocess.Popen:
    env = environment(PANCHAYAT_VAR_DIR=str(OURS_VAR), RASA_PORT=str(OURS_RASA_PORT), ACTION_PORT=str(OURS_ACTION_PORT),
                      CONSOLE_PORT=str(OURS_ACTION_PORT + 1))
    OURS_VAR.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "scripts/stack.py", "db"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    out = open(BENCH_DIR / "ours-stack.log", "w")
    return subprocess.Popen(
        [PY, "scripts/stack.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def ours_pids(stack: subprocess.Popen) -> Dict[str, int]:
    """The Rasa and action server processes stack.py started, by name."""
    found: Dict[str, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            if ppid != stack.pid:
                continue
            with open(f"/proc/{entry}/cmdline") as handle:
                command = handle.read().replace("\0", " ")
        except (OSError, IndexError, ValueError):
            continue
        name = "actions" if "rasa_sdk" in command else "rasa" if "rasa" in command else "other"
        found[name] = int(entry)
    return found


def stop(process: Optional[subprocess.Popen], timeout: float = 30) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # stack.py and production.py stop their own servers
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def rest_load_command(url: str, scripts: str, users: int, args, pids_file: Path, label: str, out: Path) -> List[str]:
    """scripts/bench_load.py through Rasa's REST channel: closed loop, no think time, citizens
    leaving after two conversations (make bench and scripts/bench_profile.py drive the same way)."""
    return [PY, "scripts/bench_load.py", "--rest", "--webhook", f"{url}/webhooks/rest/webhook",
            "--scripts", scripts, "--users", str(users), "--think-min", "0", "--think-max", "0",
            "--duration", str(args.duration), "--warmup", str(args.warmup), "--conversations-per-user", "2",
            "--sample-every", "5", "--pids-file", str(pids_file), "--label", label, "--json", str(out)]  # fmt: skip


def drive(tag: str, name: str, scripts: str, url: str, pids: Dict[str, int], users: int, args) -> Dict:
    pids_file = BENCH_DIR / f"{tag}-{name}-pids.json"
    pids_file.write_text(json.dumps(pids))
    out = BENCH_DIR / f"{tag}-{name}.json"
    log(f"{name}: {users} user(s), {args.warmup:.0f} s warm-up + {args.duration:.0f} s measured")
    subprocess.run(rest_load_command(url, scripts, users, args, pids_file, f"{tag}-{name}", out), cwd=ROOT,
                   env=environment())  # fmt: skip
    return json.loads(out.read_text())


def whatsapp_production(tag: str, args) -> Dict[str, Dict]:
    """The production stack through the signed WhatsApp webhook, at each offered rate of
    --rates in turn (one stack for all of them): {run name: bench_load result}."""
    secret = os.urandom(16).hex()  # throwaway; the Graph API is the driver's own receiver
    env = environment(
        WHATSAPP_VERIFY_TOKEN="bench",
        WHATSAPP_ACCESS_TOKEN="bench-token",
        WHATSAPP_APP_SECRET=secret,
        WHATSAPP_PHONE_NUMBER_ID="100000000000001",
        WHATSAPP_API_BASE_URL="http://127.0.0.1:8089",
    )
    log_path = BENCH_DIR / "production.log"
    command = [PY, "scripts/production.py", "start", "--rasa", "2", "--actions", "1", "--quiet"]
    if args.model:
        command += ["--model", args.model]
    if args.endpoints:
        command += ["--endpoints", args.endpoints]
    stack_root = Path(args.stack_root) if args.stack_root else ROOT
    stack = subprocess.Popen(
        command, cwd=stack_root, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    results: Dict[str, Dict] = {}
    try:
        deadline = time.monotonic() + 300
        while "production: ready" not in log_path.read_text():
            if stack.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the production stack did not come up; see {log_path}")
            time.sleep(1)
        time.sleep(5)
        for rate in args.rates:
            name = f"prod-whatsapp-rate{rate:g}"
            out = BENCH_DIR / f"{tag}-{name}.json"
            log(f"{name}: {rate:g} msg/s offered, {args.warmup:.0f} s warm-up + {args.duration:.0f} s measured")
            subprocess.run(
                [
                    PY,
                    "scripts/bench_load.py",
                    "--rate",
                    f"{rate:g}",
                    "--users",
                    str(max(40, int(rate))),
                    "--duration",
                    str(args.duration),
                    "--warmup",
                    str(args.warmup),
                    "--conversations-per-user",
                    "2",
                    "--label",
                    f"{tag}-{name}",
                    "--json",
                    str(out),
                    "--pids-file",
                    str(stack_root / "var" / "run" / "production" / "pids.json"),
                ],
                cwd=ROOT,
                env=env,
            )
            results[name] = json.loads(out.read_text())
            time.sleep(5)  # the queue of a saturated rate drains before the next
        return results
    finally:
        # production.py gives each server up to 40 s to stop; killed sooner, it would leave its
        # Rasa servers (each in its own process group) running.
        stop(stack, timeout=150)


def summary_row(result: Dict) -> Dict:
    return {
        "answered_per_second": result["answered_per_second"],
        "p50_ms": result["latency_ms"]["p50"],
        "p95_ms": result["latency_ms"]["p95"],
        "errors": result["errors"]["total"],
        "empty_replies": result.get("empty_replies", 0),
        "messages": result["turns_answered"],
        "cpu_ms_per_message": result["server_cpu_ms_per_answered"],
        "rss_mib_last": result["rss_mib_last"],
        "load_average": result["load_average_after"],
    }


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 2) if a and b else None


def production_line(row: Optional[Dict]) -> str:
    if not row:
        return "| production ≥ 40 msg/s WhatsApp, p95 ≤ 1 s, no errors | not measured (`--whatsapp`) | |"
    met = row["answered_per_second"] >= 40 * 0.98 and (row["p95_ms"] or 1e9) <= 1000 and row["errors"] == 0
    return (
        f"| production ≥ 40 msg/s WhatsApp, p95 ≤ 1 s, no errors | {row['answered_per_second']} msg/s, "
        f"p95 {row['p95_ms']} ms, {row['errors']} errors | {'yes' if met else 'no'} |"
    )


def report(tag: str, rows: Dict[str, Dict], elapsed: float, load_before: List[float]) -> Dict:
    ours1, stock1, ours20, stock20 = (
        rows.get(k, {}) for k in ("ours-1user", "stock-1user", "ours-20users", "stock-20users")
    )
    # Ours only (the REST runs of the embedded default and the production runs): stock's own
    # Rasa server is reported in its row, not judged.
    rss_max = max(
        [
            value
            for name, row in rows.items()
            if not name.startswith("stock")
            for key, value in row.get("rss_mib_last", {}).items()
            if key.startswith("rasa")
        ]
        or [0]
    )
    checks = {
        "throughput_ratio_20users": ratio(ours20.get("answered_per_second"), stock20.get("answered_per_second")),
        "throughput_ratio_1user": ratio(ours1.get("answered_per_second"), stock1.get("answered_per_second")),
        "p50_ms_1user": ours1.get("p50_ms"),
        "rss_mib": rss_max,
    }
    met = {
        "throughput_ratio_20users": (checks["throughput_ratio_20users"] or 0) >= TARGETS["throughput_ratio_20users"],
        "p50_ms_1user": checks["p50_ms_1user"] is not None and checks["p50_ms_1user"] <= TARGETS["p50_ms_1user"],
        "rss_mib": 0 < rss_max <= TARGETS["rss_mib"],
    }
    data = {
        "tag": tag,
        "elapsed_seconds": round(elapsed),
        "load_average_before": load_before,
        "runs": rows,
        "checks": checks,
        "targets": TARGETS,
        "met": met,
    }
    lines = [
        f"# make bench {tag}",
        "",
        f"Embedded default (`scripts/stack.py serve`) against stock `rasa init` (`rasa run`), REST, closed loop "
        f"without think time, same run; 'empty replies' are answers with no message (counted as answered). "
        f"Load average before: {load_before}. Elapsed: {elapsed:.0f} s.",
        "",
        "| run | msg/s | p50 ms | p95 ms | errors | empty replies | CPU ms per message (per process) "
        "| RSS MiB | load after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        cpu = ", ".join(f"{k} {v}" for k, v in row["cpu_ms_per_message"].items())
        rss = ", ".join(f"{k} {v:.0f}" for k, v in row["rss_mib_last"].items())
        lines.append(
            f"| {name} | {row['answered_per_second']} | {row['p50_ms']} | {row['p95_ms']} | {row['errors']} "
            f"| {row['empty_replies']} | {cpu} | {rss} | {row['load_average']} |"
        )
    lines += [
        "",
        "| target | measured | met? |",
        "|---|---|---|",
        f"| ours ≥ 1.0 × stock throughput, 20 users | {checks['throughput_ratio_20users']} × | "
        f"{'yes' if met['throughput_ratio_20users'] else 'no'} |",
        f"| ours p50 ≤ 100 ms, 1 user | {checks['p50_ms_1user']} ms | {'yes' if met['p50_ms_1user'] else 'no'} |",
        f"| Rasa server RSS ≤ 1 GB | {rss_max:.0f} MiB | {'yes' if met['rss_mib'] else 'no'} |",
        f"| (for information) ours / stock throughput, 1 user | {checks['throughput_ratio_1user']} × | |",
        production_line(rows.get("prod-whatsapp-rate40")),
        "",
    ]
    text = "\n".join(lines)
    (BENCH_DIR / f"report-{tag}.md").write_text(text)
    (BENCH_DIR / f"report-{tag}.json").write_text(json.dumps(data, indent=1))
    print(text)
    log(f"written {BENCH_DIR / f'report-{tag}.md'} and .json")
    return data


def main(argv: Optional[List[str]] = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--tag", default=time.strftime("%Y%m%d-%H%M"))
    options.add_argument("--duration", type=float, default=45, help="measured seconds per run")
    options.add_argument("--warmup", type=float, default=10, help="seconds of load before measuring")
    options.add_argument("--whatsapp", action="store_true", help="also the production stack through WhatsApp")
    options.add_argument("--no-rest", action="store_true", help="skip the REST comparison")
    options.add_argument(
        "--rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[40.0],
        help="offered msg/s of the WhatsApp runs, comma-separated (default 40; the plot's sweep: 10,20,30,40,50)",
    )
    options.add_argument("--model", help="the production stack's model (default ours), e.g. an earlier one")
    options.add_argument("--endpoints", help="the production stack's endpoints file (default production's)")
    options.add_argument(
        "--stack-root",
        help="start the production stack of this checkout instead (a git worktree "
        "of an earlier commit, with its .venv and models/: the 'before')",
    )
    args = options.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    started = time.monotonic()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    stock = ours = None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    rows: Dict[str, Dict] = {}
    try:
        if args.no_rest:
            raise StopIteration
        log(f"starting stock (:{STOCK_PORT}) and ours (:{OURS_RASA_PORT}, actions :{OURS_ACTION_PORT})")
        stock = start_stock()
        ours = start_ours()
        wait_http(f"http://127.0.0.1:{STOCK_PORT}/status", stock, "stock rasa run")
        wait_http(f"http://127.0.0.1:{OURS_RASA_PORT}/status", ours, "scripts/stack.py serve")
        time.sleep(5)  # let both settle
        targets = {
            "stock": ("stock", f"http://127.0.0.1:{STOCK_PORT}", {"rasa": stock.pid}),
            "ours": ("panchayat", f"http://127.0.0.1:{OURS_RASA_PORT}", ours_pids(ours)),
        }
        log(f"ready after {time.monotonic() - started:.0f} s; ours' processes {list(targets['ours'][2])}")
        for label, users in RUNS:
            for who in ("stock", "ours"):
                scripts, url, pids = targets[who]
                name = f"{who}-{label}"
                rows[name] = summary_row(drive(args.tag, name, scripts, url, pids, users, args))
    except StopIteration:
        pass
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except (RuntimeError, subprocess.CalledProcessError) as error:
        log(f"failed: {error}")
        return 1
    finally:
        stop(ours)
        stop(stock)
    if args.whatsapp:
        try:
            for name, result in whatsapp_production(args.tag, args).items():
                rows[name] = summary_row(result)
        except (RuntimeError, OSError, ValueError) as error:
            log(f"production run failed: {error}")
    report(args.tag, rows, time.monotonic() - started, load_before)
    log(f"elapsed {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
