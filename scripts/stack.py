"""Starts what the assistant needs on one machine, and stops all of it on exit.

    python scripts/stack.py db      create or migrate the database; demo data into an empty one
    python scripts/stack.py serve   action server + Rasa server until Ctrl-C or SIGTERM
    python scripts/stack.py run     the same, with a chat in this terminal
    python scripts/stack.py simulator   the same servers, WhatsApp on, and a WhatsApp-like chat
                                        page that plays Meta's part (simulator/), until Ctrl-C

When the WhatsApp channel is on, the notification worker (connectors/notifier.py) runs too.
Every mode also starts the staff console (console/, `python -m console`).
Ports: RASA_PORT (5005), ACTION_PORT (5055), CONSOLE_PORT (8070), SIMULATOR_PORT (8090). Server logs go to var/log/.
"""
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.whatsapp.settings import ENVIRONMENT as WHATSAPP_ENVIRONMENT, credentials_in_environment  # noqa: E402
from panchayat import config, db, migrate, seed, staff  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "panchayat.tar.gz"
RUN_DIR = config.VAR_DIR / "run"
LOG_DIR = config.VAR_DIR / "log"
RASA_PORT = int(os.environ.get("RASA_PORT", 5005))
ACTION_PORT = int(os.environ.get("ACTION_PORT", 5055))
SIMULATOR_PORT = int(os.environ.get("SIMULATOR_PORT", 8090))
CONSOLE_PORT = int(os.environ.get("CONSOLE_PORT", 8070))
# The Rasa server of every mode (production too): `rasa` with the guarded patches (deploy/rasa_server.py).
RASA_SERVER = [str(VENV_BIN / "python"), str(ROOT / "deploy" / "rasa_server.py")]
# Sanic's access log is below the SDK's log level (ERROR) anyway; off, no record is built per request.
# MALLOC_ARENA_MAX: each thread of the action server's pool would otherwise get a malloc arena
# of its own; two arenas keep its resident memory about 65 MiB lower under load (145 against
# 210 MiB with 20 users, docs/benchmark.md) at no measurable cost in CPU.
ACTION_SERVER_ENVIRONMENT = {"SANIC_ACCESS_LOG": "False", "MALLOC_ARENA_MAX": "2"}


def prepare_database() -> None:
    revision = migrate.upgrade()
    with db.session_scope() as session:
        if seed.demo_present(session):
            print(f"db: schema at {revision}; data present")
        else:
            counts = seed.seed_demo(session)
            print(f"db: schema at {revision}; loaded demo data ({counts['sample_gps']} sample GPs, "
                  f"{counts['applications']} applications, {counts['employees']} employees)")
        passwords = staff.ensure_demo_accounts(session, seed.DEMO_GP)
    # Shown once: a demo account gets a fresh one-time password until someone has logged in with it.
    for username, password in passwords.items():
        print(f"console: demo account {username}, one-time password {password} (change it at the first login)")


def whatsapp_on() -> bool:
    """The channel runs when all its credentials are set."""
    return credentials_in_environment()


def runtime_files() -> List[str]:
    """Credentials and endpoints for this run: WhatsApp only when its credentials are set."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    credentials = ["rest:", "connectors.verify.CertificateVerification:"]
    if whatsapp_on():
        # The channel reads its secrets from the environment; none are written to disk.
        credentials.append("connectors.whatsapp.WhatsAppInput:")
        print("serve: WhatsApp channel on")
    credentials_file = RUN_DIR / "credentials.yml"
    credentials_file.write_text("\n".join(credentials) + "\n")
    endpoints = (ROOT / "endpoints.yml").read_text().replace(
        "http://localhost:5055/webhook", f"http://localhost:{ACTION_PORT}/webhook"
    )
    if "tracker_store:" not in endpoints:
        # Conversations in a SQLite file of the run (not Rasa's in-memory store), so that the trainers'
        # inbox and the retention purge can read them: config.tracker_database_url().
        trackers = config.VAR_DIR.resolve() / "trackers.db"
        endpoints += f'\ntracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{trackers}"\n'
    endpoints_file = RUN_DIR / "endpoints.yml"
    endpoints_file.write_text(endpoints)
    return [str(credentials_file), str(endpoints_file)]


def start(name: str, command: List[str], environment: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    """Starts one server, its output in var/log/<name>.log; `environment` adds to this process's."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{name}.log", "ab")
    env = {**os.environ, **environment} if environment else None
    # A process group of its own, so stopping it also stops whatever it spawned.
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=env)


def wait_ready(url: str, process: subprocess.Popen, name: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} stopped while starting; see {LOG_DIR / (name + '.log')}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not start within {timeout:.0f}s; see {LOG_DIR / (name + '.log')}")


