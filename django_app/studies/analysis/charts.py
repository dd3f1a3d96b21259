"""Charts as SVG strings, drawn on the server: no JavaScript, no external files, nothing fetched.

Every chart has a ``viewBox`` and no fixed size (it fills its container up to ~40 rem and keeps its proportions), a
``<title>`` for screen readers, and text large enough to read on a phone (13 units of a 400-unit-wide picture: about
12 px on a 360 px screen). Bot names are escaped, and long ones shortened (the full name is in a tooltip).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from .types import BradleyTerryStats, ChoiceStats, PairwiseStats, RatingStats

WIDTH = 400
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9e2ec"
ACCENT = "#1d4ed8"
LABEL_WIDTH = 120
PLOT_LEFT, PLOT_RIGHT = LABEL_WIDTH + 10, WIDTH - 24
ROW = 34
MAX_NAME = 16


def ratings_chart(stats: Mapping[str, RatingStats], *, question: str, scale: tuple[float, float] | None = None) -> str:
    """Mean rating per bot with its 95% interval, one row per bot.

    Args:
        stats: ``ratings[question]`` of an analysis: bot -> stats.
        question: The question, used as the chart's title.
        scale: The axis range; by default 1-5 or 1-7 when everything fits, else the data's range.
    """
    bots = list(stats)
    low, high = scale or _rating_scale(stats.values())
    top, height = 40, 40 + ROW * max(1, len(bots)) + 36
    axis = _Axis(low, high)
    parts = [_heading(question, "Mean rating per bot with its 95% interval")]
    parts += axis.grid(top, height - 36, ticks=_rating_ticks(low, high))
    for row, bot in enumerate(bots):
        y = top + ROW * row + ROW / 2
        s = stats[bot]
        parts.append(_name(bot, y, f"{bot}: mean {s['mean']:.2f}, {s['n']} ratings"))
        parts += _dot_with_interval(axis, y, s["mean"], s["ci95"], f"{s['mean']:.2f}")
    return _svg(height, f"{question}: mean rating per bot", parts)


def win_matrix_chart(
    pairwise: Sequence[PairwiseStats], *, question: str, alpha: float = 0.05, title: str | None = None
) -> str:
    """The pairwise win-rate matrix of one question: row bot's win rate against the column bot, ties excluded.

    Cells are blue where the row bot wins more often, orange where it loses more often; ``*`` marks a pair the
    analysis found significant (Holm-adjusted p below its alpha; ``alpha`` here only words the legend). Columns are
    numbered like the rows, so the picture stays narrow. ``title`` is shown instead of the question's id.
    """
    shown = title or question
    entries = [e for e in pairwise if e["question"] == question]
    bots = sorted({e["a"] for e in entries} | {e["b"] for e in entries})
    rates = _rate_lookup(entries)
    size = min(64.0, (WIDTH - LABEL_WIDTH - 20) / max(1, len(bots)))
    top = 64
    height = top + size * len(bots) + 70
    parts = [_heading(shown, "Row bot's win rate against column bot (ties excluded)")]
    for j in range(len(bots)):
        x = LABEL_WIDTH + 10 + size * j + size / 2
        parts.append(_text(x, top - 8, str(j + 1), anchor="middle", size=12, fill=MUTED))
    for i, row_bot in enumerate(bots):
        y = top + size * i
        parts.append(_name(f"{i + 1}. {row_bot}", y + size / 2, row_bot))
        for j, column_bot in enumerate(bots):
            x = LABEL_WIDTH + 10 + size * j
            parts.append(_matrix_cell(x, y, size, rates.get((row_bot, column_bot)), i == j))
    legend_y = top + size * len(bots) + 22
    legend = [
        "Numbers: the row bot's share of decisive wins.",
        f"* significant after Holm's adjustment (p < {alpha:g}).",
    ]
    legend.append("– no decisive judgements yet.")
    parts += [_text(12, legend_y + 17 * i, line, size=12, fill=MUTED) for i, line in enumerate(legend)]
    return _svg(height, f"{shown}: pairwise win rates", parts)


def bradley_terry_chart(stats: Mapping[str, BradleyTerryStats], *, question: str) -> str:
    """The Bradley-Terry ranking of one question: Elo-scale scores with 95% intervals, best first."""
    bots = sorted(stats, key=lambda b: (stats[b]["rank"], -stats[b]["score"], b))
    values = [v for b in bots for v in (*stats[b]["ci95"], stats[b]["score"])] or [1000.0]
    low, high = _padded(min(values + [1000.0]), max(values + [1000.0]))
    top, height = 40, 40 + ROW * max(1, len(bots)) + 36
    axis = _Axis(low, high)
    parts = [_heading(question, "Bradley-Terry score (Elo scale, mean 1000), 95% interval")]
    parts += axis.grid(top, height - 36, ticks=_nice_ticks(low, high))
    parts.append(_line(axis.x(1000), top - 4, axis.x(1000), height - 36, MUTED, dash=True))
    for row, bot in enumerate(bots):
        y = top + ROW * row + ROW / 2
        s = stats[bot]
        parts.append(_name(f"{s['rank']}. {bot}", y, f"{bot}: rank {s['rank']}, score {s['score']:.0f}"))
        parts += _dot_with_interval(axis, y, s["score"], s["ci95"], f"{s['score']:.0f}")
    return _svg(height, f"{question}: Bradley-Terry ranking", parts)


#: Colours of a multiple-choice question's options, in order (told apart by lightness too, and labelled in a legend).
OPTION_COLOURS = ("#1d4ed8", "#f59e0b", "#0f766e", "#be185d", "#6b7280", "#7c3aed", "#65a30d", "#b45309")


def choices_chart(stats: Mapping[str, ChoiceStats], *, question: str) -> str:
    """A multiple-choice question: one bar per bot split into the shares of each option (100 % wide), a legend.

    Shares of 10 % or more are written on their segment; the exact numbers and intervals are in the tables.
    """
    bots = list(stats)
    options = list(dict.fromkeys(option for s in stats.values() for option in s["options"]))
    top = 40
    bars_bottom = top + ROW * max(1, len(bots))
    legend_rows = (len(options) + 1) // 2
    height = bars_bottom + 24 + 18 * legend_rows + 8
    axis = _Axis(0.0, 1.0)
    parts = [_heading(question, "Share of answers choosing each option, per bot")]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(_text(axis.x(tick), bars_bottom + 12, f"{tick:.0%}", anchor="middle", size=11, fill=MUTED))
    for row, bot in enumerate(bots):
        y = top + ROW * row + 6
        s = stats[bot]
        parts.append(_name(bot, y + (ROW - 12) / 2, f"{bot}: {s['n']} answers"))
        start = 0.0
        for i, option in enumerate(options):
            share = (s["options"].get(option) or {}).get("share") or 0.0
            if share <= 0:
                continue
            x0, x1 = axis.x(start), axis.x(start + share)
            colour = OPTION_COLOURS[i % len(OPTION_COLOURS)]
            tip = f"{bot}, {option}: {share:.0%} of {s['n']}"
            label = (
                _text((x0 + x1) / 2, y + (ROW - 12) / 2 + 4, f"{share:.0%}", anchor="middle", size=11, fill="#fff")
                if share >= 0.1
                else ""
            )
            parts.append(
                f"<g><title>{escape(tip)}</title>"
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(0.5, x1 - x0):.1f}" height="{ROW - 12}" '
                f'fill="{colour}"/>{label}</g>'
            )
            start += share
    for i, option in enumerate(options):
        x = 12 + (WIDTH / 2) * (i % 2)
        y = bars_bottom + 30 + 18 * (i // 2)
        colour = OPTION_COLOURS[i % len(OPTION_COLOURS)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="11" height="11" fill="{colour}"/>')
        parts.append(_text(x + 16, y, _shorten(option, 26), size=12))
    return _svg(height, f"{question}: answers per bot", parts)


# --- pieces ---------------------------------------------------------------------------------------------------------


class _Axis:
    """A horizontal axis from ``low`` to ``high`` over the plot area."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high if high > low else low + 1

    def x(self, value: float) -> float:
        share = (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)
        return PLOT_LEFT + share * (PLOT_RIGHT - PLOT_LEFT)

    def grid(self, top: float, bottom: float, ticks: Sequence[float]) -> list[str]:
        parts = []
        for tick in ticks:
            x = self.x(tick)
            parts.append(_line(x, top - 4, x, bottom, GRID))
            parts.append(_text(x, bottom + 18, _tick_label(tick), anchor="middle", size=12, fill=MUTED))
        return parts


