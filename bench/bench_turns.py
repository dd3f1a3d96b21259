"""What a turn costs by kind: answered from the domain, a custom action, a form (issue 13).

Starts the project's stack (action server + Rasa, the project's channel, one
Rasa process) once per variant, with the same trained demo model:

* *Rasa's action calls*: ``fast_action_response_check`` and
  ``keep_action_connections`` off, i.e. Rasa 3.6.21's own calls to the
  action server (the response schema re-checked on every call, a new HTTP
  session and connection per call);
* *prebuilt check only*: the response check fixed, a session per call as before;
* *project's action calls*: both on (the default; channels/action_calls.py).

Then, the variants taking turns conversation by conversation (a slow spell of
the shared machine falls on all of them alike):

1. **one conversation at a time** (``--rounds`` conversations per variant),
   each the script in :data:`SCRIPT`: a greeting, an FAQ answer, the cancel form
   asked for (form start), the order number (form validation against the
   database), "no" (form ends, custom action), an order status (custom action,
   database). Per kind: p50 and p90 of message sent -> first reply and message
   sent -> ``bot_done`` (the channel's end of turn, after the tracker is saved);
   every reply's text is recorded and must be the same in every variant.
2. **closed loop**: 50 conversations at once, each running the script
   (``--loop-conversations`` x the script), and the issue's case, 50
   conversations sending "I want to cancel my order" 10 times each; a turn ends
   at ``bot_done``. Replies/s, p50/p95/p99, three runs each, median by p50.

Results: bench/results/turns.json and turns.md (``--quick``: turns-quick.json only).
Run: ``.venv/bin/python bench/bench_turns.py`` (about 7 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import socketio
import yaml

REPO = Path(__file__).resolve().parent.parent

from bench.bench_load import ORIGIN, RESULTS, SLOW_NOTICE, machine, percentile, start_servers, token  # noqa: E402
from launcher import paths  # noqa: E402
from launcher.build import convert, copy_bot_sources, train  # noqa: E402
from launcher.services import Service  # noqa: E402

#: (kind, message) in the order a conversation sends them; each gets exactly one reply.
SCRIPT = [
    ("greeting (domain response)", "hello"),
    ("FAQ (domain response)", "where is my invoice"),
    ("cancel: form starts", "I want to cancel my order"),
    ("cancel: order number (form validation, database)", "48213"),
    ("cancel: no (form ends, custom action)", "no"),
    ("order status (custom action, database)", "what is the status of order 48213"),
]
#: The issue's load: this message, 10 times in each of 50 conversations at once.
ISSUE_MESSAGE = "I want to cancel my order"

VARIANTS = {
    "Rasa's action calls": {"fast_action_response_check": False, "keep_action_connections": False},
    "prebuilt check only": {"fast_action_response_check": True, "keep_action_connections": False},
    "project's action calls": {"fast_action_response_check": True, "keep_action_connections": True},
}


def credentials(variant: str, folder: Path) -> Path:
    creds = yaml.safe_load((paths.BOT_DIR / "credentials.yml").read_text())
    channel = creds["rasa_bot.channels.secure_socketio.SecureSocketIOInput"]
    channel.update(rate_limit_burst=1_000_000, rate_limit_per_second=1_000_000, slow_text=SLOW_NOTICE)
    channel.update(VARIANTS[variant])
    path = folder / f"credentials-{len(list(folder.glob('credentials-*')))}.yml"
    path.write_text(yaml.safe_dump(creds))
    return path


class Chat:
    """One socket.io conversation; :meth:`turn` sends a message and waits for the end of its turn."""

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret, self.id = url, secret, secrets.token_hex(16)
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: list[tuple[float, dict]] = []
        self.done: asyncio.Queue[float] = asyncio.Queue()
        self.confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self._reply)
        self.sio.on("bot_done", lambda *_: self.done.put_nowait(time.perf_counter()))
        self.sio.on("session_confirm", lambda *_: self.confirmed.set())

    def _reply(self, data: dict) -> None:
        if not (isinstance(data, dict) and data.get("text") == SLOW_NOTICE):
            self.replies.append((time.perf_counter(), data))

    async def open(self) -> None:
        await self.sio.connect(
            self.url, auth={"token": token(self.secret, self.id)}, headers={"Origin": ORIGIN}, transports=["websocket"]
        )
        await self.sio.emit("session_request", {"session_id": self.id})
        await asyncio.wait_for(self.confirmed.wait(), 30)

    async def turn(self, text: str, timeout: float = 60) -> tuple[float, float | None, list[str]]:
        """(ms to the end of the turn, ms to the first reply, the replies' texts)."""
        self.replies.clear()
        start = time.perf_counter()
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.id})
        end = await asyncio.wait_for(self.done.get(), timeout)
        first = (self.replies[0][0] - start) * 1000 if self.replies else None
        return (end - start) * 1000, first, [str(r.get("text")) for _, r in self.replies]

    async def close(self) -> None:
        await self.sio.disconnect()


