"""Multiple-choice questions, rater consistency on repeated check pairs, and the HTML report (``studies.analysis``).

Shares are checked against statsmodels' Wilson interval, nominal agreement against the ``krippendorff`` package.
"""

from __future__ import annotations

import json
import random
import re

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint
from studies.analysis import (
    Choice,
    Judgement,
    StudyData,
    analyze,
    choices_chart,
    choices_summary,
    cli,
    consistency_summary,
    parse_choices,
    parse_pairwise,
    render_html,
    render_markdown,
)
from studies.analysis.errors import DataError


def choice(conversation, bot, rater, value, question="solved"):
    return Choice(conversation, bot, rater, question, value)


def test_shares_per_bot_with_wilson_intervals_as_statsmodels():
    rows = [choice(f"a{i}", "alpha", f"r{i}", "Yes" if i < 7 else "No") for i in range(10)]
    rows += [choice(f"b{i}", "beta", f"s{i}", ["Yes", "No", "Partly"][i % 3]) for i in range(9)]
    result = choices_summary(rows, {"solved": ["Yes", "No", "Partly", "Not asked"]})
    alpha = result["solved"]["alpha"]
    assert (alpha["n"], alpha["conversations"]) == (10, 10)
    assert list(alpha["options"]) == ["Yes", "No", "Partly", "Not asked"]  # the study's order, unchosen ones too
    for bot, stats in result["solved"].items():
        for option, share in stats["options"].items():
            assert share["n"] == stats["n"]
            assert share["share"] == pytest.approx(share["count"] / stats["n"])
            low, high = proportion_confint(share["count"], stats["n"], alpha=0.05, method="wilson")
            assert share["ci95"] == pytest.approx([low, high], abs=1e-12), (bot, option)
    assert alpha["options"]["Yes"]["count"] == 7 and alpha["options"]["Not asked"]["count"] == 0
    assert result["solved"]["beta"]["options"]["Partly"]["count"] == 3


