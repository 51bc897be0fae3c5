"""Load benchmark: many simulated WhatsApp users against a running stack, through the signed
webhook, with the outbound Graph API played by a lean receiver in this process.

    # the stack (scripts/production.py start ...) must send its Graph calls here:
    #   WHATSAPP_API_BASE_URL=http://127.0.0.1:8089  WHATSAPP_APP_SECRET=<the same secret>
    python scripts/bench_load.py --rate 80 --duration 120 --label prod-1
    python scripts/bench_load.py --users 60 --duration 120                 # closed loop
    python scripts/bench_load.py --rate 20 --soak 1800 --label soak        # memory over 30 minutes
    python scripts/bench_load.py --rate 20 --soak 1800 --conversations-per-user 2  # citizens come and go
    python scripts/bench_load.py --scripts stock --rate 80 ...             # a `rasa init` assistant
    python scripts/bench_load.py --rest --webhook http://127.0.0.1:5005/webhooks/rest/webhook \
        --users 20 --think-min 0 --think-max 0 --pids 1234,1235           # Rasa's REST channel

With --rest the driver speaks Rasa's REST channel instead (POST {sender, message}; the replies
come in the HTTP response, so the latency is the POST's; a 200 with no message is answered, counted as
"empty_replies"); no Graph receiver runs and think times below 0.5 s are allowed.

Each simulated user has its own wa_id and plays one conversation script at a time (menu and
office info, a complaint, a guest-house booking, certificate status and download, a pay slip
request; `--scripts stock` plays the moodbot conversations of `rasa init`), waiting for the
first reply to each message and then a think time before the next. With `--rate` a pacer
offers that many messages per second to whichever users are idle (the pool grows when none
is); without it every user sends as soon as it may (closed loop).

Measured: webhook answers (non-200 = error), the time from the start of the inbound POST to
the first outbound Graph call to that user (p50/p95/p99), turns answered and outbound messages
per second, messages with no reply within --reply-timeout, and the RSS and CPU time of the
server processes (var/run/production/pids.json, or --pids) over time. Prints a table and writes
JSON (--json, default var/bench/<label>.json).

Why a think time of at least 0.5 s: a turn may send several messages, and an outbound call is
matched to the user's latest message; the rest of a turn arrives within milliseconds of its
first message, long before the next message is sent.
"""
import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.whatsapp.signing import signed_headers  # noqa: E402
from simulator.graph_fake import button_reply, text_message, webhook  # noqa: E402

# Conversations citizens hold, as typed (Banglish, Bengali, English). New numbers are asked
# for their gram panchayat before a service, hence "bagula 1" where that question comes.
PANCHAYAT_SCRIPTS = {
    "menu_and_info": ["নমস্কার", "menu", "পঞ্চায়েত অফিস কখন খোলা থাকে?", "bagula 1", "dhonnobad"],
    "complaint": ["amader parar rastar alo 3 din dhore jolche na", "bagula 1", "chobi nei",
                  "kalitala mandirer samne", "/affirm"],
    "booking": ["guest house e ekta room chai", "bagula 1", "1", "15 theke 17 december", "1 ta", "/affirm"],
    "certificate": ["amar trade licence er status ki?", "bagula 1", "TN-2026-000001 er certificate download korbo",
                    "menu"],
    "pay_slip": ["gato maser payslip ta pathan", "4821", "thik ache"],
    "english_info": ["hello", "what documents do I need for a trade licence?", "Bagula I", "bye"],
}
# How often each conversation is started (per cent).
PANCHAYAT_MIX = {"menu_and_info": 30, "complaint": 20, "booking": 15, "certificate": 15, "pay_slip": 10,
                 "english_info": 10}
# `rasa init`'s moodbot: every step of these gets a reply from its stories and rules.
STOCK_SCRIPTS = {
    "happy": ["hello", "I am feeling great"],
    "sad_helped": ["hi", "I am sad", "yes"],
    "sad_not_helped": ["hey", "very unhappy", "no"],
    "bot_challenge": ["are you a bot?"],
    "goodbye": ["good morning", "great", "bye"],
}
STOCK_MIX = {"happy": 30, "sad_helped": 25, "sad_not_helped": 20, "bot_challenge": 15, "goodbye": 10}


def percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