async def one_conversation(url: str, secret: str) -> list[tuple[str, float, float | None, list[str]]]:
    chat = Chat(url, secret)
    await chat.open()
    try:
        return [(kind, *(await chat.turn(text))) for kind, text in SCRIPT]
    finally:
        await chat.close()


async def closed_loop(url: str, secret: str, conversations: int, messages: list[str]) -> dict:
    """``conversations`` at once, each sending ``messages`` in order, the next as soon as a turn ends."""
    chats = [Chat(url, secret) for _ in range(conversations)]
    sem = asyncio.Semaphore(20)

    async def open_one(chat: Chat) -> None:
        async with sem:
            await chat.open()

    await asyncio.gather(*(open_one(c) for c in chats))
    turns: list[float] = []
    replies: list[int] = []

    async def run(chat: Chat) -> None:
        for text in messages:
            took, _, said = await chat.turn(text)
            turns.append(took)
            replies.append(len(said))

    start = time.perf_counter()
    await asyncio.gather(*(run(c) for c in chats))
    wall = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in chats), return_exceptions=True)
    return {
        "turns": len(turns),
        "turns_per_s": round(len(turns) / wall, 1),
        "p50_ms": round(percentile(turns, 50), 1),
        "p95_ms": round(percentile(turns, 95), 1),
        "p99_ms": round(percentile(turns, 99), 1),
        "replies_per_turn": sorted(set(replies)),
        "wall_s": round(wall, 1),
    }


