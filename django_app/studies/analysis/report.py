"""The analysis as a report a team can read or attach to a decision: Markdown, a self-contained HTML file, or plain
text for a terminal.

All three are built from the same sections (a heading, sentences, tables), so they say the same things; the HTML
report adds the charts, inline (SVG), with its style in the file: it fetches nothing and runs no script.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from . import charts
from .types import AnalysisResult

METHODS = (
    "Rating intervals: bootstrap percentile intervals resampling conversations with all their ratings. "
    "Pairwise: ties excluded; exact two-sided binomial test against 0.5; Holm's adjustment over the pairs of a "
    "question. Bradley-Terry: ties count half a win to each side; scores on the Elo scale (400 points = 10:1 odds) "
    "centred on 1000; intervals from a bootstrap over judgements; rank = 1 + bots whose interval lies wholly above. "
    "Annotation shares and success rates: Wilson intervals. Agreement: Krippendorff's alpha over items rated by two "
    "or more raters (nominal for multiple-choice questions). Multiple-choice shares: Wilson intervals. Rater "
    "consistency: repeated check pairs (the same two conversations shown again, sides swapped), left out of the "
    "win counts; consistent when the same conversation is preferred again."
)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    heading: str
    sentences: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


Questions = Mapping[str, str] | None


def render_markdown(result: AnalysisResult, title: str = "Study results", questions: Questions = None) -> str:
    """The analysis as a Markdown document (GitHub-flavoured tables).

    ``questions`` maps question ids to the texts to show as captions (the ids themselves by default).
    """
    lines = [f"# {_md(title)}", ""]
    for section in sections(result):
        lines += [f"## {section.heading}", ""]
        lines += [*(_md(s) for s in section.sentences), ""] if section.sentences else []
        for table in section.tables:
            if table.caption:
                lines += [f"**{_md(_shown(table.caption, questions))}**", ""]
            lines.append("| " + " | ".join(_md(h) for h in table.header) + " |")
            lines.append("|" + "|".join(" --- " for _ in table.header) + "|")
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_html(result: AnalysisResult, title: str = "Study results", questions: Questions = None) -> str:
    """The analysis as one self-contained HTML page: the report's sections with the charts inline (SVG).

    ``questions`` maps question ids to the texts to show as captions and chart titles.
    """

    def name(q: str) -> str:
        return _shown(q, questions)

    drawers: dict[str, Callable[[str], str]] = {
        "Ratings": lambda q: charts.ratings_chart(result["ratings"][q], question=name(q)),
        "Multiple-choice questions": lambda q: charts.choices_chart(result["choices"][q], question=name(q)),
        "Pairwise judgements": lambda q: charts.win_matrix_chart(
            result["pairwise"], question=q, alpha=result["meta"]["alpha"], title=name(q)
        ),
        "Bradley-Terry ranking": lambda q: charts.bradley_terry_chart(result["bradley_terry"][q], question=name(q)),
    }
    body = [f"<h1>{escape(title)}</h1>"]
    for section in sections(result):
        body.append(f"<section><h2>{escape(section.heading)}</h2>")
        if section.heading == "Verdicts":
            items = "".join(f"<li>{escape(s.removeprefix('- '))}</li>" for s in section.sentences)
            body.append(f"<ul>{items}</ul>")
        else:
            body += [f"<p>{escape(s)}</p>" for s in section.sentences]
        for table in section.tables:
            if table.caption:
                body.append(f"<h3>{escape(name(table.caption))}</h3>")
                draw = drawers.get(section.heading)
                if draw is not None:
                    body.append(f"<figure>{draw(table.caption)}</figure>")
            head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
            body.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')
        body.append("</section>")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


HTML_STYLE = (
    "body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#fff}"
    "main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem}"
    "h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d9e2ec}h3{font-size:1rem}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.95rem}"
    "th,td{padding:.3rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left;white-space:nowrap}"
    "figure{margin:1rem 0}svg{max-width:100%;height:auto}"
    "@media (max-width:600px){main{padding:.6rem}th,td{padding:.25rem .4rem}}"
    "@media print{.scroll{overflow:visible}}"
)


def render_text(result: AnalysisResult, title: str = "Study results", questions: Questions = None) -> str:
    """The analysis as plain text with aligned columns, for a terminal (``questions``: as for Markdown)."""
    lines = [title, "=" * len(title), ""]
    for section in sections(result):
        lines += [section.heading, "-" * len(section.heading)]
        lines += section.sentences
        for table in section.tables:
            if table.caption:
                lines.append(f"{_shown(table.caption, questions)}:")
            lines += _aligned([table.header, *table.rows])
            lines.append("")
        if not section.tables:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def sections(result: AnalysisResult) -> list[Section]:
    """The report's sections, in reading order; empty parts of the study are left out."""
    found = [
        _summary(result),
        _verdicts(result),
        _ratings(result),
        _choices(result),
        _pairwise(result),
        _bradley_terry(result),
        _consistency(result),
        _agreement(result),
        _annotations(result),
        _success(result),
        _acceptability(result),
        Section("Methods", [METHODS]),
    ]
    return [s for s in found if s.sentences or s.tables]