# --- Server processes: RSS and CPU from /proc ---------------------------------------------------


def children_of() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int, tree: Dict[int, List[int]]) -> List[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, []))
    return found


def rss_and_cpu(pid: int) -> Optional[tuple]:
    """(RSS in MiB, user+system CPU seconds) of one process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            rss_pages = int(handle.read().split()[1])
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return rss_pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20, (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        return None


def sample_servers(servers: Dict[str, int]) -> Dict[str, Dict[str, float]]:
    tree = children_of()
    sample = {}
    for name, pid in servers.items():
        rss = cpu = 0.0
        for member in process_tree(pid, tree):
            found = rss_and_cpu(member)
            if found:
                rss += found[0]
                cpu += found[1]
        sample[name] = {"rss_mib": round(rss, 1), "cpu_s": round(cpu, 2)}
    return sample


def load_average() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- The run --------------------------------------------------------------------------------


@dataclass
class User:
    wa_id: str
    script: List[str] = field(default_factory=list)
    step: int = 0
    pending: Optional[asyncio.Future] = None
    idle_from: float = 0.0
    busy: bool = False
    conversations: int = 0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.scripts, mix = (STOCK_SCRIPTS, STOCK_MIX) if args.scripts == "stock" else (PANCHAYAT_SCRIPTS,
                                                                                        PANCHAYAT_MIX)
        self.script_names = list(mix)
        self.script_weights = [mix[name] for name in self.script_names]
        self.random = random.Random(args.seed)
        # Numbers no real citizen has: 91 + 7 + a prefix of this run + a counter. The prefix
        # differs between runs, so no run carries on the (longer) conversations of an earlier one.
        self.run_prefix = f"{int(time.time() * 10) % 1000000:06d}"
        self.numbers = itertools.count(1)
        self.users: Dict[str, User] = {}
        self.latencies: List[float] = []
        self.windowed: List[tuple] = []  # (second since start, latency) for the time series
        self.sent = self.answered = self.outbound = self.extra_outbound = 0
        self.missing = self.http_errors = self.transport_errors = self.skipped = self.empty_replies = 0
        self.status_counts: Dict[int, int] = {}
        self.missing_steps: List[str] = []  # the texts that got no reply, to find out why
        self.measuring = False
        self.started = 0.0
        self.inflight: set = set()

    # -- Graph API receiver --

    async def graph_messages(self, request: web.Request) -> web.Response:
        message = await request.json()
        now = time.monotonic()
        to = str(message.get("to"))
        user = self.users.get(to)
        if user is not None and user.pending is not None and not user.pending.done():
            user.pending.set_result(now)
        elif self.measuring:
            self.extra_outbound += 1
        if self.measuring:
            self.outbound += 1
        return web.json_response({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": f"wamid.bench{uuid.uuid4().hex}"}]})

    async def graph_media(self, request: web.Request) -> web.Response:
        await request.read()  # a certificate or pay slip PDF: read and dropped
        return web.json_response({"id": f"{random.randrange(10 ** 12)}"})

    async def start_graph(self) -> web.AppRunner:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{phone_number_id}/messages", self.graph_messages)
        app.router.add_post("/{phone_number_id}/media", self.graph_media)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.args.graph_port, backlog=4096, reuse_address=True).start()
        return runner

    # -- Users --

    def new_user(self) -> User:
        wa_id = f"917{self.run_prefix}{next(self.numbers):05d}"
        user = User(wa_id)
        self.users[wa_id] = user
        self.next_script(user)
        return user

    def next_script(self, user: User) -> None:
        name = self.random.choices(self.script_names, self.script_weights)[0]
        user.script, user.step = self.scripts[name], 0

    def payload(self, user: User) -> bytes:
        text = user.script[user.step]
        if text == "/affirm":
            message = button_reply(user.wa_id, "/affirm", "হ্যাঁ")
        else:
            message = text_message(user.wa_id, text)
        body = webhook([message], names={user.wa_id: "Bench Citizen"}, phone_number_id=self.args.phone_number_id)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    async def rest_turn(self, session: aiohttp.ClientSession, user: User) -> Optional[float]:
        """One message through Rasa's REST channel: the time its replies came, None if none came."""
        text = user.script[user.step]
        counted = self.measuring
        try:
            async with session.post(self.args.webhook, json={"sender": user.wa_id, "message": text}) as reply:
                replies = await reply.json(content_type=None) if reply.status == 200 else None
                status = reply.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            status, replies = None, None
        if counted:
            if status is None:
                self.transport_errors += 1
            elif status != 200:
                self.http_errors += 1
                self.status_counts[status] = self.status_counts.get(status, 0) + 1
            elif not replies:
                # Answered, with nothing to say (the stock moodbot does this in a second conversation).
                self.empty_replies += 1
                self.missing_steps.append(text)
            else:
                self.outbound += len(replies)
        return time.monotonic() if status == 200 and replies is not None else None

    async def turn(self, session: aiohttp.ClientSession, user: User) -> None:
        """One message of `user`: POST the webhook, wait for the first reply, then think."""
        user.busy = True
        if self.args.rest:
            counted, started = self.measuring, time.monotonic()
            if counted:
                self.sent += 1
            answered_at = await self.rest_turn(session, user)
            if answered_at is None:
                # The conversation is off its script now: this number is retired.
                self.users.pop(user.wa_id, None)
                await asyncio.sleep(1.0)
                user.busy = False
                return
            await self.answered_turn(user, counted, started, answered_at)
            return
        body = self.payload(user)
        headers = signed_headers(self.args.app_secret, body)
        user.pending = asyncio.get_running_loop().create_future()
        counted = self.measuring
        started = time.monotonic()
        if counted:
            self.sent += 1
        try:
            async with session.post(self.args.webhook, data=body, headers=headers) as reply:
                await reply.read()
                status = reply.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = None
        if status != 200:
            if counted:
                if status is None:
                    self.transport_errors += 1
                else:
                    self.http_errors += 1
                    self.status_counts[status] = self.status_counts.get(status, 0) + 1
            user.pending = None
            await asyncio.sleep(1.0)
            user.busy = False
            return
        try:
            answered_at = await asyncio.wait_for(asyncio.shield(user.pending), self.args.reply_timeout)
        except asyncio.TimeoutError:
            if counted:
                self.missing += 1
                self.missing_steps.append(user.script[user.step])
            # A late reply would be taken for the next message's: this number is retired.
            self.users.pop(user.wa_id, None)
            return
        await self.answered_turn(user, counted, started, answered_at)

    async def answered_turn(self, user: User, counted: bool, started: float, answered_at: float) -> None:
        """Records an answered message, moves `user` on in its script, then thinks."""
        latency = answered_at - started
        if counted:
            self.answered += 1
            self.latencies.append(latency)
            self.windowed.append((answered_at - self.started, latency))
        user.step += 1
        if user.step >= len(user.script):
            user.conversations += 1
            if self.args.conversations_per_user and user.conversations >= self.args.conversations_per_user:
                # This citizen is done for now; a new one takes the place (a real number's sessions are
                # a handful of messages, not a conversation that never ends).
                self.users.pop(user.wa_id, None)
                if self.args.rate:
                    self.new_user()  # into the open loop's pool; the closed loop replaces its own
            else:
                self.next_script(user)
        await asyncio.sleep(self.random.uniform(self.args.think_min, self.args.think_max))
        user.busy = False
        user.idle_from = time.monotonic()

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def open_loop(self, session: aiohttp.ClientSession, until: float) -> None:
        """Offers `--rate` messages per second to idle users, growing the pool when none is."""
        interval = 1.0 / self.args.rate
        idle: List[User] = [self.new_user() for _ in range(self.args.users)]
        next_at = time.monotonic()
        while time.monotonic() < until:
            idle = [u for u in idle if not u.busy and u.wa_id in self.users] or \
                   [u for u in self.users.values() if not u.busy]
            user = idle.pop(0) if idle else None
            if user is None:
                user = self.new_user()
                if self.measuring:
                    self.skipped += 1
            user.busy = True  # before the task first runs: the next tick must not pick it again
            self.spawn(self.turn(session, user))
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def closed_loop(self, session: aiohttp.ClientSession, until: float) -> None:
        async def run(user: User) -> None:
            while time.monotonic() < until:
                if user.wa_id not in self.users:
                    user = self.new_user()
                await self.turn(session, user)

        await asyncio.gather(*(run(self.new_user()) for _ in range(self.args.users)))

    async def sampler(self, servers: Dict[str, int], series: List[Dict], stop: asyncio.Event) -> None:
        while not stop.is_set():
            series.append({"t": round(time.monotonic() - self.started, 1), "load": load_average(),
                           "servers": sample_servers(servers)})
            try:
                await asyncio.wait_for(stop.wait(), self.args.sample_every)
            except asyncio.TimeoutError:
                pass

    async def run(self) -> Dict:
        args = self.args
        servers = server_pids(args)
        runner = None if args.rest else await self.start_graph()
        connector = aiohttp.TCPConnector(limit=args.connections)
        timeout = aiohttp.ClientTimeout(total=30)
        series: List[Dict] = []
        stop = asyncio.Event()
        load_before = load_average()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            duration = args.soak or args.duration
            self.started = time.monotonic()
            until = self.started + args.warmup + duration
            sampling = asyncio.ensure_future(self.sampler(servers, series, stop))

            async def measure_window() -> None:
                await asyncio.sleep(args.warmup)
                self.measuring = True
                self.measure_started = time.monotonic()
                self.cpu_before = sample_servers(servers)

            window = asyncio.ensure_future(measure_window())
            if args.rate:
                await self.open_loop(session, until)
            else:
                await self.closed_loop(session, until)
            measured_for = time.monotonic() - self.measure_started
            cpu_after = sample_servers(servers)
            self.measuring = False
            await window
            # What was sent before the end may still be answered: wait for it, not counted in the rate.
            if self.inflight:
                await asyncio.wait(list(self.inflight), timeout=args.reply_timeout + 5)
            stop.set()
            await sampling
        if runner is not None:
            await runner.cleanup()
        return self.summary(measured_for, servers, series, load_before, cpu_after)

    def summary(self, measured_for: float, servers: Dict[str, int], series: List[Dict], load_before: List[float],
                cpu_after: Dict) -> Dict:
        ms = [x * 1000 for x in self.latencies]
        cpu_used = {name: round(cpu_after[name]["cpu_s"] - self.cpu_before[name]["cpu_s"], 2)
                    for name in cpu_after if name in self.cpu_before}
        rss_first = series[0]["servers"] if series else {}
        rss_last = series[-1]["servers"] if series else {}
        errors = self.http_errors + self.transport_errors + self.missing
        window_end = self.measure_started - self.started + measured_for
        in_window = sum(1 for at, _latency in self.windowed if at <= window_end)
        result = {
            "label": self.args.label,
            "scripts": self.args.scripts,
            "mode": f"open loop {self.args.rate}/s" if self.args.rate else f"closed loop {self.args.users} users",
            "webhook": self.args.webhook,
            "channel": "rest" if self.args.rest else "whatsapp",
            "measured_seconds": round(measured_for, 1),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "messages_sent": self.sent,
            "turns_answered": self.answered,
            # Answers that arrived inside the measured window: under overload many arrive only
            # in the drain after it, and counting those would flatter the rate.
            "answered_per_second": round(in_window / measured_for, 1) if measured_for else 0,
            "answered_after_window": self.answered - in_window,
            "outbound_messages": self.outbound,
            "empty_replies": self.empty_replies,  # REST only: a 200 with no message, counted as answered
            "outbound_per_second": round(self.outbound / measured_for, 1) if measured_for else 0,
            "latency_ms": {"p50": _round(percentile(ms, 50)), "p95": _round(percentile(ms, 95)),
                           "p99": _round(percentile(ms, 99)), "max": _round(max(ms) if ms else None),
                           "mean": _round(statistics.fmean(ms) if ms else None)},
            "errors": {"total": errors, "http": self.http_errors, "http_statuses": self.status_counts,
                       "transport": self.transport_errors, "no_reply": self.missing},
            "users": len(self.users),
            "pool_grew": self.skipped,
            "no_reply_to": self.missing_steps,
            "server_cpu_seconds": cpu_used,
            "server_cpu_ms_per_answered": {k: round(v * 1000 / self.answered, 1) for k, v in cpu_used.items()}
            if self.answered else {},
            "rss_mib_first": {k: v["rss_mib"] for k, v in rss_first.items()},
            "rss_mib_last": {k: v["rss_mib"] for k, v in rss_last.items()},
            "p95_ms_per_minute": per_minute_p95(self.windowed),
            "series": series,
        }
        return result


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


