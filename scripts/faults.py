"""Fault scenarios against a running production stack (the fast ones are tests/test_faults.py).

    # the stack, with its Graph calls sent here and Redis on a port this script owns:
    WHATSAPP_VERIFY_TOKEN=v WHATSAPP_APP_SECRET=s WHATSAPP_ACCESS_TOKEN=t \\
    WHATSAPP_PHONE_NUMBER_ID=100000000000001 WHATSAPP_API_BASE_URL=http://127.0.0.1:8089 \\
    REDIS_URL=redis://127.0.0.1:6391/1 python scripts/production.py start --rasa 2 --actions 1
    WHATSAPP_APP_SECRET=s python scripts/faults.py actions webhooks redis postgres

Scenarios:
  actions    a citizen confirms a booking while every action server has just been killed:
             what the citizen is told, whether a booking was written; then, with the action
             servers started again by the supervisor, the same confirmation once more
  webhooks   one message delivered five times at once (to every Rasa server behind nginx), and
             three messages delivered out of order with copies: replies per message, and order
  redis      Redis stopped mid-load, then started again: answers and errors
             (this script runs the stack's Redis itself, a redis-server on --redis-port, for every
             scenario: start the stack with REDIS_URL pointing there)
  postgres   PostgreSQL restarted mid-load (pg_ctlcluster ... restart; this disturbs every
             other user of the cluster for a few seconds): acknowledged messages never answered
Prints what happened and writes JSON (var/bench/faults.json).
"""
import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
import requests
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from connectors.whatsapp.signing import signed_headers  # noqa: E402
from simulator.graph_fake import button_reply, encode, text_message, webhook  # noqa: E402
from panchayat.catalogue import text as catalogue_text  # noqa: E402

PIDS = ROOT / "var" / "run" / "production" / "pids.json"


