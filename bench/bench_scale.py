"""Scale-out benchmark: throughput with one and with two Rasa instances on a shared Postgres + Redis.

Starts the scale-out topology of deploy/local.py (real PostgreSQL, Redis, the
action server, N Rasa instances with rasa_bot/endpoints-scale.yml, Django and
nginx) for N = 1 and N = 2, with the same trained demo model, and runs closed-loop
socket.io conversations spread evenly over the instances (each conversation on
one instance, as nginx's ip_hash does for real visitors; loopback clients all hash
alike, so the benchmark connects to the instances directly). The channel's
per-connection rate limit is raised so closed-loop clients are not throttled.
Records replies/s and p50/p95/p99 latency into bench/results/scale.json and
scale.md, with the machine. Run: ``make bench-scale`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from bench import bench_load  # noqa: E402
from bench.bench_load import ORIGIN, credentials_for, machine  # noqa: E402
from deploy.local import ScaleStack, missing_binaries  # noqa: E402
from launcher import paths  # noqa: E402
from launcher.build import convert, copy_bot_sources, train  # noqa: E402

RESULTS = REPO / "bench" / "results"


async def closed_loop(urls: list[str], secret: str, conversations: int, per_conversation: int) -> dict:
    """``conversations`` clients, spread round-robin over ``urls``, each sending as soon as it is answered."""
    return await bench_load.closed_loop(urls, secret, conversations, per_conversation, reply_timeout=30)


def render_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Scale-out: one vs two Rasa instances (shared Postgres tracker store, Redis lock store)",
        "",
        f"Machine: {m['cpus']} cores ({m['cpu']}), Python {m['python']}; shared with other work while measured.",
        f"Command: `{results['command']}`. Closed loop: each conversation sends its next message when answered.",
        "",
        "| instances | scenario | sent | replies | lost | replies/s | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["runs"]:
        r = row["result"]
        lines.append(
            f"| {row['instances']} | {row['scenario']} | {r['sent']} | {r['replies']} | {r['lost']} | "
            f"{r['replies_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
        )
    lines += ["", results["note"], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--messages", type=int, default=15, help="messages per conversation")
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    missing = missing_binaries()
    if missing:
        print(f"error: install {', '.join(missing)} first (apt-get install ...)", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        bot = copy_bot_sources(Path(tmp) / "bot")
        convert(paths.DEMO_CORPUS, bot, quiet=True)
        model = train(bot)
        credentials = credentials_for("ours", Path(tmp))
        for n in args.instances:
            root = Path(tmp) / f"stack-{n}"
            with ScaleStack(bot, model, root, instances=n, site_origin=ORIGIN, credentials=credentials) as stack:
                # warm up each instance (first message loads lazily)
                asyncio.run(closed_loop(stack.rasa_urls, stack.jwt_secret, n, 2))
                scenario = f"closed loop, {args.conversations} conversations x {args.messages} messages"
                result = asyncio.run(closed_loop(stack.rasa_urls, stack.jwt_secret, args.conversations, args.messages))
                print(f"{n} instance(s): {result}", flush=True)
                runs.append({"instances": n, "scenario": scenario, "result": result})
    results = {
        "machine": machine(),
        "command": "python bench/bench_scale.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "runs": runs,
        "note": (
            "Every instance runs in one process and is CPU-bound on NLU and dialogue; a second instance adds "
            "throughput only where there is a free core for it. The load generator, Postgres, Redis and the action "
            "server run on the same machine."
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "scale.md").write_text(render_markdown(results))
    print(f"wrote {args.out / 'scale.json'} and {args.out / 'scale.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