def summarise_turns(samples: list[tuple[str, float, float | None, list[str]]]) -> dict:
    out: dict = {}
    for kind, _ in SCRIPT:
        done = [s[1] for s in samples if s[0] == kind]
        first = [s[2] for s in samples if s[0] == kind and s[2] is not None]
        texts = sorted({" | ".join(s[3]) for s in samples if s[0] == kind})
        out[kind] = {
            "n": len(done),
            "first_reply_p50_ms": round(statistics.median(first), 1) if first else None,
            "first_reply_p90_ms": round(percentile(first, 90), 1) if first else None,
            "turn_p50_ms": round(statistics.median(done), 1),
            "turn_p90_ms": round(percentile(done, 90), 1),
            "replies": texts,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="conversations per variant, one at a time (30)")
    parser.add_argument("--loop-conversations", type=int, default=50, help="conversations at once in the loops (50)")
    parser.add_argument("--loop-runs", type=int, default=3, help="runs of each closed loop per variant (3)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--quick", action="store_true", help="3 rounds, 5 conversations, 1 run: a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.loop_conversations, args.loop_runs = 3, 5, 1
    work = Path(tempfile.mkdtemp(prefix="bench-turns-"))
    bot_dir = copy_bot_sources(work / "bot")
    convert(paths.DEMO_CORPUS, bot_dir, quiet=True)
    model = train(bot_dir)
    secret = secrets.token_urlsafe(48)
    endpoints = work / "endpoints.yml"
    endpoints.write_text((paths.BOT_DIR / "endpoints.yml").read_text())
    servers: dict[str, tuple[list[Service], str]] = {}
    results: dict = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "model": model.name,
        "script": SCRIPT,
        "variants": {},
    }
    try:
        for variant in args.variants:
            state = work / f"state-{len(servers)}"
            state.mkdir()
            servers[variant] = start_servers(bot_dir, model, credentials(variant, work), endpoints, state, secret, 1)
        for variant, (_, url) in servers.items():  # warm-up, not measured
            print(f"[{variant}] warm-up …", flush=True)
            asyncio.run(closed_loop(url, secret, 5, [text for _, text in SCRIPT] * 2))
        samples: dict[str, list] = {v: [] for v in servers}
        for n in range(args.rounds):
            for variant, (_, url) in servers.items():
                samples[variant] += asyncio.run(one_conversation(url, secret))
            print(f"conversation {n + 1} of {args.rounds} done in each variant", flush=True)
        loops = {
            f"{args.loop_conversations} conversations x the script ({len(SCRIPT)} messages)": [t for _, t in SCRIPT],
            f"{args.loop_conversations} conversations x 10 '{ISSUE_MESSAGE}'": [ISSUE_MESSAGE] * 10,
        }
        runs: dict[tuple[str, str], list[dict]] = {}
        for name, messages in loops.items():
            for run in range(args.loop_runs):
                for variant, (_, url) in servers.items():
                    print(f"[{variant}] closed loop, {name} (run {run + 1} of {args.loop_runs}) …", flush=True)
                    outcome = asyncio.run(closed_loop(url, secret, args.loop_conversations, messages))
                    runs.setdefault((variant, name), []).append(outcome)
                    print(f"    {outcome}", flush=True)
        for variant in servers:
            loop_results = {}
            for name in loops:
                each = runs[variant, name]
                chosen = dict(sorted(each, key=lambda r: r["p50_ms"])[len(each) // 2])
                chosen["p50_ms_each_run"] = [r["p50_ms"] for r in each]
                chosen["turns_per_s_each_run"] = [r["turns_per_s"] for r in each]
                loop_results[name] = chosen
            one_at_a_time = summarise_turns(samples[variant])
            results["variants"][variant] = {"one at a time": one_at_a_time, "closed loop": loop_results}
    finally:
        for services, _ in servers.values():
            for s in reversed(services):
                s.stop()
    replies = {v: {k: r["replies"] for k, r in res["one at a time"].items()} for v, res in results["variants"].items()}
    results["same_replies_in_every_variant"] = len({json.dumps(r, sort_keys=True) for r in replies.values()}) == 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = work / "turns-quick.json" if args.quick else RESULTS / "turns.json"  # a smoke test is not a result
    out.write_text(json.dumps(results, indent=2) + "\n")
    if not args.quick:
        (RESULTS / "turns.md").write_text(render_markdown(results, args))
    print(render_markdown(results, args))
    print(f"wrote {out}")
    return 0 if results["same_replies_in_every_variant"] else 1


def render_markdown(results: dict, args: argparse.Namespace) -> str:
    m = results["machine"]
    variants = list(results["variants"])
    lines = [
        "# Turn cost by kind (bench/bench_turns.py)",
        "",
        f"Machine: {m['cpus']} cores, {m['cpu']}, Python {m['python']}; client and servers on the same machine, "
        f"which other people's jobs share. {results['date']}, model `{results['model']}` (demo corpus).",
        "Command: `.venv/bin/python bench/bench_turns.py`. Each variant is the project's stack (one Rasa process) "
        "with the channel's action-call options set as named; the variants take turns conversation by conversation.",
        "",
        f"## One conversation at a time ({args.rounds} conversations per variant)",
        "",
        "p50 (p90) in ms, message sent -> first reply; *turn* is message sent -> the channel's `bot_done`.",
        "",
        "| turn | message | " + " | ".join(variants) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in variants) + " |",
    ]
    for kind, text in SCRIPT:
        cells = []
        for v in variants:
            r = results["variants"][v]["one at a time"][kind]
            cells.append(
                f"{r['first_reply_p50_ms']} ({r['first_reply_p90_ms']}); turn {r['turn_p50_ms']} ({r['turn_p90_ms']})"
            )
        lines.append(f'| {kind} | "{text}" | ' + " | ".join(cells) + " |")
    same = "yes" if results["same_replies_in_every_variant"] else "**no**"
    lines += ["", f"Same reply texts in every variant, for every turn: {same}.", ""]
    lines += [
        f"## Closed loop ({args.loop_runs} runs each; the run with the median p50; a turn ends at `bot_done`)",
        "",
        "| load | variant | turns/s | p50 ms | p95 ms | p99 ms | p50 each run | turns/s each run | replies per turn |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    names = list(results["variants"][variants[0]]["closed loop"])
    for name in names:
        for v in variants:
            r = results["variants"][v]["closed loop"][name]
            lines.append(
                f"| {name} | {v} | {r['turns_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
                f"| {', '.join(map(str, r['p50_ms_each_run']))} | {', '.join(map(str, r['turns_per_s_each_run']))} "
                f"| {', '.join(map(str, r['replies_per_turn']))} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
