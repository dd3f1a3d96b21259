"""Load benchmark: real socket.io clients against the real Rasa server, ours vs stock.

Starts three servers (each with its own action server) on loopback with the same
trained demo model: with the project's channel (rasa_bot/credentials.yml and
endpoints.yml; the per-connection rate limit is raised so closed-loop clients
are not throttled) in one process, the same in two processes (RASA_WORKERS=2:
Sanic workers on one port, sharing the SQLite tracker and lock stores), and
stock Rasa's socket.io channel (JWT on, session persistence on,
python-socketio 5.8.0, which delivers replies; Rasa's in-memory lock store) in
one process. All three are warmed up (20 conversations x 8 messages, not
measured), then take turns, run by run, so that a slow spell of the shared
machine falls on all of them alike. For each, it runs:

* closed loop: N conversations, each sending its next message as soon as the
  previous one is answered (N = 50 and 200);
* open loop: messages at a fixed total rate (50/s and 100/s) for 20 s, whatever
  the replies do, round-robin over N conversations at a time (N = 50 and 200); a
  conversation ends after 10 messages and a new visitor's takes its place, as
  on a site. One more run keeps the same 50 conversations for 30 s (60
  messages each): Rasa's policies replay a conversation's whole history on
  every prediction, so long conversations cost more per message.

Each scenario runs three times; the median run (by p99) is reported with every
run's p99 and replies/s.

and records replies/s, p50/p95/p99 latency (send -> first reply) and messages
lost (no reply within 60 s of the end: a backlog that is still being worked
off counts in the latencies, not as lost). Results go to bench/results/load.json
and load.md. Run: ``make bench-load`` (about 30 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import jwt
import socketio
import yaml

from chat_contract import DEFAULT_BOT_ID, MAX_TOKEN_LIFETIME
from chat_contract.tokens import issue_token
from launcher import paths
from launcher.build import convert, copy_bot_sources, rasa_env, train
from launcher.services import RASA_READY_LINE, Service, free_port

REPO = Path(__file__).resolve().parent.parent

ORIGIN = "http://bench.localhost"
# Messages that each get exactly one reply from the demo bot, in this order, however many times a
# conversation goes round (the clients count one reply per message). As customers' conversations do,
# half the turns run custom actions: an order status read from the database (it also leaves order
# 48213 in the order_id slot), the cancel form started for that order (it asks "Do you really want
# to cancel order 48213?": a custom action and the form's validation, two calls to the action server),
# "no" (the form ends and a custom action answers; nothing is written, so every round is the same), and
# an invoice asked for without its number (a custom action asks for it). The other half is answered
# from the domain. Figures measured with the earlier mix (greeting and three FAQ answers, no custom
# action) are in git history as bench/results/load.md of commit 590f387.
MESSAGES = [
    "hello",
    "what is the status of order 48213",
    "I want to cancel my order",
    "no",
    "what payment methods do you accept",
    "I need an invoice",
    "how long does delivery take",
    "I want a refund",
]
RESULTS = REPO / "bench" / "results"
# The project's channel tells a user whose answer takes longer than slow_notice_seconds to hold on;
# that notice is not the answer, so the clients don't count it as the reply.
SLOW_NOTICE = "(bench) still working on it"


class StockKey(str):
    """The secret of a stock Rasa server: its tokens carry no ``aud`` (stock Rasa decodes tokens without an
    audience, and PyJWT refuses a token that has one), only ``sub`` and ``exp``."""


def token(secret: str, conversation: str) -> str:
    """A token for ``conversation`` with the demo bot, as the site issues it (chat_contract); for stock Rasa
    (a ``StockKey``) the same without ``aud``."""
    if isinstance(secret, StockKey):
        claims = {"sub": conversation, "exp": int(time.time()) + MAX_TOKEN_LIFETIME}
        return jwt.encode(claims, str(secret), algorithm="HS256")
    return issue_token(conversation, bot_id=DEFAULT_BOT_ID, secret=secret, lifetime=MAX_TOKEN_LIFETIME)[0]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Conversation:
    """One socket.io client and its outstanding messages (FIFO: one reply per message)."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.id = secrets.token_hex(16)
        self.secret = secret
        self.sio = socketio.AsyncClient(reconnection=False)
        self.pending: list[float] = []
        self.latencies: list[float] = []
        self.notices = 0
        self.extra = 0  # replies with no message waiting: a message of the mix answered twice
        self.answered = asyncio.Event()
        self.confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self._reply)
        self.sio.on("session_confirm", lambda *_: self.confirmed.set())

    async def _reply(self, data: dict) -> None:
        if isinstance(data, dict) and data.get("text") == SLOW_NOTICE:
            self.notices += 1
            return
        if self.pending:
            self.latencies.append(time.perf_counter() - self.pending.pop(0))
            self.answered.set()
        else:
            self.extra += 1

    async def open(self) -> None:
        await self.sio.connect(
            self.url,
            auth={"token": token(self.secret, self.id)},
            headers={"Origin": ORIGIN},
            transports=["websocket"],
        )
        await self.sio.emit("session_request", {"session_id": self.id})
        await asyncio.wait_for(self.confirmed.wait(), 30)

    async def send(self, text: str) -> None:
        self.answered.clear()
        self.pending.append(time.perf_counter())
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.id})

    async def close(self) -> None:
        await self.sio.disconnect()