def _dot_with_interval(axis: _Axis, y: float, value: float, interval: list[float] | None, label: str) -> list[str]:
    parts = []
    if interval is not None:
        x0, x1 = axis.x(interval[0]), axis.x(interval[1])
        parts.append(_line(x0, y, x1, y, ACCENT, width=2.5))
        parts.append(_line(x0, y - 6, x0, y + 6, ACCENT, width=2))
        parts.append(_line(x1, y - 6, x1, y + 6, ACCENT, width=2))
    x = axis.x(value)
    parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{ACCENT}" stroke="#fff" stroke-width="1.5"/>')
    parts.append(_text(x, y - 9, label, anchor="middle", size=11, fill=INK))
    return parts


def _matrix_cell(x: float, y: float, size: float, cell: tuple[float, bool] | None, diagonal: bool) -> str:
    rect = f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{size - 2:.1f}" height="{size - 2:.1f}" rx="3" '
    centre_x, centre_y = x + size / 2, y + size / 2 + 4.5
    if diagonal:
        return rect + 'fill="#e4e7eb"/>'
    if cell is None:
        return rect + 'fill="#f5f7fa"/>' + _text(centre_x, centre_y, "–", anchor="middle", size=13, fill=MUTED)
    rate, significant = cell
    text = f"{rate:.0%}" + ("*" if significant else "")
    strength = min(1.0, abs(rate - 0.5) * 2)
    colour = _blend("#ffffff", "#2563eb" if rate >= 0.5 else "#ea580c", 0.15 + 0.75 * strength)
    ink = "#ffffff" if strength > 0.55 else INK
    weight = "700" if significant else "400"
    return (
        rect + f'fill="{colour}"/>' + _text(centre_x, centre_y, text, anchor="middle", size=13, fill=ink, weight=weight)
    )


