"""The production stack on one machine: PostgreSQL and Redis (already running), N Rasa servers
and M action servers behind nginx, and the notification worker; stopped cleanly on Ctrl-C or
SIGTERM.

    python scripts/production.py start [--rasa N] [--actions M]   until Ctrl-C or SIGTERM
    python scripts/production.py stop                             stops a running `start`

`start` creates the databases when missing, migrates the panchayat database, loads the demo
data into an empty one, then starts the servers and waits until all answer. Citizens' webhooks
go to nginx on WEBHOOK_PORT (8080, path /webhooks/whatsapp/webhook); the Rasa servers reach the
action servers through nginx on ACTION_LB_PORT (8055). The staff console listens on CONSOLE_PORT
(8070) of CONSOLE_LISTEN (127.0.0.1: the office reaches it over its VPN or an HTTPS proxy; with
HTTPS in front set CONSOLE_SECURE_COOKIES=1 and CONSOLE_BEHIND_PROXY=1). The WhatsApp channel is on when
WHATSAPP_VERIFY_TOKEN, _APP_SECRET, _ACCESS_TOKEN and _PHONE_NUMBER_ID are set (secrets stay in
the environment; WHATSAPP_API_BASE_URL points the outbound calls at a fake).

Environment (defaults: the local services):
    DATABASE_URL           panchayat data   postgresql://postgres@127.0.0.1:5432/panchayat_prod
    TRACKER_DATABASE_URL   Rasa trackers    postgresql://postgres@127.0.0.1:5432/rasa_tracker
    REDIS_URL              Rasa lock store  redis://127.0.0.1:6379/1
    LOCK_POLL_SECONDS      how soon a server asks again for a conversation another holds (0.05)
Logs: var/log/production/; rendered configuration and pids: var/run/production/.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import unquote, urlparse


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panchayat import config  # noqa: E402

import stack  # noqa: E402  (scripts/stack.py: the embedded stack's process helpers)
from connectors.whatsapp.settings import credentials_in_environment  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
DEPLOY = ROOT / "deploy"
MODEL = ROOT / "models" / "panchayat.tar.gz"
RUN_DIR = config.VAR_DIR / "run" / "production"
LOG_DIR = config.VAR_DIR / "log" / "production"
SUPERVISOR_PID = RUN_DIR / "supervisor.pid"

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/panchayat_prod"
DEFAULT_TRACKER_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/rasa_tracker"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def whatsapp_on() -> bool:
    return credentials_in_environment()


# --- Databases -----------------------------------------------------------------------------


def ensure_database(url: str) -> bool:
    """Creates the PostgreSQL database named in `url` when it is missing; True when it did."""
    from sqlalchemy import create_engine, text

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = create_engine(url.replace(parsed.path, "/postgres", 1), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                return False
            # A name cannot be a bound parameter; quoting it keeps any name safe.
            connection.execute(text('CREATE DATABASE "{}"'.format(name.replace('"', '""'))))
            return True
    finally:
        admin.dispose()


def prepare_databases(database_url: str, tracker_url: str) -> None:
    for url in (database_url, tracker_url):
        if url.startswith("postgresql") and ensure_database(url):
            print(f"db: created database {urlparse(url).path.lstrip('/')}")
    os.environ["DATABASE_URL"] = database_url
    from panchayat import db, migrate, seed

    revision = migrate.upgrade(database_url)
    with db.session_scope(database_url) as session:
        if seed.demo_present(session):
            print(f"db: panchayat schema at {revision}; data present")
        else:
            counts = seed.seed_demo(session)
            print(f"db: panchayat schema at {revision}; loaded demo data ({counts['employees']} employees, "
                  f"{counts['applications']} applications)")
    db.dispose_engines()


def endpoint_environment(tracker_url: str, redis_url: str, action_lb_port: int) -> Dict[str, str]:
    """The variables deploy/endpoints.production.yml reads, from the two service URLs."""
    tracker, redis = urlparse(tracker_url), urlparse(redis_url)
    return {
        "ACTION_ENDPOINT_URL": setting("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{action_lb_port}/webhook"),
        "TRACKER_DB_HOST": tracker.hostname or "127.0.0.1",
        "TRACKER_DB_PORT": str(tracker.port or 5432),
        "TRACKER_DB_NAME": tracker.path.lstrip("/") or "rasa_tracker",
        "TRACKER_DB_USER": unquote(tracker.username or "postgres"),
        "TRACKER_DB_PASSWORD": unquote(tracker.password or ""),
        "REDIS_HOST": redis.hostname or "127.0.0.1",
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_DB": (redis.path.lstrip("/") or "1"),
        "REDIS_PASSWORD": unquote(redis.password or ""),
        "LOCK_POLL_SECONDS": setting("LOCK_POLL_SECONDS", "0.05"),
    }


# --- Configuration files -------------------------------------------------------------------


def write_credentials(rest: bool) -> Path:
    lines = ["connectors.verify.CertificateVerification:"]
    if whatsapp_on():
        # The channel reads its secrets from the environment; none are written to disk.
        lines.append("connectors.whatsapp.WhatsAppInput:")
    if rest:
        # The REST channel trusts any sender id: for operators' checks on a closed network only.
        lines.append("rest:")
    path = RUN_DIR / "credentials.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_nginx_conf(rasa_ports: List[int], action_ports: List[int], webhook_port: int, action_lb_port: int,
                     listen: str) -> Path:
    template = (DEPLOY / "nginx.conf").read_text()
    values = {
        "WORKER_PROCESSES": "1",
        "RUN_DIR": str(RUN_DIR),
        "LOG_DIR": str(LOG_DIR),
        "RASA_SERVERS": "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in rasa_ports),
        "ACTION_SERVERS": "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in action_ports),
        "LISTEN": listen,
        "WEBHOOK_PORT": str(webhook_port),
        "ACTION_PORT": str(action_lb_port),
    }
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    path = RUN_DIR / "nginx.conf"
    path.write_text(template)
    return path


# --- Processes -----------------------------------------------------------------------------


class Supervisor:
    # A server that dies is started again, unless it died this often within a minute.
    MAX_RESTARTS_PER_MINUTE = 5

    def __init__(self) -> None:
        self.processes: List[subprocess.Popen] = []
        self.names: Dict[int, str] = {}
        self.commands: Dict[str, tuple] = {}
        self.restarts: Dict[str, List[float]] = {}

    def start(self, name: str, command: List[str], env: Dict[str, str]) -> subprocess.Popen:
        log = open(LOG_DIR / f"{name}.log", "ab")
        # A process group of its own, so stopping it also stops whatever it spawned.
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
        self.processes.append(process)
        self.names[process.pid] = name
        self.commands[name] = (command, env)
        return process

    def restart_stopped(self) -> List[str]:
        """Starts again each server that has died; the names of those that die too often."""
        given_up = []
        for process in list(self.processes):
            if process.poll() is None:
                continue
            name = self.names[process.pid]
            now = time.time()
            recent = [t for t in self.restarts.get(name, []) if now - t < 60]
            if len(recent) >= self.MAX_RESTARTS_PER_MINUTE:
                given_up.append(name)
                continue
            self.restarts[name] = recent + [now]
            self.processes.remove(process)
            print(f"production: {name} exited with {process.returncode}; starting it again", file=sys.stderr)
            command, env = self.commands[name]
            self.start(name, command, env)
            (RUN_DIR / "pids.json").write_text(json.dumps(self.pids(), indent=1))
        return given_up

    def wait_ready(self, url: str, process: subprocess.Popen, timeout: float = 300) -> None:
        stack.wait_ready(url, process, self.names[process.pid], timeout)

    def pids(self) -> Dict[str, int]:
        return {self.names[p.pid]: p.pid for p in self.processes}

    def stopped(self) -> List[str]:
        return [self.names[p.pid] for p in self.processes if p.poll() is not None]

    def stop(self) -> None:
        # The front first, so no new work arrives; then the Rasa servers, which finish their
        # turns (and so still need the action servers); the action servers last.
        order = {"nginx": 0, "rasa": 1, "notifier": 2, "actions": 3}
        ranked = sorted(self.processes, key=lambda p: order.get(self.names[p.pid].split("-")[0], 2))
        for process in ranked:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                if self.names[process.pid] == "nginx":
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        pass  # killed below with the rest
        for process in ranked:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def server_environment(args: argparse.Namespace, database_url: str, endpoints_env: Dict[str, str]) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(endpoints_env)
    env.update({
        "DATABASE_URL": database_url,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    if args.tf_threads:
        # Several servers on few cores: one TensorFlow thread each avoids oversubscription.
        env["TF_INTRA_OP_PARALLELISM_THREADS"] = str(args.tf_threads)
        env["TF_INTER_OP_PARALLELISM_THREADS"] = str(args.tf_threads)
    if args.workers > 1:
        # Rasa's own multi-worker mode (Sanic forks): allowed because the lock store is Redis.
        env["SANIC_WORKERS"] = str(args.workers)
    return env


def start(args: argparse.Namespace) -> int:
    if not Path(args.model).exists():
        print(f"no trained model at {args.model}: run `make train` first", file=sys.stderr)
        return 1
    if shutil.which("nginx") is None:
        print("nginx is not installed: apt-get install -y nginx-light", file=sys.stderr)
        return 1
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    database_url = setting("DATABASE_URL", DEFAULT_DATABASE_URL)
    tracker_url = setting("TRACKER_DATABASE_URL", DEFAULT_TRACKER_DATABASE_URL)
    redis_url = setting("REDIS_URL", DEFAULT_REDIS_URL)
    prepare_databases(database_url, tracker_url)

    rasa_ports = [args.rasa_port + i for i in range(args.rasa)]
    action_ports = [args.action_port + i for i in range(args.actions)]
    credentials = write_credentials(args.rest)
    nginx_conf = write_nginx_conf(rasa_ports, action_ports, args.webhook_port, args.action_lb_port, args.listen)
    env = server_environment(args, database_url, endpoint_environment(tracker_url, redis_url, args.action_lb_port))
    supervisor = Supervisor()

    def on_signal(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    SUPERVISOR_PID.write_text(str(os.getpid()))
    try:
        check = subprocess.run(["nginx", "-t", "-q", "-c", str(nginx_conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx configuration refused: {check.stderr.strip()}")
        front = supervisor.start("nginx", ["nginx", "-c", str(nginx_conf)], env)
        # The SDK's own entry point: `rasa run actions` would load Rasa and TensorFlow into every
        # action server too (about 500 MB more each, and TensorFlow's hooks on every GC).
        actions = [supervisor.start(f"actions-{port}", [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions",
                                                        "actions", "--port", str(port)],
                                    {**env, **stack.ACTION_SERVER_ENVIRONMENT})
                   for port in action_ports]
        # The Rasa server of every mode (stack.RASA_SERVER: deploy/rasa_server.py, `rasa` with the
        # guarded fixes the benchmark found); --unpatched: Rasa as shipped.
        rasa = [str(VENV_BIN / "rasa")] if args.unpatched else stack.RASA_SERVER
        rasa_command = rasa + ["run", "--model", str(args.model), "--enable-api", "--interface", args.interface,
                               "--credentials", str(credentials), "--endpoints", str(args.endpoints)]
        if args.quiet:
            rasa_command.append("--quiet")
        servers = [supervisor.start(f"rasa-{port}", rasa_command + ["--port", str(port)], env)
                   for port in rasa_ports]
        print(f"production: starting {len(servers)} Rasa server(s) on {rasa_ports}, {len(actions)} action "
              f"server(s) on {action_ports}, nginx on :{args.webhook_port} (webhooks) and "
              f":{args.action_lb_port} (actions) ...")
        for process, port in zip(actions, action_ports):
            supervisor.wait_ready(f"http://127.0.0.1:{port}/health", process)
        for process, port in zip(servers, rasa_ports):
            supervisor.wait_ready(f"http://127.0.0.1:{port}/status", process)
        supervisor.wait_ready(f"http://127.0.0.1:{args.action_lb_port}/health", front, timeout=30)
        console = supervisor.start("console", [str(VENV_BIN / "python"), "-m", "console", "--host",
                                               args.console_listen, "--port", str(args.console_port),
                                               "--threads", "8"],
                                   # A retraining started from the console hands its model to every server.
                                   {**env, "PANCHAYAT_RASA_URLS": ",".join(f"http://127.0.0.1:{port}"
                                                                           for port in rasa_ports)})
        supervisor.wait_ready(f"http://127.0.0.1:{args.console_port}/healthz", console, timeout=60)
        if whatsapp_on() and (ROOT / "connectors" / "notifier.py").exists() and not args.no_notifier:
            # One worker is enough for the outbox; it claims rows with a lease, so more may run.
            supervisor.start("notifier", [str(VENV_BIN / "python"), "-m", "connectors.notifier"], env)
        (RUN_DIR / "pids.json").write_text(json.dumps(supervisor.pids(), indent=1))
        print(f"production: ready; pids in {RUN_DIR / 'pids.json'}")
        print(f"production: staff console at http://{args.console_listen}:{args.console_port}")
        if whatsapp_on():
            print(f"production: WhatsApp webhook at http://{args.listen}:{args.webhook_port}"
                  f"/webhooks/whatsapp/webhook")
        else:
            print("production: WHATSAPP_* not set; the WhatsApp channel is off", file=sys.stderr)
        while True:
            time.sleep(1)
            given_up = supervisor.restart_stopped()
            if given_up:
                print(f"production: {', '.join(given_up)} keeps stopping; see {LOG_DIR}/", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"production: {error}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop()
        SUPERVISOR_PID.unlink(missing_ok=True)
        print("production: stopped")


def stop(_args: argparse.Namespace) -> int:
    try:
        pid = int(SUPERVISOR_PID.read_text())
    except (OSError, ValueError):
        print("production: not running (no supervisor pid file)")
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        SUPERVISOR_PID.unlink(missing_ok=True)
        print("production: not running (stale pid file removed)")
        return 0
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("production: stopped")
            return 0
        time.sleep(0.5)
    print(f"production: supervisor {pid} still running after 90s", file=sys.stderr)
    return 1


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = commands.add_subparsers(dest="command", required=True)
    run = sub.add_parser("start", help="start the stack and supervise it until Ctrl-C or SIGTERM")
    run.add_argument("--rasa", type=int, default=2, help="Rasa servers (default 2)")
    run.add_argument("--actions", type=int, default=1, help="action servers (default 1)")
    run.add_argument("--workers", type=int, default=1, help="Sanic workers per Rasa server (Rasa's multi-worker mode)")
    run.add_argument("--tf-threads", type=int, default=0, help="TensorFlow threads per Rasa server "
                     "(0: deploy/rasa_server.py's default, 1)")
    run.add_argument("--rasa-port", type=int, default=int(setting("RASA_PORT", "5301")),
                     help="first Rasa server port (default 5301)")
    run.add_argument("--action-port", type=int, default=int(setting("ACTION_PORT", "5351")),
                     help="first action server port (default 5351)")
    run.add_argument("--webhook-port", type=int, default=int(setting("WEBHOOK_PORT", "8080")))
    run.add_argument("--action-lb-port", type=int, default=int(setting("ACTION_LB_PORT", "8055")))
    run.add_argument("--listen", default=setting("WEBHOOK_LISTEN", "0.0.0.0"), help="address nginx listens on")
    run.add_argument("--console-port", type=int, default=int(setting("CONSOLE_PORT", "8070")))
    run.add_argument("--console-listen", default=setting("CONSOLE_LISTEN", "127.0.0.1"),
                     help="address the staff console listens on (default: this machine only)")
    run.add_argument("--interface", default="127.0.0.1",
                     help="address the Rasa servers listen on (their HTTP API is not for the public)")
    run.add_argument("--rest", action="store_true", help="also open the REST channel (closed networks only)")
    run.add_argument("--model", default=str(MODEL), help="the model the Rasa servers load (default: ours)")
    run.add_argument("--endpoints", default=str(DEPLOY / "endpoints.production.yml"),
                     help="the Rasa servers' endpoints file (default deploy/endpoints.production.yml)")
    run.add_argument("--unpatched", action="store_true", help="run Rasa as shipped, without deploy/rasa_server.py")
    run.add_argument("--quiet", action="store_true", help="Rasa servers log warnings only")
    run.add_argument("--no-notifier", action="store_true", help="do not start the notification worker")
    sub.add_parser("stop", help="stop a running `start`")
    return commands


def main(argv: Optional[List[str]] = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    args = parser().parse_args(argv)
    return start(args) if args.command == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
