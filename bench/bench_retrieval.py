"""Benchmark and evaluation of the answers from past conversations (process_data/retrieval.py).

**Evaluation.** Past pairs are Bitext's official training split (6,480 client messages); each message's reply is
its intent's answer as one of three team members would write it (the demo corpus's answer, or one written here for
the intents it lacks; the three wordings differ in greeting and closing), chosen by a stable hash of the message.
Held out: Bitext's official test split (810 messages, none in the training split) and the separately generated
``bitext-sample-8k.csv`` less the messages the training split holds, plus 60 out-of-scope messages written here.
For each held-out message: is the reply actually given (same wording) the top-1 retrieved reply, among the top 5,
does the top reply answer the same question (same intent), and token F1 of the top reply against the actual one;
against a baseline that always gives the most frequent reply (top 5: the 5 most frequent). Then the threshold's
trade-off: for each threshold, the share of in-scope messages answered, of out-of-scope ones answered, and the
precision (answered with a reply to the right question; any out-of-scope answer is wrong), as a table and a chart.

**Speed.** 100,000 synthetic pairs (the sample's messages with greetings, endings and order numbers added): index
build (redaction included), save, load, file size, one-message lookups (p50/p99 over 1,000), peak memory.

Writes ``bench/results/retrieval.json``, ``retrieval.md`` and ``retrieval.svg``. The corpora are read from
``../shared/corpora/`` (never copied into the repository).

    .venv/bin/python bench/bench_retrieval.py [--pairs 100000] [--no-record]

A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from process_data.redact import Redactor
from process_data.retrieval import PastPair, ReplyIndex, RetrievalConfig

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
TRAIN = CORPORA / "bitext-official" / "train.csv"
TEST = CORPORA / "bitext-official" / "test.csv"
SAMPLE = CORPORA / "bitext-sample-8k.csv"
DEMO = REPO / "process_data" / "demo" / "demo_corpus.csv"
RESULTS = REPO / "bench" / "results"
REDACT = Redactor()
THRESHOLDS = [0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9]

#: Answers for the Bitext intents the demo corpus does not answer.
EXTRA_ANSWERS = {
    "change_order": "You can change an order until it ships: open it in your account and choose 'Edit items'.",
    "check_cancellation_fee": "Cancelling is free until the order ships; after that the return shipping is on us.",
    "edit_account": "Go to Account > Profile to change your name, e-mail address or phone number.",
    "newsletter_subscription": "You can subscribe or unsubscribe at the bottom of any newsletter or in Account.",
    "registration_problems": "Sorry about that! Try another browser; if it still fails, send us the error shown.",
    "review": "Thank you for your feedback! You can also leave a review on the product's page.",
    "set_up_shipping_address": "Add a shipping address in Account > Addresses; the first one becomes the default.",
    "switch_account": "Log out from the menu at the top right, then log in with the other account.",
    "track_order": "You can follow your parcel with the tracking link in your shipping confirmation e-mail.",
}
#: How three team members word the same answer.
WORDINGS = ["{}", "Hi! {}", "{} Anything else I can help with?"]

OUT_OF_SCOPE = """What's the weather in Paris tomorrow?
Who won the football match last night?
Can you recommend a good pizza place nearby?
tell me a joke
What is the capital of Australia?
how do I cook rice
Are you a human or a robot?
What's the meaning of life?
translate hello into Spanish
I need help with my maths homework
Which phone should I buy this year?
Play some music please
how tall is the Eiffel tower
When does the next train to Berlin leave?
Can you book me a hotel in Rome?
What time is it in Tokyo?
How many calories are in an apple?
Write me a poem about the sea
Do you like cats or dogs?
What's your favourite movie?
My neighbour's dog keeps barking, what can I do?
How do I fix a flat bicycle tyre?
Is it going to rain this weekend?
What is bitcoin worth today?
Recommend me a book to read
how old is the universe
Can you help me with my tax return?
What's a good name for a goldfish?
How do I learn to play guitar?
Who is the president of France?
Explain quantum physics simply
I'm bored, entertain me
what should I eat for dinner
How far is the moon?
Which team will win the league?
How do you make pancakes?
Can you drive me to the airport?
Sing me a song
What's the best programming language?
Where can I watch the new series?
How do I get rid of hiccups?
What is love?
Can plants feel pain?
Tell me something interesting
Why is the sky blue?
How do I become an astronaut?
What's the population of Canada?
Do aliens exist?
How long should I boil an egg?
What's the difference between a crocodile and an alligator?
Is coffee bad for you?
how do I meditate
What's trending on social media today?
Can you lend me some money?
Help me plan a birthday party
What does DNA stand for?
What's the speed of light?
How many languages are spoken in India?
Which wine goes with fish?
Will you marry me?""".splitlines()


def read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [(r["utterance"], r["intent"]) for r in csv.DictReader(handle)]


def answers() -> dict[str, str]:
    with DEMO.open(encoding="utf-8", newline="") as handle:
        demo = {r["intent"]: r["response"] for r in csv.DictReader(handle)}
    return {**demo, **EXTRA_ANSWERS}


def reply_for(text: str, intent: str, table: dict[str, str]) -> str:
    """The reply a team member gave: the intent's answer in one of three wordings, by a stable hash of the text."""
    n = int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(WORDINGS)
    return WORDINGS[n].format(table[intent])


