"""Text from outside (CAMS's answers, template names, input lines, campaigns) made harmless
where it is shown or written: no terminal control sequences on a screen, no formulas in a
spreadsheet. No UI here: the CLI uses it, and the TUI can.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any, TextIO

# C0 controls but the newline, DEL, C1 controls (ESC's 8-bit forms, such as CSI U+009B), and
# the bidirectional overrides and isolates that make text read in another order than it is.
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What a spreadsheet takes as the start of a formula (or, for tab and CR, lets one through).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The one sequence cams-tui writes itself to a terminal: back to the start of the line and
# erase it (the headless progress line). It is let through at the start of a write only.
_ERASE_LINE = "\r\x1b[2K"


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_controls(text: str, *, json_style: bool = False) -> str:
    """``text`` with every control character but the newline written out (``\\x1b``), so a
    terminal shows it instead of obeying it. ``json_style`` writes ``\\u001b`` instead: inside
    a JSON string it reads back as the same character, so JSON output stays valid JSON."""
    return _CONTROLS.sub(_json_escaped if json_style else _escaped, text)


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting with ``= + - @``, a tab or CR gets a
    leading ``'`` (the usual defence against formula injection); other values as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of a row through :func:`csv_cell`."""
    return {key: csv_cell(value) for key, value in row.items()}


def write_csv(handle: TextIO, fieldnames: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """A header and ``rows`` as CSV (``\n`` line ends), every cell through :func:`csv_cell`.

    Python's writer quotes a cell holding a ``\n`` but not one holding a lone ``\r`` when
    the line end is ``\n``; a reader then splits the row there. Such a row is written by a
    writer whose line end holds ``\r`` too (so it quotes it), then given its ``\n``."""
    writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    scratch = io.StringIO()
    careful = csv.DictWriter(scratch, fieldnames=fieldnames, lineterminator="\r\n")
    for row in rows:
        cells = csv_row(row)
        if any(isinstance(value, str) and "\r" in value for value in cells.values()):
            scratch.seek(0)
            scratch.truncate()
            careful.writerow(cells)
            handle.write(scratch.getvalue()[:-2] + "\n")
        else:
            writer.writerow(cells)


class EscapingStream:
    """A text stream that escapes control characters in all that is written through it (see
    :func:`escape_controls`); everything else (``fileno``, ``isatty``, ``flush``…) is the
    wrapped stream's."""

    def __init__(self, stream: TextIO, *, json_style: bool = False) -> None:
        self.wrapped = stream
        self._json_style = json_style

    def write(self, text: str) -> int:
        """Write ``text`` escaped; returns the length of ``text`` (as the caller wrote it)."""
        prefix = ""
        if text.startswith(_ERASE_LINE):
            prefix, text = _ERASE_LINE, text[len(_ERASE_LINE):]
        self.wrapped.write(prefix + escape_controls(text, json_style=self._json_style))
        return len(prefix) + len(text)

    def writelines(self, lines: Any) -> None:
        """Write each line escaped."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