def _summary(result: AnalysisResult) -> Section:
    meta, counts = result["meta"], result["meta"]["counts"]
    acceptability = result["acceptability"]
    conversations = _count(acceptability["conversations"], "conversation")
    excluded = f"{conversations} and {_count(acceptability['raters'], 'rater')}"
    treatment = "excluded" if acceptability["applied"] else "flagged by the checks but included (--include-excluded)"
    return Section(
        "Summary",
        [
            f"Bots: {', '.join(meta['bots']) or 'none'}. {counts['ratings']} ratings, "
            f"{counts.get('choices', 0)} multiple-choice answers, {counts['judgements']} pairwise judgements"
            f"{_checks(counts.get('check_judgements', 0))}, {counts['annotations']} annotations, "
            f"{counts['outcomes']} scenario outcomes, "
            f"{counts['conversations']} conversations, {counts['raters']} raters.",
            f"Acceptability: {excluded} {treatment}.",
            f"Seed {meta['seed']}, {meta['draws']:,} bootstrap draws, alpha = {meta['alpha']:g}.",
        ],
    )


def _verdicts(result: AnalysisResult) -> Section:
    v = result["verdicts"]
    messages = [f"- {item['message']}" for item in [*v["pairwise"], *v["ratings"]]]
    return Section("Verdicts", messages)


def _ratings(result: AnalysisResult) -> Section:
    tables = [
        Table(
            ["Bot", "Ratings", "Conversations", "Mean", "95% CI"],
            [[bot, str(s["n"]), str(s["conversations"]), _num(s["mean"]), _ci(s["ci95"])] for bot, s in bots.items()],
            caption=question,
        )
        for question, bots in result["ratings"].items()
    ]
    return Section("Ratings", tables=tables)


def _checks(n: int) -> str:
    return f" (and {_count(n, 'repeated check judgement')})" if n else ""


def _choices(result: AnalysisResult) -> Section:
    tables = []
    for question, bots in result.get("choices", {}).items():
        rows = [
            [bot, option, str(s["n"]), str(o["count"]), _pct(o["share"]), _ci(o["ci95"], percent=True)]
            for bot, s in bots.items()
            for option, o in s["options"].items()
        ]
        tables.append(Table(["Bot", "Answer", "Answers", "Chose it", "Share", "95% CI"], rows, caption=question))
    return Section("Multiple-choice questions", tables=tables)


def _consistency(result: AnalysisResult) -> Section:
    rows = [
        [
            question,
            str(c["checks"]),
            str(c["consistent"]),
            _pct(c["share"]),
            _ci(c["ci95"], percent=True),
            str(len(c["raters"])),
            str(sum(1 for r in c["raters"].values() if r["consistent"] < r["checks"])),
        ]
        for question, c in result.get("consistency", {}).items()
    ]
    if not rows:
        return Section("Rater consistency")
    header = ["Question", "Check pairs", "Same answer", "Share", "95% CI", "Raters", "Raters who changed an answer"]
    return Section(
        "Rater consistency",
        ["Each check pair showed a rater a pair they had judged before again, sides swapped."],
        [Table(header, rows)],
    )


