"""Starts what the assistant needs on one machine, and stops all of it on exit.

    python scripts/stack.py db      create or migrate the database; demo data into an empty one
    python scripts/stack.py serve   action server + Rasa server until Ctrl-C or SIGTERM
    python scripts/stack.py run     the same, with a chat in this terminal

Ports: RASA_PORT (5005) and ACTION_PORT (5055). Server logs go to var/log/.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panchayat import config, db, migrate, seed  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "panchayat.tar.gz"
RUN_DIR = config.VAR_DIR / "run"
LOG_DIR = config.VAR_DIR / "log"
RASA_PORT = int(os.environ.get("RASA_PORT", 5005))
ACTION_PORT = int(os.environ.get("ACTION_PORT", 5055))
WHATSAPP_KEYS = ("verify_token", "app_secret", "access_token", "phone_number_id")


def prepare_database() -> None:
    revision = migrate.upgrade()
    with db.session_scope() as session:
        if seed.demo_present(session):
            print(f"db: schema at {revision}; data present")
            return
        counts = seed.seed_demo(session)
    print(f"db: schema at {revision}; loaded demo data ({counts['sample_gps']} sample GPs, "
          f"{counts['applications']} applications, {counts['employees']} employees)")


def runtime_files() -> List[str]:
    """Credentials and endpoints for this run: WhatsApp only when its credentials are set."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    credentials = ["rest:", "connectors.verify.CertificateVerification:"]
    if all(os.environ.get(f"WHATSAPP_{key.upper()}") for key in WHATSAPP_KEYS):
        if (ROOT / "connectors" / "whatsapp.py").exists():
            # The channel reads its secrets from the environment; none are written to disk.
            credentials.append("connectors.whatsapp.WhatsAppInput:")
            print("serve: WhatsApp channel on")
        else:
            print("serve: WHATSAPP_* is set, but this build has no WhatsApp channel yet; REST only",
                  file=sys.stderr)
    credentials_file = RUN_DIR / "credentials.yml"
    credentials_file.write_text("\n".join(credentials) + "\n")
    endpoints = (ROOT / "endpoints.yml").read_text().replace(
        "http://localhost:5055/webhook", f"http://localhost:{ACTION_PORT}/webhook"
    )
    endpoints_file = RUN_DIR / "endpoints.yml"
    endpoints_file.write_text(endpoints)
    return [str(credentials_file), str(endpoints_file)]


def start(name: str, command: List[str]) -> subprocess.Popen:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{name}.log", "ab")
    # A process group of its own, so stopping it also stops whatever it spawned.
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


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


def serve(interactive: bool) -> int:
    if not MODEL.exists():
        print("no trained model: run `make train` first", file=sys.stderr)
        return 1
    credentials, endpoints = runtime_files()
    processes: List[subprocess.Popen] = []

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        actions = start("actions", [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions",
                                    "--port", str(ACTION_PORT)])
        processes.append(actions)
        rasa = start("rasa", [str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--enable-api",
                              "--port", str(RASA_PORT), "--credentials", credentials, "--endpoints", endpoints])
        processes.append(rasa)
        print(f"serve: starting the action server (:{ACTION_PORT}) and the Rasa server (:{RASA_PORT}) ...")
        wait_ready(f"http://localhost:{ACTION_PORT}/health", actions, "actions")
        wait_ready(f"http://localhost:{RASA_PORT}/status", rasa, "rasa")
        print(f"serve: ready; REST channel at http://localhost:{RASA_PORT}/webhooks/rest/webhook")
        if interactive:
            from chat import chat

            chat(f"http://localhost:{RASA_PORT}")
        else:
            while all(p.poll() is None for p in processes):
                time.sleep(1)
            print("serve: a server stopped; see var/log/", file=sys.stderr)
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
    command = argv[0] if argv else "run"
    if command == "db":
        prepare_database()
        return 0
    if command in ("run", "serve"):
        return serve(interactive=command == "run")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
