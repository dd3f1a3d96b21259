"""The account printed after each run: what was read, kept, dropped and why."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .api import ConversionResult

MAX_WARNINGS_SHOWN = 50


def render_summary(result: ConversionResult) -> str:
    """The summary table as text: counts, examples per intent, renamed labels, files written."""
    data = result.data
    lines: list[str] = []
    name = result.source.name if result.source else "the input"
    lines.append(f"summary of {name}" + (f" ({result.detected})" if result.detected else ""))
    width = max([len(k) for k in data.stats] + [len(i) for i in data.examples] + [20])
    for key, value in data.stats.items():
        lines.append(f"  {key:<{width}}  {value:>10,}")
    lines.append("examples per intent" + (" (train / test)" if data.test_examples else ""))
    for intent, examples in data.examples.items():
        test = data.test_examples.get(intent)
        extra = f" / {len(test):,}" if data.test_examples else ""
        answer = f"  -> {data.actions[intent]}" if intent in data.actions else ""
        lines.append(f"  {intent:<{width}}  {len(examples):>10,}{extra}{answer}")
    if data.renamed:
        lines.append("intent labels renamed")
        for label, intent in sorted(data.renamed.items(), key=lambda p: (p[1], p[0])):
            lines.append(f"  {label!r} -> {intent}")
    for note in result.notes:
        lines.append(note)
    lines.extend(f"wrote {path}" for path in result.files)
    return "\n".join(lines) + "\n"


def print_warnings(warnings: list[str], stream: TextIO) -> None:
    """Print warnings one per line, at most :data:`MAX_WARNINGS_SHOWN` and a count of the rest."""
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        print(f"warning: {warning}", file=stream)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        print(f"warning: ... and {len(warnings) - MAX_WARNINGS_SHOWN:,} more warnings like these", file=stream)


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * 30)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Clear the bar's line."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
