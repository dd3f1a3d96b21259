"""Drawing the pairs of a pairwise-judgement study: pure (no Django, no database), so every rule is unit-tested.

A rater is shown two finished conversations of two different bots side by side. The next pair for a rater is drawn
so that:

- every pair of bots gets its quota: only bot pairs with places left are drawn, the one with the most places left
  first;
- no rater judges the same two conversations twice (a repeated *check pair* aside), and a rater sees a pair of bots
  again only when every pair of bots with places left has been shown to them as often;
- conversations are used evenly: within the chosen bot pair, the two conversations this rater has not read yet, and
  then the least shown overall, with ties drawn at random; with ``same_scenario``, both on one scenario;
- the sides are drawn at random for every pair.

Check pairs repeat one of the rater's answered pairs, sides swapped, spread over the rater's pairs
(:func:`check_due`): they measure the rater's consistency and do not count toward any quota.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Material:
    """A finished conversation a pair may show: its id, its bot, and its scenario (empty when none)."""

    conversation: str
    bot: str
    scenario: str = ""


@dataclass(frozen=True)
class Draw:
    """A drawn pair: what goes on the left and what on the right."""

    left: Material
    right: Material

    @property
    def bots(self) -> frozenset[str]:
        return frozenset((self.left.bot, self.right.bot))


@dataclass(frozen=True)
class RaterHistory:
    """What one rater has been shown already (ordinary pairs; check pairs are not counted)."""

    #: Pairs of conversations shown, each as a frozenset of the two ids.
    conversation_pairs: frozenset[frozenset[str]] = frozenset()
    #: How many times each pair of bots (a frozenset of the two bot ids) was shown.
    bot_pairs: Mapping[frozenset[str], int] | None = None
    #: Every conversation shown to the rater.
    conversations: frozenset[str] = frozenset()

    @classmethod
    def of(cls, shown: Iterable[tuple[Material, Material]]) -> RaterHistory:
        """From the rater's ordinary pairs shown so far."""
        shown = list(shown)
        return cls(
            conversation_pairs=frozenset(frozenset((a.conversation, b.conversation)) for a, b in shown),
            bot_pairs=Counter(frozenset((a.bot, b.bot)) for a, b in shown),
            conversations=frozenset(c.conversation for pair in shown for c in pair),
        )


def bot_pairs(bots: Sequence[str]) -> list[frozenset[str]]:
    """Every pair of two different bots, in the order of ``bots``."""
    unique = list(dict.fromkeys(bots))
    return [frozenset((a, b)) for i, a in enumerate(unique) for b in unique[i + 1 :]]


def draw_pair(
    *,
    material: Sequence[Material],
    bots: Sequence[str],
    quota: int,
    taken: Mapping[frozenset[str], int],
    history: RaterHistory,
    used: Mapping[str, int] | None = None,
    same_scenario: bool = False,
    rng: random.Random | None = None,
) -> Draw | None:
    """The next ordinary pair for a rater, or None when no pair of bots with places left has a pair to show them.

    Args:
        material: The finished conversations that may be shown (of the study's bots and of others, which are
            ignored).
        bots: The bots the study compares.
        quota: Judged pairs wanted per pair of bots.
        taken: Places taken per pair of bots (answered pairs and pairs being judged).
        history: What this rater has been shown.
        used: How many times each conversation has been shown (to anyone), to spread the material evenly.
        same_scenario: Show two conversations on the same (non-empty) scenario only.
        rng: The random source (sides, ties); a fresh system one by default.
    """
    rng = rng or random.SystemRandom()
    used = used or {}
    seen_bot_pairs = history.bot_pairs or {}
    by_bot: dict[str, list[Material]] = {}
    for m in material:
        by_bot.setdefault(m.bot, []).append(m)
    tiebreak = {m.conversation: rng.random() for m in material}
    open_pairs = [pair for pair in bot_pairs(bots) if quota - taken.get(pair, 0) > 0]
    ordering = {pair: rng.random() for pair in open_pairs}
    open_pairs.sort(key=lambda pair: (seen_bot_pairs.get(pair, 0), taken.get(pair, 0) - quota, ordering[pair]))
    for pair in open_pairs:
        a, b = sorted(pair)
        best = _best_conversations(by_bot.get(a, []), by_bot.get(b, []), history, used, same_scenario, tiebreak)
        if best is not None:
            x, y = best
            return Draw(x, y) if rng.random() < 0.5 else Draw(y, x)
    return None


def _best_conversations(
    xs: list[Material],
    ys: list[Material],
    history: RaterHistory,
    used: Mapping[str, int],
    same_scenario: bool,
    tiebreak: Mapping[str, float],
) -> tuple[Material, Material] | None:
    """The allowed pair with the smallest summed key (unread by the rater, then least shown, then the draw).

    Adding one key to others keeps their (lexicographic) order, so for each ``x`` the first allowed ``y`` in key
    order is its best, and once ``x``'s key plus the smallest ``y`` key is no better than the best found, no later
    ``x`` can be: near-linear in the material instead of its square.
    """

    def key(m: Material) -> tuple[int, int, float]:
        return (m.conversation in history.conversations, used.get(m.conversation, 0), tiebreak[m.conversation])

    def plus(a: tuple[int, int, float], b: tuple[int, int, float]) -> tuple[int, int, float]:
        return (a[0] + b[0], a[1] + b[1], a[2] + b[2])

    xs = sorted(xs, key=key)
    ys = sorted(ys, key=key)
    if not xs or not ys:
        return None
    smallest_y = key(ys[0])
    best, best_key = None, None
    for x in xs:
        kx = key(x)
        if best_key is not None and plus(kx, smallest_y) >= best_key:
            break
        for y in ys:
            if same_scenario and (not x.scenario or x.scenario != y.scenario):
                continue
            if frozenset((x.conversation, y.conversation)) in history.conversation_pairs:
                continue
            total = plus(kx, key(y))
            if best_key is None or total < best_key:
                best, best_key = (x, y), total
            break  # the first allowed y is this x's best
    return best


def check_due(*, answered: int, checks_done: int, pairs_per_rater: int, check_pairs: int) -> bool:
    """Whether the rater's next pair should be a check pair: checks are spread evenly over the ordinary pairs.

    The k-th check (k = 1, 2, ...) comes once ``ceil(k * pairs_per_rater / (check_pairs + 1))`` ordinary pairs are
    answered: with 10 pairs and 2 checks, after the 4th and the 7th.
    """
    if checks_done >= check_pairs:
        return False
    return answered >= math.ceil((checks_done + 1) * pairs_per_rater / (check_pairs + 1))


def choose_check(candidates: Sequence[int], *, latest: int | None, rng: random.Random | None = None) -> int | None:
    """Which answered pair to show again (by position): any not repeated yet, the latest one only if it is the last.

    Args:
        candidates: Positions of the rater's answered ordinary pairs not repeated yet.
        latest: The position of the rater's latest pair (shown again at once, a repeat is easy to spot).
        rng: The random source.
    """
    rng = rng or random.SystemRandom()
    if not candidates:
        return None
    earlier = [p for p in candidates if p != latest] or list(candidates)
    return rng.choice(sorted(earlier))