def _pairwise(result: AnalysisResult) -> Section:
    questions: dict[str, list[list[str]]] = {}
    for e in result["pairwise"]:
        questions.setdefault(e["question"], []).append(
            [
                e["a"],
                e["b"],
                str(e["wins_a"]),
                str(e["wins_b"]),
                str(e["ties"]),
                _pct(e["win_rate_a"]),
                _ci(e["ci95"], percent=True),
                _p(e["p_value"]),
                _p(e["p_holm"]) + (" *" if e["significant"] else ""),
            ]
        )
    header = ["A", "B", "Wins A", "Wins B", "Ties", "Win rate A", "95% CI", "p", "p (Holm)"]
    tables = [Table(header, rows, caption=question) for question, rows in questions.items()]
    return Section("Pairwise judgements", tables=tables)


def _bradley_terry(result: AnalysisResult) -> Section:
    tables = [
        Table(
            ["Rank", "Bot", "Score", "95% CI", "Judgements"],
            [
                [str(s["rank"]), bot, f"{s['score']:.0f}", _ci(s["ci95"], digits=0), str(s["n"])]
                for bot, s in bots.items()
            ],
            caption=question,
        )
        for question, bots in result["bradley_terry"].items()
    ]
    return Section("Bradley-Terry ranking", tables=tables)


def _agreement(result: AnalysisResult) -> Section:
    rows = [
        [name, a["level"], _num(a["krippendorff_alpha"], 3), str(a["units"]), str(a["raters"])]
        for name, a in result["agreement"].items()
    ]
    tables = [Table(["Item", "Level", "Krippendorff's alpha", "Units", "Raters"], rows)] if rows else []
    return Section("Agreement between raters", tables=tables)


def _annotations(result: AnalysisResult) -> Section:
    rows = [
        [label, bot, str(s["n"]), str(s["count"]), _pct(s["share"]), _ci(s["ci95"], percent=True)]
        for label, bots in result["annotations"].items()
        for bot, s in bots.items()
    ]
    tables = [Table(["Label", "Bot", "Annotated messages", "With label", "Share", "95% CI"], rows)] if rows else []
    return Section("Annotations", tables=tables)


def _success(result: AnalysisResult) -> Section:
    rows = [
        [bot, str(s["n"]), str(s["count"]), _pct(s["share"]), _ci(s["ci95"], percent=True)]
        for bot, s in result["success"].items()
    ]
    tables = [Table(["Bot", "Conversations", "Successes", "Rate", "95% CI"], rows)] if rows else []
    return Section("Scenario success", tables=tables)


def _acceptability(result: AnalysisResult) -> Section:
    a = result["acceptability"]
    rows = [[check, str(c["conversations"]), str(c["raters"])] for check, c in a["checks"].items()]
    if not rows:
        return Section("Acceptability checks")
    records = ", ".join(f"{n} {kind}" for kind, n in a["records"].items())
    verb = "removed" if a["applied"] else "kept (included on request)"
    return Section(
        "Acceptability checks",
        [f"Records from excluded conversations and raters, {verb}: {records}."],
        [Table(["Check", "Conversations", "Raters"], rows)],
    )


# --- formatting -----------------------------------------------------------------------------------------------------


def _shown(question: str, questions: Questions) -> str:
    return (questions or {}).get(question) or question


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _ci(interval: Sequence[float] | None, *, digits: int = 2, percent: bool = False) -> str:
    if interval is None:
        return "–"
    if percent:
        return f"{interval[0]:.0%}–{interval[1]:.0%}"
    return f"{interval[0]:.{digits}f}–{interval[1]:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _md(text: str) -> str:
    """Text as Markdown shows it literally: its markup characters escaped, on one line."""
    for character in "\\`*_[]<>|":
        text = text.replace(character, "\\" + character)
    return text.replace("\n", " ")


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