def per_minute_p95(windowed: List[tuple]) -> List[Optional[float]]:
    buckets: Dict[int, List[float]] = {}
    for at, latency in windowed:
        buckets.setdefault(int(at // 60), []).append(latency * 1000)
    return [_round(percentile(buckets[m], 95)) for m in sorted(buckets)]


def server_pids(args: argparse.Namespace) -> Dict[str, int]:
    if args.pids:
        return {f"pid-{pid}": int(pid) for pid in args.pids.split(",")}
    path = Path(args.pids_file)
    if path.exists():
        return {name: pid for name, pid in json.loads(path.read_text()).items()}
    return {}


def table(result: Dict) -> str:
    latency, errors = result["latency_ms"], result["errors"]
    rows = [
        ("run", f"{result['label']} ({result['scripts']}, {result['mode']})"),
        ("load average before/after", f"{result['load_average_before']} / {result['load_average_after']}"),
        ("measured", f"{result['measured_seconds']} s"),
        ("messages sent / answered", f"{result['messages_sent']} / {result['turns_answered']}"),
        ("answered per second", result["answered_per_second"]),
        ("outbound messages per second", result["outbound_per_second"]),
        ("latency p50 / p95 / p99 / max ms", f"{latency['p50']} / {latency['p95']} / {latency['p99']} / "
                                             f"{latency['max']}"),
        ("errors (http / transport / no reply)", f"{errors['total']} ({errors['http']} {errors['http_statuses']}"
                                                 f" / {errors['transport']} / {errors['no_reply']})"),
        ("server CPU ms per answered message", result["server_cpu_ms_per_answered"]),
        ("RSS MiB first -> last", {k: f"{result['rss_mib_first'].get(k)} -> {v}"
                                   for k, v in result["rss_mib_last"].items()}),
        ("p95 ms per minute", result["p95_ms_per_minute"]),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--webhook", default="http://127.0.0.1:8080/webhooks/whatsapp/webhook")
    options.add_argument("--rest", action="store_true",
                         help="Rasa's REST channel at --webhook (.../webhooks/rest/webhook) instead of WhatsApp")
    options.add_argument("--graph-port", type=int, default=8089, help="where the stack sends its Graph calls")
    options.add_argument("--app-secret", default=os.environ.get("WHATSAPP_APP_SECRET", ""))
    options.add_argument("--phone-number-id", default=os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "100000000000001"))
    options.add_argument("--scripts", choices=("panchayat", "stock"), default="panchayat")
    options.add_argument("--rate", type=float, default=0, help="offered messages per second (0: closed loop)")
    options.add_argument("--users", type=int, default=50, help="users (closed loop) or the initial pool (open)")
    options.add_argument("--duration", type=float, default=60, help="measured seconds")
    options.add_argument("--warmup", type=float, default=10, help="seconds of load before measuring")
    options.add_argument("--soak", type=float, default=0, help="measured seconds of a soak (overrides --duration)")
    options.add_argument("--conversations-per-user", type=int, default=0,
                         help="conversations before a user leaves and a new number takes its place (0: never)")
    options.add_argument("--think-min", type=float, default=1.0)
    options.add_argument("--think-max", type=float, default=3.0)
    options.add_argument("--reply-timeout", type=float, default=30.0)
    options.add_argument("--connections", type=int, default=256)
    options.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    options.add_argument("--pids-file", default=str(ROOT / "var" / "run" / "production" / "pids.json"))
    options.add_argument("--pids", help="comma-separated server pids instead of the pids file")
    options.add_argument("--label", default="bench")
    options.add_argument("--json", help="where to write the result (default var/bench/<label>.json)")
    options.add_argument("--seed", type=int, default=7)
    return options


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    if not args.app_secret and not args.rest:
        print("bench: --app-secret or WHATSAPP_APP_SECRET is needed to sign webhooks", file=sys.stderr)
        return 2
    if args.think_min < 0.5 and not args.rest:
        print("bench: --think-min below 0.5 s would mix up the replies of consecutive turns", file=sys.stderr)
        return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(Bench(args).run())
    print(table(result))
    out = Path(args.json or ROOT / "var" / "bench" / f"{args.label}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"bench: written {out}")
    return 0 if result["errors"]["total"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
