"""``analyze`` on small studies worked by hand, against scipy's binomtest, statsmodels and the krippendorff package."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from studies.analysis import (
    AnalysisError,
    Annotation,
    Exclusion,
    Judgement,
    Outcome,
    Rating,
    StudyData,
    analyze,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportion_confint

REPO = Path(__file__).resolve().parents[2]
Q = "Helpful?"
WHO = "Who would you rather talk to?"


def ratings() -> list[Rating]:
    return [
        Rating("c1", "A", "r1", Q, 4),
        Rating("c1", "A", "r2", Q, 5),
        Rating("c2", "A", "r1", Q, 3),
        Rating("c3", "B", "r1", Q, 2),
        Rating("c3", "B", "r2", Q, 2),
        Rating("c4", "B", "r2", Q, 1),
    ]


def judgements() -> list[Judgement]:
    rows = [("A", "B", "a")] * 8 + [("A", "B", "b")] * 2 + [("B", "A", "tie")] * 3
    rows += [("C", "A", "a")] * 1 + [("C", "A", "b")] * 6  # shown the other way round: A won 6 of 7
    rows += [("B", "C", "a")] * 5
    return [Judgement(f"r{i % 4}", WHO, a, b, w) for i, (a, b, w) in enumerate(rows)]  # type: ignore[arg-type]


def annotations() -> list[Annotation]:
    return [
        Annotation("c1", "A", 0, "r1", frozenset({"wrong answer", "rude"})),
        Annotation("c1", "A", 0, "r2", frozenset({"wrong answer"})),
        Annotation("c1", "A", 1, "r1", frozenset()),
        Annotation("c3", "B", 0, "r1", frozenset({"rude"})),
        Annotation("c3", "B", 0, "r1", frozenset()),  # the same rater again: the last annotation counts, once
    ]


def outcomes() -> list[Outcome]:
    return [Outcome("c1", "A", "s1", True), Outcome("c2", "A", "s1", False), Outcome("c3", "B", "s2", True)]


def study(**changes) -> StudyData:
    parts = dict(ratings=ratings(), judgements=judgements(), annotations=annotations(), outcomes=outcomes())
    parts.update(changes)
    return StudyData.of(labels=["wrong answer", "rude", "all good"], **parts)


@pytest.fixture(scope="module")
def result():
    return analyze(study(), seed=11, draws=4000)


def test_result_has_every_key_of_issue_16_and_is_plain_json(result):
    assert set(result) >= {
        "ratings",
        "agreement",
        "pairwise",
        "bradley_terry",
        "annotations",
        "success",
        "acceptability",
    }
    assert set(result["ratings"][Q]["A"]) >= {"n", "mean", "ci95"}
    assert set(result["agreement"][Q]) >= {"krippendorff_alpha", "level", "units"}
    assert set(result["pairwise"][0]) >= {
        "question",
        "a",
        "b",
        "wins_a",
        "wins_b",
        "ties",
        "win_rate_a",
        "p_value",
        "p_holm",
    }
    assert set(result["bradley_terry"][WHO]["A"]) >= {"score", "ci95", "rank"}
    assert set(result["annotations"]["rude"]["A"]) >= {"n", "share", "ci95"}
    assert json.loads(json.dumps(result, allow_nan=False)) == json.loads(json.dumps(result))
    assert result["meta"]["seed"] == 11 and result["meta"]["draws"] == 4000


def test_ratings_worked_by_hand(result):
    a, b = result["ratings"][Q]["A"], result["ratings"][Q]["B"]
    assert (a["n"], a["conversations"], a["raters"], a["mean"], a["sd"]) == (3, 2, 2, 4.0, 1.0)
    assert (b["n"], b["mean"]) == (3, pytest.approx(5 / 3))
    # Conversations resampled with their ratings: A's replicates are only 4.5 (c1 twice), 4 (both), 3 (c2 twice).
    assert a["ci95"] == [3.0, 4.5]
    assert b["ci95"] == [1.0, 2.0]


def test_a_single_conversation_has_no_interval():
    one = analyze(StudyData.of(ratings=[Rating("c1", "A", "r1", Q, 4), Rating("c1", "A", "r2", Q, 2)]), seed=1)
    assert one["ratings"][Q]["A"]["ci95"] is None and one["ratings"][Q]["A"]["mean"] == 3


def test_pairwise_worked_by_hand_and_against_scipy_and_statsmodels(result):
    entries = {(e["a"], e["b"]): e for e in result["pairwise"]}
    assert set(entries) == {("A", "B"), ("A", "C"), ("B", "C")}
    ab, ac, bc = entries["A", "B"], entries["A", "C"], entries["B", "C"]
    assert (ab["wins_a"], ab["wins_b"], ab["ties"], ab["n"], ab["win_rate_a"]) == (8, 2, 3, 13, 0.8)
    assert (ac["wins_a"], ac["wins_b"], ac["ties"]) == (6, 1, 0)
    assert (bc["wins_a"], bc["wins_b"]) == (5, 0)
    for entry in (ab, ac, bc):
        assert entry["p_value"] == pytest.approx(binomtest(entry["wins_a"], entry["wins_a"] + entry["wins_b"]).pvalue)
    expected = multipletests([ab["p_value"], ac["p_value"], bc["p_value"]], method="holm")[1]
    assert [ab["p_holm"], ac["p_holm"], bc["p_holm"]] == pytest.approx(list(expected))
    assert ab["ci95"] == pytest.approx(list(proportion_confint(8, 10, method="wilson")))
    assert not any(e["significant"] for e in entries.values())


def test_holm_is_applied_per_question():
    rows = judgements() + [Judgement("r1", "Solved it?", "A", "B", "a")] * 9
    entries = analyze(study(judgements=rows), seed=1, draws=50)["pairwise"]
    solved = [e for e in entries if e["question"] == "Solved it?"]
    assert len(solved) == 1 and solved[0]["p_holm"] == solved[0]["p_value"] == pytest.approx(binomtest(9, 9).pvalue)


def test_bradley_terry_orders_bots_and_centres_scores(result):
    bt = result["bradley_terry"][WHO]
    assert list(bt) == ["A", "B", "C"]
    assert sum(s["score"] for s in bt.values()) / 3 == pytest.approx(1000)
    assert bt["A"]["n"] == 20 and bt["B"]["n"] == 18 and bt["C"]["n"] == 12
    for stats in bt.values():
        assert stats["ci95"][0] <= stats["score"] <= stats["ci95"][1]
        assert stats["rank"] >= 1


def test_agreement_only_where_two_raters_rated_one_item(result):
    agreement = result["agreement"][Q]
    assert (agreement["level"], agreement["units"], agreement["raters"], agreement["source"]) == (
        "ordinal",
        2,
        2,
        "ratings",
    )
    # c1: r1 4, r2 5; c3: r1 2, r2 2 (c2 and c4 have one rating each and are not pairable)
    reference = krippendorff.alpha(reliability_data=[[4, 2], [5, 2]], level_of_measurement="ordinal")
    assert agreement["krippendorff_alpha"] == pytest.approx(reference)
    label = result["agreement"]["label: wrong answer"]
    assert (label["level"], label["units"]) == ("nominal", 1)
    assert label["krippendorff_alpha"] is None  # both raters ticked it: no variation to agree on
    assert "pairwise: " + WHO not in result["agreement"]  # judgements without conversation ids


def test_agreement_level_can_be_nominal_and_is_absent_without_pairable_items():
    data = study(ratings=[Rating("c1", "A", "r1", Q, 1), Rating("c1", "A", "r2", Q, 3), Rating("c2", "A", "r1", Q, 3)])
    nominal = analyze(data, seed=1, draws=10, levels={Q: "nominal"})
    assert nominal["agreement"][Q]["level"] == "nominal"
    single = analyze(study(ratings=[Rating("c1", "A", "r1", Q, 1), Rating("c2", "A", "r2", Q, 3)]), seed=1, draws=10)
    assert Q not in single["agreement"]
    with pytest.raises(AnalysisError):
        analyze(data, levels={Q: "cardinal"})  # type: ignore[dict-item]


def test_pairwise_agreement_over_repeated_pairs_of_conversations():
    rows = [
        Judgement("r1", WHO, "A", "B", "a", "c1", "c2"),
        Judgement("r2", WHO, "B", "A", "b", "c2", "c1"),  # the same pair shown the other way: the same preference
        Judgement("r1", WHO, "A", "B", "b", "c3", "c4"),
        Judgement("r2", WHO, "A", "B", "b", "c3", "c4"),
        Judgement("r3", WHO, "A", "B", "a", "c3", "c4"),
    ]
    agreement = analyze(study(judgements=rows), seed=1, draws=10)["agreement"][f"pairwise: {WHO}"]
    assert (agreement["units"], agreement["raters"]) == (2, 3)
    # Raters x units, the preferred conversation coded c1 -> 0, c3 -> 1, c4 -> 2 (r3 judged only the second pair).
    reference = krippendorff.alpha(reliability_data=[[0, 2], [0, 2], [np.nan, 1]], level_of_measurement="nominal")
    assert agreement["krippendorff_alpha"] == pytest.approx(reference)


def test_annotations_worked_by_hand(result):
    shares = result["annotations"]
    assert list(shares) == ["wrong answer", "rude", "all good"]
    assert (shares["wrong answer"]["A"]["n"], shares["wrong answer"]["A"]["count"]) == (3, 2)
    assert shares["rude"]["A"]["share"] == pytest.approx(1 / 3)
    assert (shares["rude"]["B"]["n"], shares["rude"]["B"]["count"]) == (1, 0)  # the rater's last annotation
    assert shares["all good"]["A"]["share"] == 0
    assert shares["wrong answer"]["A"]["ci95"] == pytest.approx(list(proportion_confint(2, 3, method="wilson")))


def test_success_worked_by_hand(result):
    success = result["success"]
    assert (success["A"]["n"], success["A"]["count"], success["A"]["share"]) == (2, 1, 0.5)
    assert success["A"]["ci95"] == pytest.approx(list(proportion_confint(1, 2, method="wilson")))
    assert success["B"]["scenarios"]["s2"]["share"] == 1.0


def test_exclusions_apply_before_every_number():
    exclusions = [Exclusion("too fast", conversation="c2"), Exclusion("repeated", rater="r3")]
    applied = analyze(study(exclusions=exclusions), seed=3, draws=100)
    assert applied["ratings"][Q]["A"]["n"] == 2 and applied["ratings"][Q]["A"]["mean"] == 4.5
    assert "A" in applied["success"] and applied["success"]["A"]["n"] == 1
    assert sum(e["n"] for e in applied["pairwise"]) == len(judgements()) - sum(j.rater == "r3" for j in judgements())
    assert applied["acceptability"] == {
        "applied": True,
        "checks": {"too fast": {"conversations": 1, "raters": 0}, "repeated": {"conversations": 0, "raters": 1}},
        "conversations": 1,
        "raters": 1,
        "records": {"ratings": 1, "choices": 0, "judgements": 6, "annotations": 0, "outcomes": 1},
    }
    assert applied["meta"]["counts"]["judgements"] == len(judgements()) - 6
    included = analyze(study(exclusions=exclusions), seed=3, draws=100, include_excluded=True)
    assert included["ratings"][Q]["A"]["n"] == 3 and included["acceptability"]["applied"] is False
    assert included["acceptability"]["records"] == applied["acceptability"]["records"]


def test_excluded_conversation_removes_the_judgements_it_was_shown_in():
    rows = [Judgement("r1", WHO, "A", "B", "a", "c1", "c2"), Judgement("r1", WHO, "A", "B", "b", "c5", "c6")]
    result = analyze(study(judgements=rows, exclusions=[Exclusion("pasted", conversation="c2")]), seed=1, draws=10)
    assert [(e["wins_a"], e["wins_b"]) for e in result["pairwise"]] == [(0, 1)]


def test_a_seed_reproduces_every_interval_and_other_bots_do_not_move_them():
    first = analyze(study(), seed=5, draws=500)
    assert analyze(study(), seed=5, draws=500) == first
    assert analyze(study(), seed=6, draws=500)["bradley_terry"] != first["bradley_terry"]
    more = ratings() + [Rating("c9", "Z", "r1", Q, 5), Rating("c8", "Z", "r1", Q, 4)]
    assert analyze(study(ratings=more), seed=5, draws=500)["ratings"][Q]["A"] == first["ratings"][Q]["A"]


def test_without_a_seed_the_one_drawn_is_reported_and_reproduces_the_run():
    first = analyze(study(), draws=300)
    assert analyze(study(), seed=first["meta"]["seed"], draws=300) == first


def test_verdicts_say_when_the_study_is_too_small(result):
    verdicts = {(v["a"], v["b"]): v for v in result["verdicts"]["pairwise"]}
    assert verdicts["A", "B"]["status"] == "too_small"
    assert verdicts["A", "B"]["message"].startswith("Still too small to tell A and B apart")
    assert result["verdicts"]["ratings"][0]["status"] == "too_small"


def test_empty_study_gives_empty_sections():
    result = analyze(StudyData(), seed=1)
    for key in ("ratings", "agreement", "bradley_terry", "annotations", "success"):
        assert result[key] == {}
    assert result["pairwise"] == [] and result["acceptability"]["checks"] == {}


def test_draws_must_be_positive():
    with pytest.raises(AnalysisError):
        analyze(study(), draws=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ABCD"), st.sampled_from("ABCD"), st.sampled_from(["a", "b", "tie"])).filter(
            lambda t: t[0] != t[1]
        ),
        min_size=1,
        max_size=40,
    )
)
def test_pairwise_counts_add_up_and_match_binomtest(rows):
    data = StudyData.of(judgements=[Judgement("r", WHO, a, b, w) for a, b, w in rows])  # type: ignore[arg-type]
    result = analyze(data, seed=0, draws=50)
    assert sum(e["n"] for e in result["pairwise"]) == len(rows)
    for e in result["pairwise"]:
        assert e["a"] < e["b"] and e["wins_a"] + e["wins_b"] + e["ties"] == e["n"]
        if e["wins_a"] + e["wins_b"]:
            assert e["p_value"] == pytest.approx(binomtest(e["wins_a"], e["wins_a"] + e["wins_b"]).pvalue)
            assert e["p_holm"] >= e["p_value"] - 1e-15
    assert set(result["bradley_terry"][WHO]) == {x for a, b, _ in rows for x in (a, b)}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(1, 5)), min_size=1, max_size=30))
def test_rating_intervals_lie_within_the_ratings(rows):
    data = StudyData.of(ratings=[Rating(f"c{c}", "A", f"r{i}", Q, v) for i, (c, v) in enumerate(rows)])
    stats = analyze(data, seed=0, draws=200)["ratings"][Q]["A"]
    values = [v for _, v in rows]
    assert stats["n"] == len(rows) and stats["mean"] == pytest.approx(sum(values) / len(values))
    if stats["ci95"] is not None:
        assert min(values) - 1e-9 <= stats["ci95"][0] <= stats["ci95"][1] <= max(values) + 1e-9


def test_the_library_imports_no_django():
    code = "import sys, studies.analysis; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO / "django_app", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for path in (REPO / "django_app" / "studies" / "analysis").glob("*.py"):
        assert "import django" not in path.read_text() and "from django" not in path.read_text(), path