def test_a_raters_repeated_answer_counts_once_and_unknown_options_follow_alphabetically():
    rows = [choice("c1", "alpha", "r1", "No"), choice("c1", "alpha", "r1", "Yes"), choice("c2", "alpha", "r1", "Zzz")]
    result = choices_summary(rows, {"solved": ["Yes", "No"]})
    stats = result["solved"]["alpha"]
    assert stats["n"] == 2 and stats["options"]["Yes"]["count"] == 1 and stats["options"]["No"]["count"] == 0
    assert list(stats["options"]) == ["Yes", "No", "Zzz"]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    units=st.integers(2, 15),
    raters=st.integers(2, 4),
    options=st.integers(2, 4),
)
def test_nominal_agreement_of_a_choice_question_as_the_krippendorff_package(seed, units, raters, options):
    rng = random.Random(seed)
    names = ["Yes", "No", "Partly", "Unsure"][:options]
    rows, matrix = [], np.full((raters, units), np.nan)
    for u in range(units):
        for r in range(raters):
            if rng.random() < 0.8 or r < 2:  # every unit has at least two raters
                value = rng.randrange(options)
                matrix[r, u] = value
                rows.append(choice(f"c{u}", "alpha", f"r{r}", names[value]))
    result = analyze(StudyData.of(choices=rows), draws=10, seed=1)
    agreement = result["agreement"].get("solved")
    if len({c.value for c in rows}) < 2:
        assert agreement is None or agreement["krippendorff_alpha"] is None
        return
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert agreement["level"] == "nominal" and agreement["source"] == "choices"
    assert agreement["units"] == units
    assert agreement["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)


def test_choices_are_excluded_with_their_conversation_and_counted():
    rows = [choice("c1", "alpha", "r1", "Yes"), choice("c2", "alpha", "r2", "No")]
    from studies.analysis import Exclusion

    result = analyze(StudyData.of(choices=rows, exclusions=[Exclusion("too_fast", "c2")]), draws=10, seed=1)
    assert result["choices"]["solved"]["alpha"]["n"] == 1
    assert result["acceptability"]["records"]["choices"] == 1
    assert result["meta"]["counts"]["choices"] == 1


def judgement(rater, a, b, winner, ca, cb, check=False, question="engaging"):
    return Judgement(rater, question, a, b, winner, ca, cb, check)


def test_consistency_on_check_pairs_compares_the_conversation_preferred_whatever_the_side():
    judgements = [
        judgement("r1", "alpha", "beta", "a", "x1", "y1"),
        judgement("r1", "beta", "alpha", "b", "y1", "x1", check=True),  # sides swapped, x1 again: consistent
        judgement("r1", "alpha", "beta", "tie", "x2", "y2"),
        judgement("r1", "beta", "alpha", "a", "y2", "x2", check=True),  # was a tie: changed
        judgement("r2", "alpha", "beta", "b", "x3", "y3"),
        judgement("r2", "beta", "alpha", "a", "y3", "x3", check=True),  # y3 again: consistent
        judgement("r3", "alpha", "beta", "a", "x4", "y4", check=True),  # no original: unmatched
    ]
    result = consistency_summary(judgements)["engaging"]
    assert (result["checks"], result["consistent"], result["unmatched"]) == (3, 2, 1)
    assert result["share"] == pytest.approx(2 / 3)
    low, high = proportion_confint(2, 3, method="wilson")
    assert result["ci95"] == pytest.approx([low, high])
    assert result["raters"] == {"r1": {"checks": 2, "consistent": 1}, "r2": {"checks": 1, "consistent": 1}}


def test_check_pairs_count_toward_no_win_rate_nor_agreement():
    ordinary = [judgement(f"r{i}", "alpha", "beta", "a", f"x{i}", f"y{i}") for i in range(6)]
    checks = [judgement(f"r{i}", "beta", "alpha", "a", f"y{i}", f"x{i}", check=True) for i in range(6)]
    with_checks = analyze(StudyData.of(judgements=ordinary + checks), draws=50, seed=3)
    without = analyze(StudyData.of(judgements=ordinary), draws=50, seed=3)
    assert with_checks["pairwise"] == without["pairwise"]
    assert with_checks["bradley_terry"] == without["bradley_terry"]
    assert with_checks["agreement"] == without["agreement"]
    assert with_checks["meta"]["counts"]["judgements"] == 6
    assert with_checks["meta"]["counts"]["check_judgements"] == 6
    assert with_checks["consistency"]["engaging"]["consistent"] == 0  # every rater changed their mind
    assert without["consistency"] == {}


def test_readers_take_choices_and_the_check_column():
    (row,) = parse_choices("conversation,bot,rater,question,value\nc1,alpha,r1,solved,Yes\n")
    assert row == choice("c1", "alpha", "r1", "Yes")
    text = (
        "rater,question,bot_a,bot_b,winner,conversation_a,conversation_b,check\nr,q,a,b,a,x,y,1\nr,q,a,b,tie,x2,y2,\n"
    )
    first, second = parse_pairwise(text)
    assert first.check is True and second.check is False
    with pytest.raises(DataError, match="line 2, column 'check'"):
        parse_pairwise("rater,question,bot_a,bot_b,winner,check\nr,q,a,b,a,maybe\n")
    with pytest.raises(DataError, match="column 'value'"):
        parse_choices("conversation,bot,rater,question,value\nc1,alpha,r1,solved,\n")


def full_result():
    rows = [choice(f"c{i}", "alpha" if i % 2 else "beta", f"r{i}", "Yes" if i % 3 else "No") for i in range(12)]
    judgements = [
        judgement(f"r{i}", "alpha", "beta", "a" if i % 4 else "b", f"x{i}", f"y{i}", question="engaging")
        for i in range(12)
    ]
    judgements.append(judgement("r1", "beta", "alpha", "b", "y1", "x1", check=True))
    return analyze(StudyData.of(choices=rows, judgements=judgements), draws=100, seed=5)


def test_the_html_report_is_one_self_contained_file_with_the_charts_inline():
    result = full_result()
    html = render_html(result, title="Lamps <results>")
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "<title>Lamps &lt;results&gt;</title>" in html
    assert html.count("<svg") >= 3  # choices, win matrix, Bradley-Terry
    assert not re.search(r"""(src|href)=["']?https?:""", html) and "<script" not in html and "@import" not in html
    assert "<link" not in html
    for heading in ("Multiple-choice questions", "Pairwise judgements", "Bradley-Terry ranking", "Rater consistency"):
        assert f"<h2>{heading}</h2>" in html
    markdown = render_markdown(result)
    assert "## Multiple-choice questions" in markdown and "## Rater consistency" in markdown
    texts = {"engaging": "Who would you rather talk to?", "solved": "Solved it?"}
    named = render_html(result, questions=texts)
    assert "<h3>Who would you rather talk to?</h3>" in named and "<h3>Solved it?</h3>" in named
    assert "<h3>engaging</h3>" not in named and "**Solved it?**" in render_markdown(result, questions=texts)


def test_the_choices_chart_is_an_inline_svg_with_every_option_in_its_legend():
    result = full_result()
    svg = choices_chart(result["choices"]["solved"], question="Solved <it>?")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "Solved &lt;it&gt;?" in svg
    assert ">Yes</text>" in svg and ">No</text>" in svg and "<script" not in svg


def test_the_command_line_reads_choices_and_prints_html(tmp_path, capsys):
    choices = tmp_path / "choices.csv"
    choices.write_text("conversation,bot,rater,question,value\nc1,alpha,r1,solved,Yes\nc2,beta,r2,solved,No\n")
    assert cli.main(["--choices", str(choices), "--json", "--seed", "1", "--draws", "10"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["choices"]["solved"]["alpha"]["options"]["Yes"]["share"] == 1.0
    assert cli.main(["--choices", str(choices), "--html", "--seed", "1", "--draws", "10"]) == 0
    assert capsys.readouterr().out.startswith("<!doctype html>")
    charts = tmp_path / "charts"
    assert cli.main(["--choices", str(choices), "--charts", str(charts), "--draws", "10"]) == 0
    assert (charts / "choices-solved.svg").exists()


def test_the_choices_chart_is_valid_svg_readable_on_a_phone_and_names_are_escaped():
    import xml.etree.ElementTree as ET

    tricky = '<script>alert("x")</script> & | *bold*'
    rows = [choice(f"c{i}", tricky if i % 2 else "alpha", f"r{i}", [tricky, "No"][i % 3 == 0]) for i in range(9)]
    result = analyze(StudyData.of(choices=rows), draws=10, seed=1)
    svg = choices_chart(result["choices"]["solved"], question=tricky)
    root = ET.fromstring(svg)
    assert root.get("width") is None and "width:100%" in root.get("style", "")
    sizes = [float(t.get("font-size")) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert sizes and min(sizes) >= 11
    html = render_html(result, title=tricky)
    assert "<script>" not in svg and "<script>" not in html and "&lt;script&gt;" in html