_TOKEN = re.compile(r"\w+")


def token_f1(predicted: str, actual: str) -> float:
    """SQuAD-style token F1: the harmonic mean of token precision and recall (multisets, case ignored)."""
    p, a = Counter(_TOKEN.findall(predicted.lower())), Counter(_TOKEN.findall(actual.lower()))
    common = sum((p & a).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def evaluate(config: RetrievalConfig) -> dict:
    table = answers()
    train = read(TRAIN)
    intent_of_reply = {}
    pairs = []
    for i, (text, intent) in enumerate(train):
        reply = reply_for(text, intent, table)
        intent_of_reply[REDACT.redact(reply)] = intent  # the index holds replies redacted
        pairs.append(PastPair(text, reply, f"chat {i // 5}"))
    started = time.perf_counter()
    index = ReplyIndex.build(pairs, config)
    build_s = time.perf_counter() - started
    seen = {t for t, _ in train}
    sets = {
        "official test split": read(TEST),
        "bitext-sample-8k, messages not in train": [(t, i) for t, i in read(SAMPLE) if t not in seen],
    }
    frequent = [r for r, _ in Counter(index.replies).most_common(5)]
    results: dict = {"index": {"pairs": len(pairs), "build_s": round(build_s, 3)}, "sets": {}}
    hits_by_set = {}
    for name, rows in sets.items():
        texts = [t for t, _ in rows]
        hits = index.search_many(texts, 5)
        hits_by_set[name] = (rows, hits)
        actual = [REDACT.redact(reply_for(t, i, table)) for t, i in rows]
        n = len(rows)
        top1 = sum(1 for h, a in zip(hits, actual, strict=True) if h and h[0].reply == a) / n
        top5 = sum(1 for h, a in zip(hits, actual, strict=True) if a in {x.reply for x in h}) / n
        right = sum(1 for h, (_, i) in zip(hits, rows, strict=True) if h and intent_of_reply[h[0].reply] == i) / n
        f1 = statistics.fmean(token_f1(h[0].reply if h else "", a) for h, a in zip(hits, actual, strict=True))
        base1 = sum(1 for a in actual if a == frequent[0]) / n
        base5 = sum(1 for a in actual if a in frequent) / n
        base_right = sum(1 for _, i in rows if intent_of_reply[frequent[0]] == i) / n
        base_f1 = statistics.fmean(token_f1(frequent[0], a) for a in actual)
        results["sets"][name] = {
            "messages": n,
            "retrieval": {"top1": top1, "top5": top5, "right_question": right, "token_f1": f1},
            "most frequent reply": {"top1": base1, "top5": base5, "right_question": base_right, "token_f1": base_f1},
        }
    # the threshold's trade-off, on the harder set plus the out-of-scope messages
    rows, hits = hits_by_set["bitext-sample-8k, messages not in train"]
    oos_hits = index.search_many(OUT_OF_SCOPE, 1)
    trade = []
    for t in THRESHOLDS:
        answered_in = [(h, i) for h, (_, i) in zip(hits, rows, strict=True) if h and h[0].score >= t]
        answered_out = [h for h in oos_hits if h and h[0].score >= t]
        right = sum(1 for h, i in answered_in if intent_of_reply[h[0].reply] == i)
        answered = len(answered_in) + len(answered_out)
        trade.append(
            {
                "threshold": t,
                "answered_in_scope": len(answered_in) / len(rows),
                "answered_out_of_scope": len(answered_out) / len(OUT_OF_SCOPE),
                "precision": right / answered if answered else None,
            }
        )
    results["threshold"] = {
        "set": "bitext-sample-8k, messages not in train, plus out-of-scope messages",
        "out_of_scope_messages": len(OUT_OF_SCOPE),
        "rows": trade,
        "out_of_scope_best_scores": sorted(round(h[0].score, 3) for h in oos_hits if h),
    }
    return results


def synthetic_pairs(n: int) -> list[PastPair]:
    table = answers()
    base = read(SAMPLE)
    rng = random.Random(7)
    prefixes = ["", "hi, ", "hello ", "please ", "excuse me, ", "good morning, ", "sorry, ", "quick question: "]
    suffixes = ["", " please", " thanks", "?", " thank you", " today", " - urgent", " :)"]
    pairs = []
    for i in range(n):
        text, intent = base[i % len(base)]
        if i >= len(base):
            text = rng.choice(prefixes) + text + rng.choice(suffixes)
            if rng.random() < 0.3:
                text += f" (order {rng.randrange(10**6, 10**7)})"
        pairs.append(PastPair(text, reply_for(text, intent, table), f"chat {i // 6}"))
    return pairs


def speed(n: int, config: RetrievalConfig) -> dict:
    pairs = synthetic_pairs(n)
    started = time.perf_counter()
    index = ReplyIndex.build(pairs, config)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.npz"
        started = time.perf_counter()
        index.save(path)
        save_s = time.perf_counter() - started
        size = path.stat().st_size
        started = time.perf_counter()
        loaded = ReplyIndex.load(path)
        load_s = time.perf_counter() - started
    queries = [t for t, _ in read(TEST)]
    loaded.search(queries[0])  # first call builds the inverted index
    times = []
    for q in (queries * 2)[:1000]:
        started = time.perf_counter()
        loaded.search(q, 5)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    started = time.perf_counter()
    loaded.search_many(queries, 5)
    batch_ms = (time.perf_counter() - started) * 1000 / len(queries)
    return {
        "pairs": n,
        "build_s": round(build_s, 2),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
        "file_mb": round(size / 2**20, 1),
        "lookup_ms_p50": round(times[len(times) // 2], 2),
        "lookup_ms_p99": round(times[int(len(times) * 0.99) - 1], 2),
        "lookup_ms_batched": round(batch_ms, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }


def chart(trade: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["threshold"] for r in trade]
    fig, ax = plt.subplots(figsize=(7, 4.6))
    ax.plot(xs, [r["answered_in_scope"] * 100 for r in trade], marker="o", label="in-scope messages answered")
    ax.plot(xs, [r["answered_out_of_scope"] * 100 for r in trade], marker="s", label="out-of-scope messages answered")
    ax.plot(xs, [(r["precision"] or 0) * 100 for r in trade], marker="^", label="precision (right question)")
    ax.set_xlabel("threshold (cosine similarity)")
    ax.set_ylabel("%")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    ax.set_title("Answers from past conversations: threshold trade-off")
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None})
    plt.close(fig)
    os.replace(tmp, path)


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


def markdown(result: dict) -> str:
    ev, sp = result["evaluation"], result["speed"]
    lines = [
        "# Answers from past conversations: evaluation and speed",
        "",
        f"`.venv/bin/python bench/bench_retrieval.py` on {result['machine']['when']}, "
        f"{result['machine']['cpus']} CPUs ({result['machine']['processor']}), load average before: "
        f"{result['machine']['loadavg']}. Settings: char 2-4-grams, threshold {result['config']['threshold']}.",
        "",
        f"Past pairs: Bitext's official training split ({ev['index']['pairs']:,} messages; index built in "
        f"{ev['index']['build_s']:.2f} s), each reply its intent's answer in one of three team members' wordings.",
        "",
        "| held-out set | messages | method | top-1 reply | top-5 reply | right question | token F1 |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, s in ev["sets"].items():
        for method in ("retrieval", "most frequent reply"):
            m = s[method]
            lines.append(
                f"| {name} | {s['messages']:,} | {method} | {pct(m['top1'])} | {pct(m['top5'])} | "
                f"{pct(m['right_question'])} | {m['token_f1']:.3f} |"
            )
    lines += [
        "",
        "*top-1/top-5 reply*: the reply actually given (same wording) is the first / among the first five distinct "
        "replies retrieved; with three wordings per answer, top-1 cannot beat about a third by more than luck. "
        "*right question*: the first reply answers the same intent. *token F1*: word overlap of the first reply "
        "with the actual one.",
        "",
        f"## Threshold: answered share vs precision ({ev['threshold']['set']}, "
        f"{ev['threshold']['out_of_scope_messages']} out-of-scope)",
        "",
        "![threshold trade-off](retrieval.svg)",
        "",
        "| threshold | in-scope answered | out-of-scope answered | precision |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for r in ev["threshold"]["rows"]:
        lines.append(
            f"| {r['threshold']:.2f} | {pct(r['answered_in_scope'])} | {pct(r['answered_out_of_scope'])} | "
            f"{pct(r['precision'])} |"
        )
    lines += [
        "",
        "In the bot, past answers are asked only when the NLU falls back, so the messages they see are the hard "
        "ones: read the rows as an upper bound for in-scope messages and as the real rate for out-of-scope ones.",
        "",
        f"## Speed ({sp['pairs']:,} synthetic pairs)",
        "",
        "| build (redaction included) | save | load | file | lookup p50 | lookup p99 | batched | peak memory |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {sp['build_s']} s | {sp['save_s']} s | {sp['load_s']} s | {sp['file_mb']} MB | "
        f"{sp['lookup_ms_p50']} ms | {sp['lookup_ms_p99']} ms | {sp['lookup_ms_batched']} ms | "
        f"{sp['peak_rss_mb']:.0f} MB |",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100_000, help="synthetic pairs for the speed run")
    parser.add_argument("--threshold", type=float, default=0.5, help="the threshold the settings use")
    parser.add_argument("--no-record", action="store_true", help="print the figures, write no results file")
    args = parser.parse_args()
    for path in (TRAIN, TEST, SAMPLE):
        if not path.is_file():
            print(f"error: {path} not found: the corpora live in ../shared/corpora/", file=sys.stderr)
            return 2
    config = RetrievalConfig(threshold=args.threshold)
    result = {
        "machine": {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "loadavg": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(),
        },
        "config": {"threshold": config.threshold, "ngrams": [config.ngram_min, config.ngram_max]},
        "evaluation": evaluate(config),
        "speed": speed(args.pairs, config),
    }
    print(json.dumps(result, indent=2))
    if not args.no_record:
        RESULTS.mkdir(parents=True, exist_ok=True)
        write_atomic(RESULTS / "retrieval.json", json.dumps(result, indent=2) + "\n")
        write_atomic(RESULTS / "retrieval.md", markdown(result))
        chart(result["evaluation"]["threshold"]["rows"], RESULTS / "retrieval.svg")
        print(f"wrote {RESULTS / 'retrieval.json'}, retrieval.md, retrieval.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
