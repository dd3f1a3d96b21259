"""Errors raised by process_data.

Every error carries the file (and line, where there is one) it is about, so
the CLI can print one line that tells the user what to fix.
"""

from __future__ import annotations

from pathlib import Path


class ConversionError(Exception):
    """A problem with the input that stops the conversion.

    Args:
        message: What is wrong and, where possible, what to do about it.
        path: The file the problem is in.
        line: The 1-based line number in that file, if known.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        return f"{where}{self.message}"
