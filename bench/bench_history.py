"""History benchmark: what a message costs against how long its conversation already is.

Rasa 3.6 works a conversation's history out again from its first event for
every message (loading the tracker, copying it before each action, the rule
and memoization policies' states), so a message's cost grew with the
conversation. The project keeps that work between messages
(``stores/history_tracker.py``, ``stores/sqlite_tracker_store.py``) and lets the
policies read only the states that decide their predictions
(``channels/policy_windows.py``). This benchmark measures both ways on the
trained demo model, with the message mix of ``bench_load.py`` (custom actions
against a real action server included):

* in process (``--part inprocess``): the model loaded twice in one process,
  the project's tracker store and sequential graph runner in both, the garbage
  collector tuned as the server tunes it; *before* has ``keep_history: false``,
  Rasa's policy methods and every event sent to the action server, *after* the
  project's defaults. One conversation
  of each runs message after message, the two taking turns conversation by
  conversation;
* through the real server (``--part server``): ``rasa run`` with the project's
  channel and stores, one process, a socket.io client sending each message when
  the previous one is answered; *before* and *after* set as above, both servers
  up at once and taking turns;
* the stress rows of ``make bench-load`` (``--part stress``): 100 msg/s over the
  same 50 conversations for 30 s (60 messages each), with ``RASA_WORKERS=2``,
  before and after, three runs each, taking turns.

A figure at history *n* is the mean time per message of the round of the mix
that starts after *n* messages (each kind of message once), the median over
the conversations (or runs). Results go to bench/results/history.json and
history.md. Run: ``.venv/bin/python bench/bench_history.py`` (all parts, about
15 minutes on 2 cores); ``--part`` picks some.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

from bench import bench_load  # noqa: E402
from bench.bench_load import MESSAGES, Conversation, machine, open_loop, start_servers  # noqa: E402
from launcher import paths  # noqa: E402
from launcher.build import convert, copy_bot_sources, rasa_env, train  # noqa: E402
from launcher.services import Service, free_port  # noqa: E402

RESULTS = REPO / "bench" / "results"
HISTORIES = (10, 50, 200)
VARIANTS = ("before", "after")
#: Message mixes, each message answered exactly once by the demo bot. "answers" is the mix of bench_load's
#: stress rows as issue 13 measured them (greeting and three answers from the domain: Rasa alone);
#: "actions" is bench_load's current mix, half of whose turns call the action server.
MIXES = {
    "answers": ["hello", "what payment methods do you accept", "how long does delivery take", "I want a refund"],
    "actions": MESSAGES,
}


def rounds(times: list[float], histories: tuple[int, ...], mix: list[str]) -> dict[int, float]:
    """Mean seconds per message of the round of the mix that starts after ``n`` messages, for each ``n``."""
    return {n: statistics.fmean(times[n : n + len(mix)]) for n in histories}


def summary(per_run: list[dict[int, float]], histories: tuple[int, ...]) -> dict:
    """Median over runs (and every run) of the per-message milliseconds at each history."""
    out = {}
    for n in histories:
        each = sorted(round(run[n] * 1000, 2) for run in per_run)
        out[str(n)] = {"median_ms": round(statistics.median(each), 2), "each_ms": each}
    first, last = out[str(histories[0])]["median_ms"], out[str(histories[-1])]["median_ms"]
    out["ratio_longest_to_shortest"] = round(last / first, 3)
    return out


# -- in process ---------------------------------------------------------------------------------------


def start_action_server(bot_dir: Path, state: Path) -> tuple[Service, str]:
    port = free_port()
    env = rasa_env({"ACTIONS_DATABASE_URL": f"sqlite:///{state / 'orders.sqlite3'}"})
    actions = Service(
        "actions",
        [paths.tool("rasa"), "run", "actions", "--actions", "rasa_bot.actions", "--port", str(port)],
        bot_dir,
        env,
        f"http://127.0.0.1:{port}/health",
        state / "actions.log",
    )
    actions.start()
    actions.wait_ready(240)
    return actions, f"http://127.0.0.1:{port}/webhook"


def load_variant(model: Path, bot_dir: Path, action_url: str, state: Path, variant: str):
    """The model loaded as the project's server runs it, ``before`` or ``after`` this change."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from rasa_bot.channels.action_calls import HistoryWindow, window_action_history
    from rasa_bot.channels.graph_runner import SequentialGraphRunner
    from rasa_bot.channels.policy_windows import install_policy_windows
    from rasa_bot.stores.sqlite_tracker_store import SQLiteTrackerStore

    agent = Agent.load(str(model), action_endpoint=EndpointConfig(url=action_url))
    store = SQLiteTrackerStore(
        agent.domain, db=str(state / f"tracker-{variant}.sqlite3"), keep_history=variant == "after"
    )
    agent.tracker_store = agent.processor.tracker_store = store
    agent.processor.graph_runner = SequentialGraphRunner.replacing(agent.processor.graph_runner)
    if variant == "after":
        assert install_policy_windows(agent), "no policy to window"
        assert window_action_history(agent, HistoryWindow()), "no action endpoint"
    return agent