class Citizens:
    """Plays Meta for a few citizens: signed webhooks in, the Graph API's messages out."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.received: Dict[str, List[dict]] = {}
        self.arrived = asyncio.Event()

    async def messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.setdefault(str(body.get("to")), []).append(dict(body, at=time.monotonic()))
        self.arrived.set()
        return web.json_response({"messages": [{"id": f"wamid.faults{time.monotonic_ns()}"}]})

    async def media(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": f"{time.monotonic_ns()}"})

    async def __aenter__(self) -> "Citizens":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{phone}/messages", self.messages)
        app.router.add_post("/{phone}/media", self.media)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.args.graph_port, reuse_address=True).start()
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.session.close()
        await self.runner.cleanup()

    async def post(self, messages: List[dict]) -> int:
        body = encode(webhook(messages, phone_number_id=self.args.phone_number_id))
        headers = signed_headers(self.args.app_secret, body)
        try:
            async with self.session.post(self.args.webhook, data=body, headers=headers) as reply:
                return reply.status
        except aiohttp.ClientError:
            return 0

    def texts(self, wa_id: str, since: int = 0) -> List[str]:
        found = []
        for message in self.received.get(wa_id, [])[since:]:
            kind = message.get("type", "text")
            if kind == "text":
                found.append(message["text"]["body"])
            elif kind == "interactive":
                found.append(message["interactive"].get("body", {}).get("text", ""))
            else:
                found.append(f"[{kind}]")
        return found

    async def say(self, wa_id: str, text: str, quiet: float = 1.0, timeout: float = 20.0) -> List[str]:
        """Sends one message; the replies that arrive until `quiet` seconds pass without one."""
        since = len(self.received.get(wa_id, []))
        message = button_reply(wa_id, text, "হ্যাঁ") if text.startswith("/") else text_message(wa_id, text)
        status = await self.post([message])
        if status != 200:
            return [f"<webhook answered {status}>"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received.get(wa_id, [])) > since and \
                    time.monotonic() - self.received[wa_id][-1]["at"] >= quiet:
                break
            await asyncio.sleep(0.1)
        return self.texts(wa_id, since)


def new_wa_id(tag: int) -> str:
    return f"9178{int(time.time()) % 1000000:06d}{tag:03d}"


def stack_pids() -> Dict[str, int]:
    return json.loads(PIDS.read_text())


def bookings_of(wa_id: str) -> int:
    from sqlalchemy import func, select

    from panchayat import db
    from panchayat.citizens import find_citizen
    from panchayat.models import Booking

    with db.session_scope() as session:
        citizen = find_citizen(session, wa_id)
        if citizen is None:
            return 0
        return session.execute(select(func.count(Booking.id)).where(Booking.citizen_id == citizen.id)).scalar()


def wait_healthy(url: str, timeout: float = 180) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(url, timeout=2).ok:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not healthy after {timeout}s")


# --- Scenarios -------------------------------------------------------------------------------


async def action_server_killed(citizens: Citizens, args: argparse.Namespace) -> Dict:
    wa_id = new_wa_id(1)
    steps = ["guest house e ekta room chai", "bagula 1", "1", "20 theke 21 february", "1 ta"]
    transcript = []
    for text in steps:
        transcript.append({"sent": text, "replies": await citizens.say(wa_id, text)})
    killed = []
    for name, pid in stack_pids().items():
        if name.startswith("actions-"):
            os.killpg(pid, signal.SIGKILL)
            killed.append(name)
    started = time.monotonic()
    during = await citizens.say(wa_id, "/affirm", quiet=2.0, timeout=15)
    result = {"killed": killed, "before": transcript, "confirm_while_down": during,
              "replied_while_down": bool(during), "seconds_to_first_reply": round(time.monotonic() - started, 1),
              "bookings_after_failed_confirm": bookings_of(wa_id)}
    result["action_servers_back_after_s"] = round(wait_healthy(f"http://127.0.0.1:{args.action_lb_port}/health"), 1)
    result["confirm_again"] = await citizens.say(wa_id, "/affirm", quiet=2.0)
    result["bookings_after_second_confirm"] = bookings_of(wa_id)
    try_again = {catalogue_text("try_again", language) for language in ("bn", "en")}
    result["told_to_try_again"] = bool(set(during) & try_again)
    result["ok"] = (result["told_to_try_again"] and result["bookings_after_failed_confirm"] == 0
                    and result["bookings_after_second_confirm"] == 1)
    return result


async def duplicated_and_reordered(citizens: Citizens, _args: argparse.Namespace) -> Dict:
    wa_id = new_wa_id(2)
    greeting = text_message(wa_id, "নমস্কার")
    statuses = await asyncio.gather(*(citizens.post([greeting]) for _ in range(5)))
    await asyncio.sleep(4)
    after_copies = citizens.texts(wa_id)
    since = len(citizens.received.get(wa_id, []))
    one, two, three = (text_message(wa_id, t, timestamp=int(time.time()) + i) for i, t in
                       enumerate(("menu", "office kokhon khola?", "dhonnobad")))
    order = [[two], [one], [two], [one, three], [three]]
    for messages in order:
        statuses.append(await citizens.post(messages))
    await asyncio.sleep(8)
    later = citizens.texts(wa_id, since)
    return {"webhook_statuses": statuses, "replies_to_five_copies": after_copies, "replies_after_reordering": later,
            "ok": all(s == 200 for s in statuses) and len(after_copies) >= 1}


async def load(citizens_args: argparse.Namespace, seconds: float, rate: float, label: str,
               during=None) -> Dict:
    """The benchmark driver at a modest rate, with `during` run after a third of the time."""
    import bench_load

    args = bench_load.parser().parse_args([
        "--rate", str(rate), "--users", "30", "--duration", str(seconds), "--warmup", "0", "--label", label,
        "--graph-port", str(citizens_args.graph_port), "--webhook", citizens_args.webhook,
        "--app-secret", citizens_args.app_secret, "--reply-timeout", "30", "--sample-every", "2"])
    bench = bench_load.Bench(args)
    task = asyncio.ensure_future(bench.run())
    events = []
    if during is not None:
        await asyncio.sleep(seconds / 3)
        events = await during()
    result = await task
    result.pop("series", None)
    result["events"] = events
    return result


def run_command(command: List[str]) -> Dict:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    return {"command": " ".join(command), "returncode": done.returncode, "seconds": round(time.monotonic() - started, 1),
            "stderr": done.stderr.strip()[-300:]}


class OwnRedis:
    """The redis-server the stack's lock store uses in these scenarios (REDIS_URL on --redis-port),
    started and stopped by this script so that no one else's Redis is touched."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