def _rate_lookup(entries: Sequence[PairwiseStats]) -> dict[tuple[str, str], tuple[float, bool]]:
    rates: dict[tuple[str, str], tuple[float, bool]] = {}
    for e in entries:
        if e["win_rate_a"] is None:
            continue
        rates[(e["a"], e["b"])] = (e["win_rate_a"], e["significant"])
        rates[(e["b"], e["a"])] = (1 - e["win_rate_a"], e["significant"])
    return rates


def _heading(title: str, subtitle: str) -> str:
    return _text(12, 18, _shorten(title, 48), size=15, weight="700") + _text(12, 33, subtitle, size=12, fill=MUTED)


def _name(name: str, y: float, tooltip: str) -> str:
    text = _text(LABEL_WIDTH, y + 4.5, _shorten(name, MAX_NAME), anchor="end", size=13)
    return f"<g><title>{escape(tooltip)}</title>{text}</g>"


def _svg(height: float, title: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'style="display:block;width:100%;height:auto;max-width:40rem" font-family={quoteattr(FONT)} fill="{INK}">'
        f"<title>{escape(title)}</title>" + "".join(parts) + "</svg>"
    )


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: int = 13, fill: str = INK, weight: str = "400"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
        f'font-weight="{weight}">{escape(text)}</text>'
    )


def _line(x0: float, y0: float, x1: float, y1: float, colour: str, *, width: float = 1, dash: bool = False) -> str:
    pattern = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}" '
        f'stroke-width="{width}"{pattern}/>'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _blend(base: str, colour: str, amount: float) -> str:
    a = [int(base[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b, strict=True))


def _rating_scale(stats: Sequence[RatingStats] | object) -> tuple[float, float]:
    values = [v for s in stats for v in (s["mean"], *(s["ci95"] or ()))]  # type: ignore[attr-defined]
    if not values:
        return 1.0, 5.0
    low, high = min(values), max(values)
    if low >= 1 and high <= 5:
        return 1.0, 5.0
    if low >= 1 and high <= 7:
        return 1.0, 7.0
    return _padded(low, high)


def _rating_ticks(low: float, high: float) -> list[float]:
    if high - low <= 10 and float(low).is_integer() and float(high).is_integer():
        return [float(v) for v in range(int(low), int(high) + 1)]
    return _nice_ticks(low, high)


def _padded(low: float, high: float) -> tuple[float, float]:
    span = high - low or 1.0
    return low - span * 0.08, high + span * 0.08


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _tick_label(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"