def in_process(model: Path, bot_dir: Path, state: Path, conversations: int, histories: tuple[int, ...]) -> dict:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from rasa_bot.channels.action_calls import install_response_check, share_action_session
    from rasa_bot.channels.secure_socketio import tune_collector_for_serving

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    actions, action_url = start_action_server(bot_dir, state)
    try:
        agents = {v: load_variant(model, bot_dir, action_url, state, v) for v in VARIANTS}
        install_response_check()  # as the channel does at start (channels/action_calls.py)
        sessions = [share_action_session(agent) for agent in agents.values()]
        tune_collector_for_serving()
        return asyncio.run(_in_process(agents, sessions, conversations, histories))
    finally:
        actions.stop()


async def _in_process(agents: dict, sessions: list, conversations: int, histories: tuple[int, ...]) -> dict:
    async def talk(agent, sender: str, mix: list[str], length: int) -> tuple[list[float], int]:
        times = []
        for i in range(length):
            start = time.perf_counter()
            replies = await agent.handle_text(mix[i % len(mix)], sender_id=sender)
            times.append(time.perf_counter() - start)
            assert replies, f"no reply to message {i} of {sender}"
        tracker = await agent.tracker_store.retrieve(sender)
        return times, len(tracker.events)

    try:
        for variant, agent in agents.items():  # warm-up
            await talk(agent, f"warm-{variant}", MIXES["actions"], 2 * len(MIXES["actions"]))
        out: dict = {"conversations": conversations}
        for mix_name, mix in MIXES.items():
            length = max(histories) + len(mix)
            per_run: dict[str, list[dict[int, float]]] = {v: [] for v in VARIANTS}
            events = {}
            for n in range(conversations):
                for variant in VARIANTS if n % 2 == 0 else tuple(reversed(VARIANTS)):
                    times, events[variant] = await talk(agents[variant], f"{mix_name}-{variant}-{n}", mix, length)
                    per_run[variant].append(rounds(times, histories, mix))
                    print(
                        f"[in process, {mix_name}, {variant}] conversation {n + 1}: "
                        + ", ".join(f"{h}: {1000 * per_run[variant][-1][h]:.1f} ms" for h in histories),
                        flush=True,
                    )
            out[mix_name] = {"events_at_end": events, **{v: summary(per_run[v], histories) for v in VARIANTS}}
        return out
    finally:
        for session in sessions:
            if session is not None:
                await session.close()


# -- through the real server --------------------------------------------------------------------------


def server_files(variant: str, folder: Path) -> tuple[Path, Path]:
    """bench_load's credentials and endpoints for the project's server, with this change on or off."""
    credentials = bench_load.credentials_for("ours", folder)
    endpoints = bench_load.endpoints_for("ours", folder)
    creds = yaml.safe_load(credentials.read_text())
    channel = creds["rasa_bot.channels.secure_socketio.SecureSocketIOInput"]
    channel["policy_windows"] = variant == "after"
    channel["action_history_turns"] = 3 if variant == "after" else 0  # 0: every event, as Rasa sends them
    ends = yaml.safe_load(endpoints.read_text())
    ends["tracker_store"]["keep_history"] = variant == "after"
    credentials, endpoints = folder / f"credentials-{variant}.yml", folder / f"endpoints-{variant}.yml"
    credentials.write_text(yaml.safe_dump(creds))
    endpoints.write_text(yaml.safe_dump(ends))
    return credentials, endpoints


