"""Drawing the pairs of a pairwise-judgement study (``studies.pairing``, pure) and reading imported transcripts."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from studies.pairing import (
    Draw,
    Material,
    RaterHistory,
    bot_pairs,
    check_due,
    choose_check,
    draw_pair,
)
from studies.transcript_file import TranscriptFileError, parse_transcripts

BOTS = ["alpha", "beta", "gamma"]


def material(per_bot: int = 4, bots=BOTS, scenarios=("refund", "track")) -> list[Material]:
    return [
        Material(f"{bot}-{i}", bot, scenarios[i % len(scenarios)] if scenarios else "")
        for bot in bots
        for i in range(per_bot)
    ]


def run_study(*, raters: int, per_rater: int, quota: int, seed: int, stuff=None, same_scenario=False):
    """Raters one after the other each draw up to ``per_rater`` pairs; every pair is answered at once."""
    rng = random.Random(seed)
    stuff = stuff or material()
    taken: Counter = Counter()
    used: Counter = Counter()
    shown: dict[int, list[Draw]] = {}
    for rater in range(raters):
        mine: list[Draw] = []
        for _ in range(per_rater):
            history = RaterHistory.of((d.left, d.right) for d in mine)
            draw = draw_pair(
                material=stuff,
                bots=BOTS,
                quota=quota,
                taken=taken,
                history=history,
                used=used,
                same_scenario=same_scenario,
                rng=rng,
            )
            if draw is None:
                break
            mine.append(draw)
            taken[draw.bots] += 1
            used.update([draw.left.conversation, draw.right.conversation])
        shown[rater] = mine
    return shown, taken


def test_every_pair_of_bots_gets_its_quota_and_no_more():
    shown, taken = run_study(raters=10, per_rater=6, quota=15, seed=1)
    assert taken == {pair: 15 for pair in bot_pairs(BOTS)}
    assert sum(len(v) for v in shown.values()) == 45  # 3 pairs x 15; the last raters got fewer, then none


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), raters=st.integers(1, 8), per_rater=st.integers(1, 9), quota=st.integers(1, 12))
def test_no_rater_sees_two_conversations_together_twice_and_pairs_are_two_bots(seed, raters, per_rater, quota):
    shown, taken = run_study(raters=raters, per_rater=per_rater, quota=quota, seed=seed)
    assert all(n <= quota for n in taken.values())
    for draws in shown.values():
        pairs = [frozenset((d.left.conversation, d.right.conversation)) for d in draws]
        assert len(pairs) == len(set(pairs))
        assert all(d.left.bot != d.right.bot for d in draws)


def test_a_rater_sees_a_pair_of_bots_again_only_after_every_other_pair():
    shown, _ = run_study(raters=3, per_rater=6, quota=100, seed=3)
    for draws in shown.values():
        counts = Counter(d.bots for d in draws)
        assert set(counts.values()) == {2}  # 6 pairs over 3 pairs of bots: each exactly twice
        first_three = {d.bots for d in draws[:3]}
        assert len(first_three) == 3


def test_the_fullest_pair_of_bots_is_drawn_last():
    taken = {frozenset(("alpha", "beta")): 4, frozenset(("alpha", "gamma")): 1, frozenset(("beta", "gamma")): 3}
    draw = draw_pair(material=material(), bots=BOTS, quota=5, taken=taken, history=RaterHistory(), rng=random.Random(0))
    assert draw.bots == frozenset(("alpha", "gamma"))
    full = dict.fromkeys(taken, 5)
    assert draw_pair(material=material(), bots=BOTS, quota=5, taken=full, history=RaterHistory()) is None


def test_sides_are_drawn_at_random():
    lefts = Counter()
    for seed in range(400):
        draw = draw_pair(
            material=material(bots=["alpha", "beta"]),
            bots=["alpha", "beta"],
            quota=10,
            taken={},
            history=RaterHistory(),
            rng=random.Random(seed),
        )
        lefts[draw.left.bot] += 1
    assert 160 < lefts["alpha"] < 240  # about half (binomial(400, 0.5): within 4 standard deviations)


def test_conversations_are_spread_and_unread_ones_come_first():
    stuff = material(per_bot=3, bots=["alpha", "beta"], scenarios=())
    used = {"alpha-0": 2, "alpha-1": 0, "alpha-2": 1, "beta-0": 0, "beta-1": 1, "beta-2": 1}
    draw = draw_pair(
        material=stuff,
        bots=["alpha", "beta"],
        quota=9,
        taken={},
        history=RaterHistory(),
        used=used,
        rng=random.Random(0),
    )
    assert {draw.left.conversation, draw.right.conversation} == {"alpha-1", "beta-0"}
    seen = RaterHistory.of([(Material("alpha-1", "alpha"), Material("beta-1", "beta"))])
    draw = draw_pair(
        material=stuff, bots=["alpha", "beta"], quota=9, taken={}, history=seen, used=used, rng=random.Random(0)
    )
    assert not {draw.left.conversation, draw.right.conversation} & {"alpha-1", "beta-1"}


def test_same_scenario_pairs_like_with_like_and_nothing_without_a_scenario():
    shown, taken = run_study(raters=4, per_rater=5, quota=6, seed=5, same_scenario=True)
    draws = [d for v in shown.values() for d in v]
    assert draws and all(d.left.scenario == d.right.scenario != "" for d in draws)
    bare = material(scenarios=())
    none = draw_pair(material=bare, bots=BOTS, quota=5, taken={}, history=RaterHistory(), same_scenario=True)
    assert none is None


def test_a_rater_who_has_seen_every_pair_of_conversations_gets_none():
    stuff = material(per_bot=1, bots=["alpha", "beta"], scenarios=())
    seen = RaterHistory.of([(stuff[0], stuff[1])])
    assert draw_pair(material=stuff, bots=["alpha", "beta"], quota=9, taken={}, history=seen) is None


def test_bots_without_material_are_passed_over():
    stuff = material(bots=["alpha", "beta"])
    draw = draw_pair(material=stuff, bots=BOTS, quota=5, taken={}, history=RaterHistory(), rng=random.Random(2))
    assert draw.bots == frozenset(("alpha", "beta"))


@pytest.mark.parametrize(
    ("per_rater", "checks", "due_after"),
    [(10, 2, [4, 7]), (10, 1, [5]), (3, 3, [1, 2, 3]), (6, 0, [])],
)
def test_check_pairs_are_spread_over_the_rater_pairs(per_rater, checks, due_after):
    found, done = [], 0
    for answered in range(per_rater + 1):
        while check_due(answered=answered, checks_done=done, pairs_per_rater=per_rater, check_pairs=checks):
            found.append(answered)
            done += 1
    assert found == due_after


def test_a_check_repeats_an_earlier_pair_not_the_latest():
    picks = {choose_check([1, 2, 3], latest=3, rng=random.Random(seed)) for seed in range(50)}
    assert picks == {1, 2}
    assert choose_check([3], latest=3) == 3
    assert choose_check([], latest=3) is None


# --- imported transcripts -------------------------------------------------------------------------------------------


def test_jsonl_and_csv_transcripts_are_read():
    jsonl = (
        '{"id": "t1", "bot": "alpha", "scenario": "refund", "messages": '
        '[{"sender": "user", "text": "Hi"}, {"sender": "bot", "text": "Hello"}]}\n\n'
        '{"id": "t2", "bot": "beta", "messages": [{"sender": "user", "text": "A"}, {"sender": "bot", "text": "B"}]}\n'
    )
    found = parse_transcripts(jsonl, source="t.jsonl")
    assert [(t.key, t.bot, t.scenario, len(t.messages)) for t in found] == [
        ("t1", "alpha", "refund", 2),
        ("t2", "beta", "", 2),
    ]
    csv_text = 'transcript,bot,sender,text,scenario\nt1,alpha,user,Hi,refund\nt1,alpha,bot,"Hello, you",refund\n'
    (t,) = parse_transcripts(csv_text, source="t.csv")
    assert t.messages == [{"sender": "user", "text": "Hi"}, {"sender": "bot", "text": "Hello, you"}]
    assert t.scenario == "refund"


def test_transcript_mistakes_name_the_file_and_line():
    bad = (
        '{"id": "t1", "bot": "alpha", "messages": [{"sender": "user", "text": "Hi"}]}\n'
        "not json\n"
        '{"id": "t 2", "bot": "alpha", "messages": [{"sender": "robot", "text": "x"}]}\n'
    )
    with pytest.raises(TranscriptFileError) as caught:
        parse_transcripts(bad, source="t.jsonl")
    problems = caught.value.problems
    assert any(p.startswith("t.jsonl, line 2: not valid JSON") for p in problems)
    assert any(p.startswith("t.jsonl, line 3: field 'id'") for p in problems)
    assert any(p.startswith("t.jsonl, line 3: field 'messages[0]'") for p in problems)
    assert any("line 1: transcript 't1' needs at least one user and one bot message" in p for p in problems)
    with pytest.raises(TranscriptFileError, match="t.csv, line 1: column 'sender' is missing"):
        parse_transcripts("transcript,bot,text\n", source="t.csv")
    with pytest.raises(TranscriptFileError, match="t.csv, line 3: column 'bot': transcript 't1' is 'alpha' on line 2"):
        parse_transcripts("transcript,bot,sender,text\nt1,alpha,user,a\nt1,beta,bot,b\n", source="t.csv")


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_x=st.integers(0, 8),
    n_y=st.integers(0, 8),
    same_scenario=st.booleans(),
)
def test_the_fast_search_finds_the_best_pair_as_a_search_of_every_pair_does(seed, n_x, n_y, same_scenario):
    from studies.pairing import _best_conversations

    rng = random.Random(seed)
    xs = [Material(f"x{i}", "alpha", rng.choice(["", "s1", "s2"])) for i in range(n_x)]
    ys = [Material(f"y{i}", "beta", rng.choice(["", "s1", "s2"])) for i in range(n_y)]
    everything = xs + ys
    used = {m.conversation: rng.randrange(3) for m in everything}
    tiebreak = {m.conversation: rng.random() for m in everything}
    seen_pairs = [(x, y) for x in xs for y in ys if rng.random() < 0.3]
    history = RaterHistory.of(seen_pairs)

    def key(m):
        return (m.conversation in history.conversations, used[m.conversation], tiebreak[m.conversation])

    allowed = [
        (x, y)
        for x in xs
        for y in ys
        if not (same_scenario and (not x.scenario or x.scenario != y.scenario))
        and frozenset((x.conversation, y.conversation)) not in history.conversation_pairs
    ]
    found = _best_conversations(xs, ys, history, used, same_scenario, tiebreak)
    if not allowed:
        assert found is None
        return
    best = min(allowed, key=lambda p: tuple(a + b for a, b in zip(key(p[0]), key(p[1]), strict=True)))
    assert found == best