async def redis_down(_citizens: Citizens, args: argparse.Namespace) -> Dict:
    redis = args.own_redis

    async def stop_then_start() -> List[Dict]:
        redis.stop()
        await asyncio.sleep(args.fault_seconds)
        redis.start()
        return [{"at": f"redis stopped, started again after {args.fault_seconds}s"}]

    result = await load(args, args.load_seconds, args.rate, "fault-redis", stop_then_start)
    result["ok"] = result["errors"]["total"] == 0
    return result


async def postgres_restart(_citizens: Citizens, args: argparse.Namespace) -> Dict:
    version = sorted(os.listdir("/etc/postgresql"))[-1]

    async def restart() -> List[Dict]:
        return [await asyncio.get_running_loop().run_in_executor(None, run_command, [
            "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"])]

    result = await load(args, args.load_seconds, args.rate, "fault-postgres", restart)
    result["ok"] = result["errors"]["total"] == 0
    return result


SCENARIOS = {"actions": action_server_killed, "webhooks": duplicated_and_reordered, "redis": redis_down,
             "postgres": postgres_restart}


async def main_async(args: argparse.Namespace) -> Dict:
    results = {}
    for name in args.scenarios:
        print(f"faults: {name} ...", flush=True)
        if name in ("redis", "postgres"):
            results[name] = await SCENARIOS[name](None, args)
        else:
            async with Citizens(args) as citizens:
                results[name] = await SCENARIOS[name](citizens, args)
        print(json.dumps(results[name], ensure_ascii=False, indent=1)[:4000], flush=True)
    return results


def main(argv: Optional[List[str]] = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("scenarios", nargs="+", choices=sorted(SCENARIOS))
    options.add_argument("--webhook", default="http://127.0.0.1:8080/webhooks/whatsapp/webhook")
    options.add_argument("--action-lb-port", type=int, default=8055)
    options.add_argument("--graph-port", type=int, default=8089)
    options.add_argument("--app-secret", default=os.environ.get("WHATSAPP_APP_SECRET", ""))
    options.add_argument("--phone-number-id", default=os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "100000000000001"))
    options.add_argument("--redis-port", type=int, default=6391)
    options.add_argument("--rate", type=float, default=4, help="messages per second during the load scenarios")
    options.add_argument("--load-seconds", type=float, default=45)
    options.add_argument("--fault-seconds", type=float, default=10, help="how long Redis stays down")
    options.add_argument("--json", default=str(ROOT / "var" / "bench" / "faults.json"))
    args = options.parse_args(argv)
    if not args.app_secret:
        options.error("--app-secret or WHATSAPP_APP_SECRET is needed")
    os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/panchayat_prod")
    args.own_redis = OwnRedis(args.redis_port)
    args.own_redis.start()
    # The stack tries Redis again a few seconds after finding it down (deploy/lock_store.py).
    time.sleep(6)
    try:
        results = asyncio.run(main_async(args))
    finally:
        args.own_redis.stop()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    failed = [name for name, result in results.items() if not result.get("ok")]
    print(f"faults: {'all held' if not failed else 'not held: ' + ', '.join(failed)}; written {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