def start_variants(bot_dir: Path, model: Path, work: Path, secret: str, workers: int) -> dict:
    servers = {}
    for variant in VARIANTS:
        state = work / f"{variant}-{workers}"
        state.mkdir()
        credentials, endpoints = server_files(variant, state)
        servers[variant] = start_servers(bot_dir, model, credentials, endpoints, state, secret, workers)
    return servers


def through_server(bot_dir: Path, model: Path, work: Path, conversations: int, histories: tuple[int, ...]) -> dict:
    secret = secrets.token_urlsafe(48)
    servers = start_variants(bot_dir, model, work, secret, workers=1)

    async def talk(url: str, mix: list[str]) -> list[float]:
        conv = Conversation(url, secret)
        await conv.open()
        try:
            for i in range(max(histories) + len(mix)):
                await conv.send(mix[i % len(mix)])
                await asyncio.wait_for(conv.answered.wait(), 60)
        finally:
            await conv.close()
        return conv.latencies

    try:
        for _, url in servers.values():  # warm-up
            asyncio.run(bench_load.closed_loop(url, secret, 5, 2 * len(MESSAGES)))
        out: dict = {"conversations": conversations}
        for mix_name, mix in MIXES.items():
            per_run: dict[str, list[dict[int, float]]] = {v: [] for v in VARIANTS}
            for n in range(conversations):
                for variant in VARIANTS if n % 2 == 0 else tuple(reversed(VARIANTS)):
                    latencies = asyncio.run(talk(servers[variant][1], mix))
                    per_run[variant].append(rounds(latencies, histories, mix))
                    print(
                        f"[server, {mix_name}, {variant}] conversation {n + 1}: "
                        + ", ".join(f"{h}: {1000 * per_run[variant][-1][h]:.1f} ms" for h in histories),
                        flush=True,
                    )
            out[mix_name] = {v: summary(per_run[v], histories) for v in VARIANTS}
        return out
    finally:
        for services, _ in servers.values():
            for s in reversed(services):
                s.stop()


# -- bench_load's stress rows ---------------------------------------------------------------------------

STRESS = "open loop, 100 msg/s over the same 50 conversations (60 messages each), 30 s"


def stress(bot_dir: Path, model: Path, work: Path, runs: int, workers: int) -> dict:
    secret = secrets.token_urlsafe(48)
    servers = start_variants(bot_dir, model, work, secret, workers=workers)
    try:
        for _, url in servers.values():
            asyncio.run(bench_load.closed_loop(url, secret, *bench_load.WARM_UP))
        outcomes: dict[str, list[dict]] = {v: [] for v in VARIANTS}
        for run in range(runs):
            for variant in VARIANTS if run % 2 == 0 else reversed(VARIANTS):
                result = asyncio.run(open_loop(servers[variant][1], secret, 50, 100, 30))
                outcomes[variant].append(result)
                print(f"[stress, {workers} workers, {variant}] run {run + 1}: {result}", flush=True)
        return {
            "scenario": STRESS,
            "workers": workers,
            **{v: bench_load.median_run(outcomes[v]) for v in VARIANTS},
        }
    finally:
        for services, _ in servers.values():
            for s in reversed(services):
                s.stop()


# -- report -------------------------------------------------------------------------------------------


PART_TITLES = {
    "inprocess": "in process",
    "server": "through the real server",
    "stress": "stress rows",
}