async def open_all(url: str | list[str], secret: str, n: int) -> list[Conversation]:
    """Open ``n`` conversations, spread round-robin over one or several Rasa URLs."""
    urls = [url] if isinstance(url, str) else url
    convs = [Conversation(urls[i % len(urls)], secret) for i in range(n)]
    sem = asyncio.Semaphore(20)

    async def one(c: Conversation) -> None:
        async with sem:
            await c.open()

    await asyncio.gather(*(one(c) for c in convs))
    return convs


async def drain(convs: list[Conversation], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while any(c.pending for c in convs) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


def summarise(convs: list[Conversation], sent: int, wall: float) -> dict:
    lat = [x * 1000 for c in convs for x in c.latencies]
    return {
        "sent": sent,
        "replies": len(lat),
        "lost": sent - len(lat),
        "replies_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
        "slow_notices": sum(c.notices for c in convs),
        "extra_replies": sum(c.extra for c in convs),
    }


async def closed_loop(
    url: str | list[str], secret: str, conversations: int, per_conversation: int, reply_timeout: float = 10.0
) -> dict:
    """Each conversation sends its next message as soon as the previous one is answered."""
    convs = await open_all(url, secret, conversations)
    sent = 0

    async def run(c: Conversation) -> None:
        nonlocal sent
        for i in range(per_conversation):
            await c.send(MESSAGES[i % len(MESSAGES)])
            sent += 1
            try:
                await asyncio.wait_for(c.answered.wait(), reply_timeout)
            except asyncio.TimeoutError:
                return

    start = time.perf_counter()
    await asyncio.gather(*(run(c) for c in convs))
    wall = time.perf_counter() - start
    await drain(convs)
    result = summarise(convs, sent, wall)
    result["wall_s"] = round(wall, 1)
    await asyncio.gather(*(c.close() for c in convs), return_exceptions=True)
    return result


async def open_loop(
    url: str, secret: str, conversations: int, rate: float, seconds: float, per_conversation: int | None = None
) -> dict:
    """Messages at a fixed total rate, round-robin over ``conversations`` conversations at a time.

    With ``per_conversation`` set, a conversation ends after that many messages
    and a new one (a new visitor: new token, new tracker) takes its place, as on a
    site; without it the same conversations go on for the whole run and grow long.
    """
    total = int(rate * seconds)
    per = per_conversation or total  # messages per conversation before a new one takes its slot
    generations = -(-total // (conversations * per))
    # every connection is opened before the clock starts, so opening one never delays the schedule
    convs = await open_all(url, secret, conversations * generations)
    start = time.perf_counter()
    for i in range(total):
        target = start + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        slot, turn = i % conversations, i // conversations
        generation, nth = divmod(turn, per)  # each conversation starts with MESSAGES[0] ("hello")
        await convs[generation * conversations + slot].send(MESSAGES[nth % len(MESSAGES)])
    await drain(convs)
    wall = max(seconds, time.perf_counter() - start)
    result = summarise(convs, total, wall)
    result["offered_per_s"] = rate
    result["conversations"] = len([c for c in convs if c.latencies or c.pending])
    await asyncio.gather(*(c.close() for c in convs), return_exceptions=True)
    return result


def start_servers(
    bot_dir: Path, model: Path, credentials: Path, endpoints: Path, state: Path, secret: str, workers: int
) -> tuple[list[Service], str]:
    rasa_port, actions_port = free_port(), free_port()
    env = rasa_env(
        {
            "RASA_JWT_SECRET": secret,
            "SITE_ORIGINS": ORIGIN,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}/webhook",
            "RASA_TRACKER_DB": str(state / "tracker.sqlite3"),
            "RASA_LOCK_DB": str(state / "locks.sqlite3"),
            "ACTIONS_DATABASE_URL": f"sqlite:///{state / 'orders.sqlite3'}",
            "SANIC_HOST": "127.0.0.1",
        }
    )
    actions = Service(
        "actions",
        [paths.tool("rasa"), "run", "actions", "--actions", "rasa_bot.actions", "--port", str(actions_port)],
        bot_dir,
        env,
        f"http://127.0.0.1:{actions_port}/health",
        state / "actions.log",
    )
    rasa = Service(
        "rasa",
        [
            paths.tool("rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
        ],
        bot_dir,
        {**env, "SANIC_WORKERS": str(workers)},
        f"http://127.0.0.1:{rasa_port}/webhooks/rest/",
        state / "rasa.log",
        ready_line=RASA_READY_LINE,  # every worker has loaded the model
        ready_count=workers,
    )
    for s in (actions, rasa):
        s.start()
    for s in (actions, rasa):
        s.wait_ready(240)
    return [actions, rasa], f"http://127.0.0.1:{rasa_port}"


def credentials_for(variant: str, folder: Path) -> Path:
    path = folder / f"credentials-{VARIANTS[variant]['channel']}.yml"
    if VARIANTS[variant]["channel"] == "ours":
        creds = yaml.safe_load((paths.BOT_DIR / "credentials.yml").read_text())
        channel = creds["rasa_bot.channels.secure_socketio.SecureSocketIOInput"]
        channel["rate_limit_burst"] = 1_000_000  # closed-loop clients send as fast as replies come
        channel["rate_limit_per_second"] = 1_000_000
        channel["slow_text"] = SLOW_NOTICE
    else:
        creds = {
            "socketio": {
                "user_message_evt": "user_uttered",
                "bot_message_evt": "bot_uttered",
                "session_persistence": True,
                "jwt_key": "${RASA_JWT_SECRET}",
                "jwt_method": "HS256",
            },
            "rest": None,
        }
    path.write_text(yaml.safe_dump(creds))
    return path


def endpoints_for(variant: str, folder: Path) -> Path:
    """The project's endpoints.yml; stock Rasa keeps its default in-memory lock store."""
    endpoints = yaml.safe_load((paths.BOT_DIR / "endpoints.yml").read_text())
    if VARIANTS[variant]["channel"] == "stock":
        endpoints.pop("lock_store", None)
    path = folder / f"endpoints-{VARIANTS[variant]['channel']}.yml"
    path.write_text(yaml.safe_dump(endpoints))
    return path


#: What is compared: the project's channel with Rasa in one process and in two (RASA_WORKERS=2:
#: Sanic workers sharing the port and the SQLite lock store), and stock Rasa in one process.
VARIANTS = {
    "ours": {"channel": "ours", "workers": 1},
    "ours, 2 workers": {"channel": "ours", "workers": 2},
    "stock": {"channel": "stock", "workers": 1},
}


def machine() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


#: Conversations x messages sent to each server before anything is measured.
WARM_UP = (20, 8)

#: Runs of each scenario; the table shows the run with the median p99 and lists every run's p99.
#: On a shared 2-core machine one run in a few is disturbed by the neighbours (seen: p99 77 ms, 98 ms,
#: then 697 ms for the same scenario in a row), so a single run says more about the host than the bot.
RUNS = 3

SCENARIOS = [
    ("closed loop, 50 conversations x 20 messages", RUNS, lambda u, s: closed_loop(u, s, 50, 20)),
    ("closed loop, 200 conversations x 10 messages", RUNS, lambda u, s: closed_loop(u, s, 200, 10)),
    (
        "open loop, 50 msg/s, 50 conversations at a time, 10 messages each, 20 s",
        RUNS,
        lambda u, s: open_loop(u, s, 50, 50, 20, 10),
    ),
    (
        "open loop, 100 msg/s, 50 conversations at a time, 10 messages each, 20 s",
        RUNS,
        lambda u, s: open_loop(u, s, 50, 100, 20, 10),
    ),
    (
        "open loop, 100 msg/s, 200 conversations at a time, 10 messages each, 20 s",
        RUNS,
        lambda u, s: open_loop(u, s, 200, 100, 20, 10),
    ),
    # the same 50 conversations for the whole run: 60 messages each, a stress test of long histories
    (
        "open loop, 100 msg/s over the same 50 conversations (60 messages each), 30 s",
        RUNS,
        lambda u, s: open_loop(u, s, 50, 100, 30),
    ),
]


def median_run(runs: list[dict]) -> dict:
    """The run with the median p99, with every run's p99 and the messages lost in all runs."""
    chosen = dict(sorted(runs, key=lambda r: r["p99_ms"])[len(runs) // 2])
    chosen["runs"] = len(runs)
    chosen["p99_ms_each_run"] = [r["p99_ms"] for r in runs]
    chosen["replies_per_s_each_run"] = [r["replies_per_s"] for r in runs]
    chosen["lost_all_runs"] = sum(r["lost"] for r in runs)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test of the benchmark itself")
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), help="what to run (default: all)"
    )
    args = parser.parse_args()
    scenarios = SCENARIOS
    if args.quick:
        scenarios = [
            ("closed loop, 5 conversations x 8 messages", 1, lambda u, s: closed_loop(u, s, 5, 8)),
            (
                "open loop, 20 msg/s, 5 conversations at a time, 8 messages each, 2 s",
                2,
                lambda u, s: open_loop(u, s, 5, 20, 2, 8),
            ),
        ]
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    bot_dir = copy_bot_sources(work / "bot")
    convert(paths.DEMO_CORPUS, bot_dir, quiet=True)
    model = train(bot_dir)
    secret = secrets.token_urlsafe(48)
    results: dict = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "model": model.name,
        "variants": {},
    }
    # All variants are up at once and take turns, run by run: a slow spell of the shared machine
    # then falls on every variant alike instead of on whichever ran at that time.
    servers: dict[str, tuple[list[Service], str, Path]] = {}
    try:
        for variant in args.variants:
            state = work / variant.replace(" ", "").replace(",", "-")
            state.mkdir()
            services, url = start_servers(
                bot_dir,
                model,
                credentials_for(variant, work),
                endpoints_for(variant, work),
                state,
                secret,
                VARIANTS[variant]["workers"],
            )
            servers[variant] = (services, url, state)
        keys = {v: StockKey(secret) if VARIANTS[v]["channel"] == "stock" else secret for v in servers}
        for variant, (_, url, _) in servers.items():  # warm-up, not measured: a site's server is warm
            print(f"[{variant}] warm-up …", flush=True)
            asyncio.run(closed_loop(url, keys[variant], WARM_UP[0], WARM_UP[1]))
        outcomes: dict[tuple[str, str], list[dict]] = {}
        for name, runs, scenario in scenarios:
            for run in range(runs):
                for variant, (_, url, _) in servers.items():
                    print(f"[{variant}] {name} (run {run + 1} of {runs}) …", flush=True)
                    outcomes.setdefault((variant, name), []).append(asyncio.run(scenario(url, keys[variant])))
                    print(f"    {outcomes[variant, name][-1]}", flush=True)
        for variant, (_, _, state) in servers.items():
            results["variants"][variant] = {name: median_run(outcomes[variant, name]) for name, _, _ in scenarios}
            log = (state / "rasa.log").read_text(errors="replace")
            results["variants"][variant]["never_awaited_warnings"] = log.count("never awaited")
    finally:
        for services, _, _ in servers.values():
            for s in reversed(services):
                s.stop()
    out = RESULTS / ("load-quick.json" if args.quick else "load.json")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    if not args.quick:
        (RESULTS / "load.md").write_text(render_markdown(results))
    print(f"wrote {out}")
    return 0


def render_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Load benchmark (bench/bench_load.py)",
        "",
        f"Machine: {m['cpus']} cores, {m['cpu']}, Python {m['python']}. Client and servers on the same machine.",
        f"Command: `make bench-load` ({results.get('date', 'date not recorded')}). "
        "Latency: message sent -> first reply.",
        f"Each scenario ran {RUNS} times, the variants taking turns run by run, after a warm-up; "
        "the row is the run with the median p99, "
        "*p99 each run* lists all of them; *sent* and *lost* count every run.",
        "",
        "| scenario | channel | replies/s | p50 ms | p95 ms | p99 ms | p99 each run | sent | lost |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    first = next(iter(results["variants"].values()))
    names = [n for n in first if isinstance(first[n], dict)]
    for name in names:
        for variant in results["variants"]:
            r = results["variants"][variant][name]
            lines.append(
                f"| {name} | {variant} | {r['replies_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
                f"| {', '.join(map(str, r['p99_ms_each_run']))} | {r['sent'] * r['runs']} | {r['lost_all_runs']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
