"""Errors raised by the studies analysis.

A bad input file is reported with the file, the 1-based line and the column it is about, so the CLI (and later the
management command) can print one line that says what to fix.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(AnalysisError):
    """A problem in an input file (or in records built by a caller) that stops the analysis.

    Args:
        message: What is wrong and, where possible, what to do about it.
        file: The file (or source name) the problem is in.
        line: The 1-based line number in that file (the header is line 1), if known.
        column: The name of the column the problem is in, if there is one.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, column: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class PlanningError(AnalysisError, ValueError):
    """A sample-size question that has no answer (an effect of zero, a power out of range, ...)."""
