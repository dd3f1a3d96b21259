"""The shape of :func:`~studies.analysis.analyze`'s result: plain dicts, lists, strings, numbers and None (JSON-ready).

Intervals are ``[low, high]`` lists; a number that cannot be computed (no data, no variation) is None.
"""

from __future__ import annotations

from typing import TypedDict


class RatingStats(TypedDict):
    n: int  #: ratings
    conversations: int
    raters: int
    mean: float
    sd: float | None  #: of single ratings (n - 1 in the denominator); None with one rating
    ci95: list[float] | None  #: bootstrap percentile interval over conversations; None with one conversation


class AgreementStats(TypedDict):
    source: str  #: "ratings", "choices", "annotations" or "pairwise"
    level: str  #: "ordinal", "nominal", ...
    krippendorff_alpha: float | None
    units: int  #: items (conversations, messages, pairs) with two or more raters
    raters: int
    values: int  #: pairable values (ratings of those units)


class PairwiseStats(TypedDict):
    question: str
    a: str
    b: str
    n: int  #: judgements, ties included
    wins_a: int
    wins_b: int
    ties: int
    win_rate_a: float | None  #: wins_a / (wins_a + wins_b)
    ci95: list[float] | None  #: Wilson interval of win_rate_a
    p_value: float | None  #: exact two-sided binomial test against 0.5, ties excluded
    p_holm: float | None  #: Holm-adjusted over the pairs of this question
    significant: bool  #: p_holm below the analysis's alpha


class BradleyTerryStats(TypedDict):
    score: float
    ci95: list[float]
    rank: int
    n: int  #: judgements this bot took part in


class ShareStats(TypedDict):
    n: int
    count: int
    share: float | None
    ci95: list[float] | None  #: Wilson interval


class ChoiceStats(TypedDict):
    n: int  #: answers (one per conversation and rater)
    conversations: int
    options: dict[str, ShareStats]  #: option -> the share of answers choosing it, Wilson interval


class RaterConsistency(TypedDict):
    checks: int
    consistent: int


class ConsistencyStats(TypedDict):
    checks: int  #: check judgements matched with the rater's earlier judgement of the same pair
    consistent: int  #: of them, the same conversation preferred (or a tie both times)
    unmatched: int  #: check judgements without conversations or an original
    share: float | None
    ci95: list[float] | None  #: Wilson interval
    raters: dict[str, RaterConsistency]


class SuccessStats(ShareStats):
    scenarios: dict[str, ShareStats]


class CheckCounts(TypedDict):
    conversations: int
    raters: int


class AcceptabilitySummary(TypedDict):
    applied: bool  #: False when the analysis was asked to include excluded data
    checks: dict[str, CheckCounts]
    conversations: int  #: distinct conversations excluded by any check
    raters: int  #: distinct raters excluded by any check
    records: dict[str, int]  #: ratings, choices, judgements, annotations, outcomes from them (removed when applied)


class Verdict(TypedDict):
    status: str
    message: str


class PairwiseVerdict(Verdict):
    question: str
    a: str
    b: str
    decisive_judgements: int
    needed: int


class RatingsVerdict(Verdict):
    question: str
    smallest_bot_conversations: int
    needed: int | None
    sd: float | None


class Verdicts(TypedDict):
    win_rate: float
    difference: float
    power: float
    pairwise: list[PairwiseVerdict]
    ratings: list[RatingsVerdict]


class Meta(TypedDict):
    seed: int
    draws: int
    alpha: float
    include_excluded: bool
    counts: dict[str, int]
    bots: list[str]


class AnalysisResult(TypedDict):
    meta: Meta
    ratings: dict[str, dict[str, RatingStats]]
    choices: dict[str, dict[str, ChoiceStats]]
    agreement: dict[str, AgreementStats]
    pairwise: list[PairwiseStats]
    bradley_terry: dict[str, dict[str, BradleyTerryStats]]
    consistency: dict[str, ConsistencyStats]
    annotations: dict[str, dict[str, ShareStats]]
    success: dict[str, SuccessStats]
    acceptability: AcceptabilitySummary
    verdicts: Verdicts
