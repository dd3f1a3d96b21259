"""SVG charts (valid, self-contained, phone-readable) and the Markdown / text reports of an analysis."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from studies.analysis import (
    Judgement,
    Rating,
    StudyData,
    analyze,
    bradley_terry_chart,
    ratings_chart,
    render_markdown,
    render_text,
    win_matrix_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
WHO = "Who would you rather talk to?"
TRICKY = '<script>alert("x")</script> & | *bold*'


@pytest.fixture(scope="module")
def result():
    ratings = [
        Rating(f"c{i}", bot, f"r{i % 3}", "Helpful?", (i * 7 + offset) % 5 + 1)
        for i in range(30)
        for bot, offset in (("alpha", 2), ("beta", 0), (TRICKY, 1))
    ]
    rows = [("alpha", "beta", "a")] * 30 + [("alpha", "beta", "b")] * 5 + [("beta", TRICKY, "a")] * 6
    rows += [("beta", TRICKY, "b")] * 5 + [("alpha", TRICKY, "tie")] * 2
    judgements = [Judgement(f"r{i % 5}", WHO, a, b, w) for i, (a, b, w) in enumerate(rows)]  # type: ignore[arg-type]
    return analyze(StudyData.of(ratings=ratings, judgements=judgements), seed=2, draws=500)


def charts_of(result) -> list[str]:
    return [
        ratings_chart(result["ratings"]["Helpful?"], question="Helpful?"),
        win_matrix_chart(result["pairwise"], question=WHO),
        bradley_terry_chart(result["bradley_terry"][WHO], question=WHO),
    ]


def test_charts_are_valid_self_contained_svg_that_scale(result):
    for svg in charts_of(result):
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg"
        assert re.fullmatch(r"0 0 400 \d+", root.get("viewBox", ""))
        assert root.get("width") is None and root.get("height") is None  # no fixed size: the container decides
        assert "width:100%" in root.get("style", "")
        assert root[0].tag == f"{SVG}title" and root[0].text
        assert not list(root.iter(f"{SVG}script"))
        assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
        sizes = [float(t.get("font-size")) for t in root.iter(f"{SVG}text")]
        assert sizes and min(sizes) >= 11  # ~10 px or more on a 360 px phone


def test_names_are_escaped_and_long_ones_shortened(result):
    svg = ratings_chart(result["ratings"]["Helpful?"], question="Helpful?")
    root = ET.fromstring(svg)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(t.startswith("<script>alert(") and t.endswith("…") and len(t) <= 16 for t in texts)
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(t.startswith(TRICKY) for t in titles)  # the full name in the tooltip
    assert "<script>" not in svg


def test_ratings_chart_draws_a_dot_and_an_interval_per_bot(result):
    root = ET.fromstring(ratings_chart(result["ratings"]["Helpful?"], question="Helpful?"))
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.text in {"1", "2", "3", "4", "5"}]
    assert ticks == ["1", "2", "3", "4", "5"]


def test_win_matrix_marks_significant_pairs_and_missing_ones(result):
    root = ET.fromstring(win_matrix_chart(result["pairwise"], question=WHO))
    cells = [t.text for t in root.iter(f"{SVG}text") if t.text and re.fullmatch(r"\d+%\*?|–", t.text)]
    significant = sum(e["significant"] for e in result["pairwise"])
    assert sum(c.endswith("*") for c in cells) == 2 * significant >= 2
    alpha_beta = next(e for e in result["pairwise"] if (e["a"], e["b"]) == ("alpha", "beta"))
    assert f"{alpha_beta['win_rate_a']:.0%}*" in cells and f"{1 - alpha_beta['win_rate_a']:.0%}*" in cells
    # alpha and TRICKY only tied: no decisive judgement, drawn as a dash both ways
    assert cells.count("–") == 2


def test_bradley_terry_chart_lists_bots_by_rank(result):
    root = ET.fromstring(bradley_terry_chart(result["bradley_terry"][WHO], question=WHO))
    names = [t.text for t in root.iter(f"{SVG}text") if t.text and re.match(r"\d\. ", t.text)]
    assert names[0] == "1. alpha"


def test_markdown_report_has_every_section_and_escapes_names(result):
    markdown = render_markdown(result, title="Bot study")
    assert markdown.startswith("# Bot study\n")
    for heading in ("Summary", "Verdicts", "Ratings", "Pairwise judgements", "Bradley-Terry ranking", "Methods"):
        assert f"\n## {heading}\n" in markdown
    assert "| Bot | Ratings | Conversations | Mean | 95% CI |" in markdown
    assert "\\<script\\>" in markdown and "\\| \\*bold\\*" in markdown
    for line in markdown.splitlines():
        if line.startswith("| ") and "---" not in line:
            assert len(re.findall(r"(?<!\\)\|", line)) == line.count(" | ") + 2  # no stray cell breaks
    assert "Still too small to tell" in markdown or "is preferred to" in markdown


def test_text_report_is_aligned_plain_text(result):
    text = render_text(result)
    assert text.startswith("Study results\n=============\n")
    assert "Pairwise judgements\n-------------------\n" in text
    header = next(line for line in text.splitlines() if line.startswith("Bot ") and "Mean" in line)
    row = next(line for line in text.splitlines() if line.startswith("alpha ") and "–" in line)
    assert header.index("Mean") == row.index(row.split()[3])


def test_reports_of_an_empty_study():
    empty = analyze(StudyData(), seed=1)
    assert "## Methods" in render_markdown(empty) and "## Ratings" not in render_markdown(empty)
    assert "Summary" in render_text(empty)