def render_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# History benchmark (bench/bench_history.py)",
        "",
        f"Machine: {m['cpus']} cores, {m['cpu']}, Python {m['python']}; often shared with other work, so single "
        "figures are noisy: variants take turns, figures are medians. Model: the demo corpus; message mix of "
        "bench_load.py (custom actions against a real action server included). Each part as last measured:",
        "",
        *(
            f"- {PART_TITLES[part]}: `{run['command']}` ({run['date']}"
            + (f"; load average before {run['load_before']}" if run.get("load_before") else "")
            + ")"
            for part, run in results.get("runs", {}).items()
        ),
        "",
        "*before*: the project's stack without keeping history (`keep_history: false` in the tracker "
        "store, `policy_windows: false` and `action_history_turns: 0` in the channel: every event sent to "
        "the action server, as Rasa does); *after*: the defaults.",
        "",
    ]
    histories = results["histories"]
    mix_titles = {
        "answers": "mix of the stress rows as issue 13 measured them: " + ", ".join(f"'{m}'" for m in MIXES["answers"]),
        "actions": "bench_load.py's current mix (half the turns call the action server): "
        + ", ".join(f"'{m}'" for m in MIXES["actions"]),
    }
    for part, title in (
        ("inprocess", "In process (Agent.handle_text)"),
        ("server", "Through the real server, one process, socket.io"),
    ):
        if part not in results:
            continue
        for mix_name in MIXES:
            r = results[part].get(mix_name)
            if r is None:
                continue
            lines += [
                f"## {title}, {mix_name}",
                "",
                f"The {mix_titles[mix_name]}. Milliseconds per message, mean of one round of the mix after "
                f"*n* messages; median of {results[part]['conversations']} conversations (each in brackets).",
                "",
                "| variant | "
                + " | ".join(f"n = {n}" for n in histories)
                + f" | n = {histories[-1]} / n = {histories[0]} |",
                "| --- | " + " | ".join("---:" for _ in histories) + " | ---: |",
            ]
            for v in VARIANTS:
                cells = [
                    f"{r[v][str(n)]['median_ms']} ({', '.join(map(str, r[v][str(n)]['each_ms']))})" for n in histories
                ]
                lines.append(f"| {v} | " + " | ".join(cells) + f" | {r[v]['ratio_longest_to_shortest']} |")
            if "events_at_end" in r:
                lines += ["", f"Events in a conversation's tracker at the end: {r['events_at_end']['after']}."]
            lines.append("")
    if "stress" in results:
        r = results["stress"]
        lines += [
            f"## Stress rows of bench_load.py, RASA_WORKERS={r['workers']}",
            "",
            f"{r['scenario']}; the run with the median p99 of {r['after']['runs']}, every run's p99 listed.",
            "",
            "| variant | replies/s | p50 ms | p95 ms | p99 ms | p99 each run | sent | lost |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
        ]
        for v in VARIANTS:
            s = r[v]
            lines.append(
                f"| {v} | {s['replies_per_s']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | "
                f"{', '.join(map(str, s['p99_ms_each_run']))} | {s['sent'] * s['runs']} | {s['lost_all_runs']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        nargs="+",
        choices=["inprocess", "server", "stress"],
        default=["inprocess", "server", "stress"],
        help="what to run (default: all)",
    )
    parser.add_argument("--conversations", type=int, default=5, help="conversations per variant (default 5)")
    parser.add_argument("--stress-runs", type=int, default=3, help="runs of the stress row per variant (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="RASA_WORKERS for the stress rows (default 2)")
    parser.add_argument("--quick", action="store_true", help="short runs, to check the benchmark itself")
    args = parser.parse_args()
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    histories = (2, 5) if args.quick else HISTORIES
    conversations = 1 if args.quick else args.conversations
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    bot_dir = copy_bot_sources(work / "bot")
    convert(paths.DEMO_CORPUS, bot_dir, quiet=True)
    model = train(bot_dir)
    name = "history-quick" if args.quick else "history"
    # A run of some parts keeps the others' last figures (each part says when and how it was measured).
    previous = RESULTS / f"{name}.json"
    results: dict = json.loads(previous.read_text()) if previous.is_file() else {}
    if results.get("histories") != list(histories) or results.get("mixes") != MIXES:
        results = {}  # figures of another design are not kept beside these
    results.update(machine=machine(), model=model.name, mixes=MIXES, histories=list(histories))
    results.setdefault("runs", {})
    run = {
        "command": "python bench/bench_history.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "load_before": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for part in args.part:
        if part != "stress" or not args.quick:
            results["runs"][part] = run
    # The servers first: servers started after this process had loaded the model hung while loading theirs
    # (seen twice; the cause was not pinned down: not the variables TensorFlow adds to os.environ).
    if "server" in args.part:
        results["server"] = through_server(bot_dir, model, work, conversations, histories)
    if "stress" in args.part and not args.quick:
        results["stress"] = stress(bot_dir, model, work, args.stress_runs, args.workers)
    if "inprocess" in args.part:
        state = work / "inprocess"
        state.mkdir()
        results["inprocess"] = in_process(model, bot_dir, state, conversations, histories)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(render_markdown(results))
    print(f"wrote {RESULTS / name}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