def stop(processes: List[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def simulator_credentials() -> None:
    """Fresh random WhatsApp credentials for this run, in the environment the servers inherit,
    with the Graph API pointed at the simulator. Nothing is written to disk or printed in full."""
    os.environ.update({
        WHATSAPP_ENVIRONMENT["verify_token"]: secrets.token_urlsafe(24),
        WHATSAPP_ENVIRONMENT["app_secret"]: secrets.token_hex(32),
        WHATSAPP_ENVIRONMENT["access_token"]: "SIM" + secrets.token_urlsafe(48),
        WHATSAPP_ENVIRONMENT["phone_number_id"]: "1" + "".join(secrets.choice("0123456789") for _ in range(14)),
        WHATSAPP_ENVIRONMENT["api_base_url"]: f"http://127.0.0.1:{SIMULATOR_PORT}",
    })
    secret = os.environ[WHATSAPP_ENVIRONMENT["app_secret"]]
    print(f"simulator: WhatsApp credentials generated for this run (app secret {secret[:4]}…)")


def serve(interactive: bool, simulator: bool = False) -> int:
    if not MODEL.exists():
        print("no trained model: run `make train` first", file=sys.stderr)
        return 1
    if simulator:
        simulator_credentials()
    credentials, endpoints = runtime_files()
    processes: List[subprocess.Popen] = []
    names = {}

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        if simulator:
            # First, so that the Graph API is there when the channel first calls it.
            page = start("simulator", [str(VENV_BIN / "python"), "-m", "simulator", "--port", str(SIMULATOR_PORT),
                                       "--webhook", f"http://127.0.0.1:{RASA_PORT}/webhooks/whatsapp/webhook"])
            processes.append(page)
            names[page.pid] = "simulator"
            wait_ready(f"http://127.0.0.1:{SIMULATOR_PORT}/sim/api/health", page, "simulator", timeout=30)
        # The SDK's own entry point, as in production: `rasa run actions` would also load Rasa and
        # TensorFlow (about 500 MB, and TensorFlow's hooks on every GC) into the action server.
        actions = start("actions", [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                    "--port", str(ACTION_PORT)], ACTION_SERVER_ENVIRONMENT)
        processes.append(actions)
        # The one Rasa server of every mode: `rasa` with the guarded patches of deploy/rasa_server.py.
        rasa = start("rasa", RASA_SERVER + ["run", "--model", str(MODEL), "--enable-api", "--port", str(RASA_PORT),
                                            "--credentials", credentials, "--endpoints", endpoints])
        processes.append(rasa)
        # The staff console (console/): the office's side of every conversation, on the same database.
        console = start("console", [str(VENV_BIN / "python"), "-m", "console", "--port", str(CONSOLE_PORT)])
        processes.append(console)
        names.update({actions.pid: "actions", rasa.pid: "rasa", console.pid: "console"})
        print(f"serve: starting the action server (:{ACTION_PORT}) and the Rasa server (:{RASA_PORT}) ...")
        wait_ready(f"http://localhost:{ACTION_PORT}/health", actions, "actions")
        wait_ready(f"http://localhost:{RASA_PORT}/status", rasa, "rasa")
        wait_ready(f"http://127.0.0.1:{CONSOLE_PORT}/healthz", console, "console", timeout=60)
        if whatsapp_on():
            # The outbox goes out over WhatsApp only while the channel is on; it reads WHATSAPP_*.
            notifier = start("notifier", [str(VENV_BIN / "python"), "-m", "connectors.notifier"])
            processes.append(notifier)
            names[notifier.pid] = "notifier"
            print("serve: notification worker on (outbox -> WhatsApp)")
        print(f"serve: ready; REST channel at http://localhost:{RASA_PORT}/webhooks/rest/webhook")
        if whatsapp_on():
            print(f"serve: WhatsApp webhook at http://localhost:{RASA_PORT}/webhooks/whatsapp/webhook")
        print(f"console: staff console at http://localhost:{CONSOLE_PORT} (demo accounts: demo-clerk, demo-pradhan)")
        if simulator:
            print(f"simulator: open http://localhost:{SIMULATOR_PORT}", flush=True)
        if interactive:
            from chat import chat

            print("tip: `make simulator` gives a WhatsApp-like chat in the browser instead")
            chat(f"http://localhost:{RASA_PORT}")
        else:
            while all(p.poll() is None for p in processes):
                time.sleep(1)
            stopped = [names.get(p.pid, "a server") for p in processes if p.poll() is not None]
            print(f"serve: {', '.join(stopped)} stopped; see {LOG_DIR}/", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 1
    finally:
        stop(processes)
        print("serve: stopped")
    return 0


def main(argv: List[str]) -> int:
    # Line by line even into a pipe: callers (tests, supervisors) wait for the "ready" lines.
    sys.stdout.reconfigure(line_buffering=True)
    command = argv[0] if argv else "run"
    if command == "db":
        prepare_database()
        return 0
    if command in ("run", "serve"):
        return serve(interactive=command == "run")
    if command == "simulator":
        return serve(interactive=False, simulator=True)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
