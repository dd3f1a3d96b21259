"""``analyze``: every number of a study's results, from records to one JSON-ready dict.

Each section is a function of the records it needs; :func:`analyze` applies the acceptability exclusions first and
then calls them all. Every resampling draws from its own stream derived from the seed and what it is about (see
:func:`~studies.analysis.stats.derived_rng`), so a given seed gives the same numbers whatever else the study holds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from . import bradley_terry as bt
from .acceptability import apply_exclusions
from .agreement import LEVELS, Level, krippendorff_alpha
from .errors import AnalysisError
from .planning import pairwise_verdict, ratings_verdict
from .records import Annotation, Choice, Judgement, Outcome, Rating, StudyData
from .stats import (
    binomial_test,
    cluster_bootstrap_means,
    derived_rng,
    holm,
    percentile_interval,
    resolve_seed,
    wilson_interval,
)
from .types import (
    AgreementStats,
    AnalysisResult,
    BradleyTerryStats,
    ChoiceStats,
    ConsistencyStats,
    PairwiseStats,
    RatingStats,
    ShareStats,
    SuccessStats,
    Verdicts,
)

DEFAULT_DRAWS = 10_000
DEFAULT_ALPHA = 0.05
#: What the verdicts ask a study to be able to detect.
DEFAULT_WIN_RATE = 0.6
DEFAULT_DIFFERENCE = 0.3
DEFAULT_POWER = 0.8


def analyze(
    data: StudyData,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    include_excluded: bool = False,
    levels: Mapping[str, Level] | None = None,
    alpha: float = DEFAULT_ALPHA,
    bt_l2: float = bt.DEFAULT_L2,
    win_rate: float = DEFAULT_WIN_RATE,
    difference: float = DEFAULT_DIFFERENCE,
    power: float = DEFAULT_POWER,
) -> AnalysisResult:
    """Analyse a study: ratings, choices, agreement, pairwise tests, Bradley-Terry ranking, rater consistency,
    annotations, success, verdicts.

    Args:
        data: The records (see :mod:`studies.analysis.records`), exclusions included.
        draws: Bootstrap replicates for every interval that is bootstrapped.
        seed: Makes every resampling reproducible; None draws a fresh seed, reported in ``meta.seed``.
        include_excluded: Keep what acceptability checks excluded (they are still counted in ``acceptability``).
        levels: The agreement level per rating question (``ordinal`` unless given; ``nominal`` for a multiple-choice
            question coded as numbers).
        alpha: The significance level of the pairwise tests' ``significant`` mark and of the verdicts.
        bt_l2: The Bradley-Terry fit's L2 penalty (see :mod:`studies.analysis.bradley_terry`).
        win_rate: The win rate the pairwise verdicts ask a study to be able to detect.
        difference: The difference of mean ratings the ratings verdicts ask a study to be able to detect.
        power: The power the verdicts ask for.

    Returns:
        The result; see :class:`~studies.analysis.types.AnalysisResult` for every key.
    """
    if draws < 1:
        raise AnalysisError("draws must be at least 1")
    for question, level in (levels or {}).items():
        if level not in LEVELS:
            raise AnalysisError(f"unknown agreement level {level!r} for {question!r}; expected one of {LEVELS}")
    seed = resolve_seed(seed)
    kept, acceptability = apply_exclusions(data, include_excluded=include_excluded)
    ratings = ratings_summary(kept.ratings, draws=draws, seed=seed)
    judged = tuple(j for j in kept.judgements if not j.check)  # repeated check pairs only measure consistency
    pairwise = pairwise_summary(judged, alpha=alpha)
    return {
        "meta": {
            "seed": seed,
            "draws": draws,
            "alpha": alpha,
            "include_excluded": include_excluded,
            "counts": _counts(kept),
            "bots": _bots(kept),
        },
        "ratings": ratings,
        "choices": choices_summary(kept.choices, dict(kept.options)),
        "agreement": agreement_summary(kept, levels or {}),
        "pairwise": pairwise,
        "bradley_terry": bradley_terry_summary(judged, draws=draws, seed=seed, l2=bt_l2),
        "consistency": consistency_summary(kept.judgements),
        "annotations": annotations_summary(kept.annotations, kept.labels),
        "success": success_summary(kept.outcomes),
        "acceptability": acceptability,
        "verdicts": verdicts(
            kept.ratings, pairwise, alpha=alpha, win_rate=win_rate, difference=difference, power=power
        ),
    }


def _counts(data: StudyData) -> dict[str, int]:
    conversations = {r.conversation for r in data.ratings} | {a.conversation for a in data.annotations}
    conversations |= {o.conversation for o in data.outcomes} | {c.conversation for c in data.choices}
    raters = {r.rater for r in data.ratings} | {j.rater for j in data.judgements} | {a.rater for a in data.annotations}
    raters |= {c.rater for c in data.choices}
    return {
        "ratings": len(data.ratings),
        "choices": len(data.choices),
        "judgements": sum(not j.check for j in data.judgements),
        "check_judgements": sum(j.check for j in data.judgements),
        "annotations": len(data.annotations),
        "outcomes": len(data.outcomes),
        "conversations": len(conversations),
        "raters": len(raters),
    }


def _bots(data: StudyData) -> list[str]:
    bots = {r.bot for r in data.ratings} | {a.bot for a in data.annotations} | {o.bot for o in data.outcomes}
    bots |= {c.bot for c in data.choices}
    bots |= {j.bot_a for j in data.judgements} | {j.bot_b for j in data.judgements}
    return sorted(bots)


# --- ratings --------------------------------------------------------------------------------------------------------


def ratings_summary(ratings: Sequence[Rating], *, draws: int, seed: int) -> dict[str, dict[str, RatingStats]]:
    """``ratings[question][bot]``: count, mean and a bootstrap interval of the mean.

    The interval resamples *conversations* with replacement, each with all its ratings (several raters may rate one
    conversation; their ratings are not independent), and takes the 2.5th and 97.5th percentiles of the replicated
    means (the percentile method). Questions and bots appear in the order they first appear in the data.
    """
    grouped: dict[str, dict[str, list[Rating]]] = defaultdict(lambda: defaultdict(list))
    for rating in ratings:
        grouped[rating.question][rating.bot].append(rating)
    return {
        question: {
            bot: _rating_stats(rows, draws, derived_rng(seed, "ratings", question, bot)) for bot, rows in bots.items()
        }
        for question, bots in grouped.items()
    }


def _rating_stats(rows: list[Rating], draws: int, rng: np.random.Generator) -> RatingStats:
    values = [r.value for r in rows]
    by_conversation: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_conversation[row.conversation].append(row.value)
    ci95 = None
    if len(by_conversation) >= 2:
        sums = np.array([sum(v) for v in by_conversation.values()])
        counts = np.array([len(v) for v in by_conversation.values()])
        ci95 = list(percentile_interval(cluster_bootstrap_means(sums, counts, draws, rng)))
    return {
        "n": len(values),
        "conversations": len(by_conversation),
        "raters": len({r.rater for r in rows}),
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) >= 2 else None,
        "ci95": ci95,
    }


# --- agreement ------------------------------------------------------------------------------------------------------


def agreement_summary(data: StudyData, levels: Mapping[str, Level]) -> dict[str, AgreementStats]:
    """``agreement[name]``: Krippendorff's alpha wherever some item was rated by two or more raters.

    - Each rating question (name: the question): units are conversations, values the raters' answers, level
      ``ordinal`` (Likert) unless ``levels`` says otherwise.
    - Each annotation label (name: ``label: <label>``): units are bot messages, values whether each rater ticked
      the label (``nominal``).
    - Each multiple-choice question (name: the question): units are conversations, values the options chosen
      (``nominal``).
    - Each pairwise question whose judgements name their conversations (name: ``pairwise: <question>``): units are
      pairs of conversations, values the conversation preferred or ``tie`` (``nominal``). Repeated check pairs are
      left out (they measure a rater's consistency, ``consistency``).

    A rater who answered the same unit twice counts once, with the last answer.
    """
    result: dict[str, AgreementStats] = {}
    for question, units in _rating_units(data.ratings).items():
        _add_agreement(result, question, "ratings", levels.get(question, "ordinal"), units)
    for question, units in _choice_units(data.choices).items():
        _add_agreement(result, question, "choices", "nominal", units)
    for label, units in _label_units(data.annotations, data.labels).items():
        _add_agreement(result, f"label: {label}", "annotations", "nominal", units)
    for question, units in _pairwise_units(data.judgements).items():
        _add_agreement(result, f"pairwise: {question}", "pairwise", "nominal", units)
    return result


Units = dict[object, dict[str, object]]  # unit -> rater -> value


def _add_agreement(result: dict[str, AgreementStats], name: str, source: str, level: Level, units: Units) -> None:
    pairable = [list(by_rater.values()) for by_rater in units.values() if len(by_rater) >= 2]
    if not pairable:
        return
    raters = {rater for by_rater in units.values() if len(by_rater) >= 2 for rater in by_rater}
    result[name] = {
        "source": source,
        "level": level,
        "krippendorff_alpha": krippendorff_alpha(pairable, level),  # type: ignore[arg-type]
        "units": len(pairable),
        "raters": len(raters),
        "values": sum(len(values) for values in pairable),
    }


def _rating_units(ratings: Iterable[Rating]) -> dict[str, Units]:
    units: dict[str, Units] = defaultdict(lambda: defaultdict(dict))
    for r in ratings:
        units[r.question][r.conversation][r.rater] = r.value
    return units


def _choice_units(choices: Iterable[Choice]) -> dict[str, Units]:
    units: dict[str, Units] = defaultdict(lambda: defaultdict(dict))
    for c in choices:
        units[c.question][c.conversation][c.rater] = c.value
    return units


def _label_units(annotations: Sequence[Annotation], offered: Sequence[str]) -> dict[str, Units]:
    latest = _latest_annotations(annotations)
    units: dict[str, Units] = {}
    for label in _all_labels(latest, offered):
        by_message: Units = defaultdict(dict)
        for a in latest:
            by_message[(a.conversation, a.turn)][a.rater] = label in a.labels
        units[label] = by_message
    return units


def _pairwise_units(judgements: Iterable[Judgement]) -> dict[str, Units]:
    units: dict[str, Units] = defaultdict(lambda: defaultdict(dict))
    for j in judgements:
        if j.conversation_a is None or j.conversation_b is None or j.check:
            continue
        preferred = {"a": j.conversation_a, "b": j.conversation_b}.get(j.winner, "tie")
        units[j.question][frozenset((j.conversation_a, j.conversation_b))][j.rater] = preferred
    return units


# --- pairwise -------------------------------------------------------------------------------------------------------


def pairwise_summary(judgements: Sequence[Judgement], *, alpha: float = DEFAULT_ALPHA) -> list[PairwiseStats]:
    """One entry per question and pair of bots (``a`` before ``b`` alphabetically, whatever side each was shown on).

    ``win_rate_a`` and ``p_value`` leave ties out: the p-value is the exact two-sided binomial test of ``wins_a`` out
    of ``wins_a + wins_b`` against 0.5; ``p_holm`` adjusts it over all pairs of the same question (Holm).
    """
    counts: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(dict)
    for j in judgements:
        pair, winner = _oriented(j)
        tally = counts[j.question].setdefault(pair, [0, 0, 0])
        tally[{"a": 0, "b": 1, "tie": 2}[winner]] += 1
    entries: list[PairwiseStats] = []
    for question, pairs in counts.items():
        rows = [_pairwise_entry(question, pair, *pairs[pair]) for pair in sorted(pairs)]
        for row, adjusted in zip(rows, holm([row["p_value"] for row in rows]), strict=True):
            row["p_holm"] = adjusted
            row["significant"] = adjusted is not None and adjusted < alpha
        entries.extend(rows)
    return entries


def _oriented(j: Judgement) -> tuple[tuple[str, str], str]:
    """The pair in alphabetical order and the winner as seen in that order."""
    if j.bot_a <= j.bot_b:
        return (j.bot_a, j.bot_b), j.winner
    return (j.bot_b, j.bot_a), {"a": "b", "b": "a", "tie": "tie"}[j.winner]


def _pairwise_entry(question: str, pair: tuple[str, str], wins_a: int, wins_b: int, ties: int) -> PairwiseStats:
    decisive = wins_a + wins_b
    interval = wilson_interval(wins_a, decisive)
    return {
        "question": question,
        "a": pair[0],
        "b": pair[1],
        "n": decisive + ties,
        "wins_a": wins_a,
        "wins_b": wins_b,
        "ties": ties,
        "win_rate_a": wins_a / decisive if decisive else None,
        "ci95": list(interval) if interval else None,
        "p_value": binomial_test(wins_a, decisive) if decisive else None,
        "p_holm": None,
        "significant": False,
    }


# --- Bradley-Terry --------------------------------------------------------------------------------------------------


def bradley_terry_summary(
    judgements: Sequence[Judgement], *, draws: int, seed: int, l2: float = bt.DEFAULT_L2
) -> dict[str, dict[str, BradleyTerryStats]]:
    """``bradley_terry[question][bot]``: Elo-scale score, bootstrap interval and rank, best first.

    The interval resamples *judgements* with replacement (the same number as observed) and refits the model on each
    replicate; it is the 2.5th-97.5th percentile of each bot's replicated score. Ties count half a win to each side.
    ``rank`` is 1 + the number of bots whose interval lies wholly above this bot's. Questions with judgements of
    fewer than two bots are left out.
    """
    by_question: dict[str, list[Judgement]] = defaultdict(list)
    for j in judgements:
        by_question[j.question].append(j)
    return {
        question: _bradley_terry_question(rows, draws, derived_rng(seed, "bradley_terry", question), l2)
        for question, rows in by_question.items()
    }


def _bradley_terry_question(
    rows: list[Judgement], draws: int, rng: np.random.Generator, l2: float
) -> dict[str, BradleyTerryStats]:
    bots = sorted({j.bot_a for j in rows} | {j.bot_b for j in rows})
    results = [(j.bot_a, j.bot_b, j.winner) for j in rows]
    scores = bt.to_elo(bt.fit_strengths(bt.win_matrix(bots, results), l2=l2))
    replicates = bt.to_elo(bt.fit_strengths(_resampled_win_matrices(bots, results, draws, rng), l2=l2))
    intervals = [percentile_interval(replicates[:, i]) for i in range(len(bots))]
    taking_part = {bot: sum(bot in (a, b) for a, b, _ in results) for bot in bots}
    stats: dict[str, BradleyTerryStats] = {}
    for i in sorted(range(len(bots)), key=lambda i: (-scores[i], bots[i])):
        above = sum(other[0] > intervals[i][1] for other in intervals)
        stats[bots[i]] = {
            "score": float(scores[i]),
            "ci95": list(intervals[i]),
            "rank": 1 + above,
            "n": taking_part[bots[i]],
        }
    return stats


def _resampled_win_matrices(
    bots: list[str], results: list[tuple[str, str, str]], draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Win matrices of ``draws`` bootstrap resamples of the judgements.

    Judgements with the same bots, sides and winner are interchangeable, so drawing n judgements with replacement is
    drawing the counts of those kinds from a multinomial with their observed shares: the same distribution, at the
    cost of a few kinds instead of n judgements per replicate.
    """
    kinds = sorted(set(results))
    observed = np.array([results.count(kind) for kind in kinds], dtype=float)
    counts = rng.multinomial(len(results), observed / observed.sum(), size=draws)
    per_kind = np.stack([bt.win_matrix(bots, [kind]) for kind in kinds])  # (kinds, k, k)
    return np.einsum("dk,kij->dij", counts, per_kind)


# --- multiple-choice questions ---------------------------------------------------------------------------------------


def choices_summary(
    choices: Sequence[Choice], offered: Mapping[str, Sequence[str]] | None = None
) -> dict[str, dict[str, ChoiceStats]]:
    """``choices[question][bot]``: the share of that bot's answers choosing each option, with Wilson intervals.

    ``n`` counts (conversation, rater) answers: a rater who answered the same question about a conversation twice
    counts once, with the last answer. Options offered but never chosen get share 0 (``offered``: question ->
    options in the study's order); options found only in the data follow, alphabetically. The intervals treat
    answers as independent (one answer per conversation in a chat study). Questions and bots appear in the order
    they first appear in the data.
    """
    offered = offered or {}
    latest = list({(c.question, c.conversation, c.rater): c for c in choices}.values())
    grouped: dict[str, dict[str, list[Choice]]] = defaultdict(lambda: defaultdict(list))
    for c in latest:
        grouped[c.question][c.bot].append(c)
    result: dict[str, dict[str, ChoiceStats]] = {}
    for question, bots in grouped.items():
        options = list(dict.fromkeys(offered.get(question, ())))
        options += sorted({c.value for rows in bots.values() for c in rows} - set(options))
        result[question] = {
            bot: {
                "n": len(rows),
                "conversations": len({c.conversation for c in rows}),
                "options": {option: _share(sum(c.value == option for c in rows), len(rows)) for option in options},
            }
            for bot, rows in bots.items()
        }
    return result


# --- rater consistency on repeated check pairs ---------------------------------------------------------------------


def consistency_summary(judgements: Sequence[Judgement]) -> dict[str, ConsistencyStats]:
    """``consistency[question]``: how often raters gave the same answer when a pair was shown to them again.

    A check judgement (``check`` True) is matched with the same rater's earlier ordinary judgement of the same two
    conversations and question (the last one); it is consistent when the same conversation is preferred (or both
    are ties), whatever side each was shown on. Checks without conversations or without an original are counted in
    ``unmatched``. ``share`` has a Wilson interval; ``raters`` gives each rater's checks and consistent answers.
    """
    originals: dict[tuple[str, str, frozenset[str]], str] = {}
    for j in judgements:
        if not j.check and j.conversation_a is not None and j.conversation_b is not None:
            originals[(j.rater, j.question, frozenset((j.conversation_a, j.conversation_b)))] = _preferred(j)
    result: dict[str, ConsistencyStats] = {}
    for j in judgements:
        if not j.check:
            continue
        stats = result.setdefault(
            j.question, {"checks": 0, "consistent": 0, "unmatched": 0, "share": None, "ci95": None, "raters": {}}
        )
        key = (j.rater, j.question, frozenset((j.conversation_a or "", j.conversation_b or "")))
        if j.conversation_a is None or j.conversation_b is None or key not in originals:
            stats["unmatched"] += 1
            continue
        same = originals[key] == _preferred(j)
        stats["checks"] += 1
        stats["consistent"] += same
        rater = stats["raters"].setdefault(j.rater, {"checks": 0, "consistent": 0})
        rater["checks"] += 1
        rater["consistent"] += same
    for stats in result.values():
        share = _share(stats["consistent"], stats["checks"])
        stats["share"], stats["ci95"] = share["share"], share["ci95"]
    return result


def _preferred(j: Judgement) -> str:
    return {"a": j.conversation_a, "b": j.conversation_b}.get(j.winner) or "tie"


# --- annotations and success ----------------------------------------------------------------------------------------


def annotations_summary(
    annotations: Sequence[Annotation], offered: Sequence[str] = ()
) -> dict[str, dict[str, ShareStats]]:
    """``annotations[label][bot]``: the share of that bot's annotated messages with the label, Wilson interval.

    ``n`` counts (message, rater) pairs: each rater's annotation of a message once (the last, if a rater annotated a
    message twice). Labels offered but never ticked get share 0. The interval treats annotations as independent.
    """
    latest = _latest_annotations(annotations)
    per_bot: dict[str, int] = defaultdict(int)
    for a in latest:
        per_bot[a.bot] += 1
    result: dict[str, dict[str, ShareStats]] = {}
    for label in _all_labels(latest, offered):
        ticked: dict[str, int] = defaultdict(int)
        for a in latest:
            ticked[a.bot] += label in a.labels
        result[label] = {bot: _share(ticked[bot], n) for bot, n in per_bot.items()}
    return result


def _latest_annotations(annotations: Sequence[Annotation]) -> list[Annotation]:
    latest = {(a.conversation, a.turn, a.rater): a for a in annotations}
    return list(latest.values())


def _all_labels(annotations: Iterable[Annotation], offered: Sequence[str]) -> list[str]:
    labels = list(dict.fromkeys(offered))
    seen = set(labels)
    for label in sorted({label for a in annotations for label in a.labels} - seen):
        labels.append(label)
    return labels


def _share(count: int, n: int) -> ShareStats:
    interval = wilson_interval(count, n)
    return {
        "n": n,
        "count": count,
        "share": count / n if n else None,
        "ci95": list(interval) if interval else None,
    }


def success_summary(outcomes: Sequence[Outcome]) -> dict[str, SuccessStats]:
    """``success[bot]``: the share of conversations whose scenario check passed, Wilson interval; per scenario too.

    A conversation with several outcomes counts once, with the last.
    """
    latest = list({o.conversation: o for o in outcomes}.values())
    by_bot: dict[str, list[Outcome]] = defaultdict(list)
    for o in latest:
        by_bot[o.bot].append(o)
    result: dict[str, SuccessStats] = {}
    for bot in sorted(by_bot):
        rows = by_bot[bot]
        scenarios: dict[str, list[Outcome]] = defaultdict(list)
        for o in rows:
            scenarios[o.scenario].append(o)
        stats: SuccessStats = {
            **_share(sum(o.success for o in rows), len(rows)),  # type: ignore[typeddict-item]
            "scenarios": {s: _share(sum(o.success for o in v), len(v)) for s, v in sorted(scenarios.items())},
        }
        result[bot] = stats
    return result


# --- verdicts -------------------------------------------------------------------------------------------------------


def verdicts(
    ratings: Sequence[Rating],
    pairwise: Sequence[PairwiseStats],
    *,
    alpha: float = DEFAULT_ALPHA,
    win_rate: float = DEFAULT_WIN_RATE,
    difference: float = DEFAULT_DIFFERENCE,
    power: float = DEFAULT_POWER,
) -> Verdicts:
    """The planner's verdict on each pair of bots and each rating question: can this study tell them apart?"""
    pairs_per_question: dict[str, int] = defaultdict(int)
    for entry in pairwise:
        pairs_per_question[entry["question"]] += 1
    pairwise_verdicts = [
        {
            "question": e["question"],
            "a": e["a"],
            "b": e["b"],
            **pairwise_verdict(
                e["a"],
                e["b"],
                e["wins_a"],
                e["wins_b"],
                e["p_holm"],
                alpha=alpha,
                win_rate=win_rate,
                power=power,
                comparisons=pairs_per_question[e["question"]],
            ),
        }
        for e in pairwise
    ]
    return {
        "win_rate": win_rate,
        "difference": difference,
        "power": power,
        "pairwise": pairwise_verdicts,  # type: ignore[typeddict-item]
        "ratings": _ratings_verdicts(ratings, alpha=alpha, difference=difference, power=power),  # type: ignore[typeddict-item]
    }


def _ratings_verdicts(ratings: Sequence[Rating], *, alpha: float, difference: float, power: float) -> list[dict]:
    by_question: dict[str, dict[str, list[Rating]]] = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        by_question[r.question][r.bot].append(r)
    result = []
    for question, bots in by_question.items():
        conversations = {bot: len({r.conversation for r in rows}) for bot, rows in bots.items()}
        verdict = ratings_verdict(
            question, conversations, _pooled_sd(bots.values()), difference=difference, alpha=alpha, power=power
        )
        result.append({"question": question, **verdict})
    return result


def _pooled_sd(groups: Iterable[list[Rating]]) -> float | None:
    """The within-bot standard deviation of single ratings, pooled over bots (None without any spread to pool)."""
    squares, dof = 0.0, 0
    for rows in groups:
        if len(rows) >= 2:
            values = [r.value for r in rows]
            squares += statistics.variance(values) * (len(values) - 1)
            dof += len(values) - 1
    return (squares / dof) ** 0.5 if dof else None
