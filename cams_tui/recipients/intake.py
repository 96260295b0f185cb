"""The pipeline: a source -> recipients, and an account of every entry read.

Each entry (a row of a table, or each number of a pasted line) ends as exactly one of:
recipient, duplicate, suppressed or rejected (with a reason). Besides entries, a source
has a header line (at most one) and blank lines. The order of the checks on a valid
number: suppressed → duplicate (the first occurrence wins) → non-mobile (rejected only
when :attr:`IntakeOptions.reject_non_mobile`) → recipient.

Recipients are kept in columns (numbers as 64-bit integers, line numbers as 32-bit ones,
one list per parameter column) so a million of them fit in well under 300 MB.
"""

from __future__ import annotations

import itertools
import os
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cams_tui.recipients.decoding import Source, TextSource, open_source, text_source
from cams_tui.recipients.numbers import MOBILE_TYPES, TYPE_NAMES, Accepted, Normalizer, is_region
from cams_tui.recipients.reading import Layout, Record, records, sniff, take_sample

Progress = Callable[[int, int | None], None]
"""Called as ``progress(done, total)``: bytes (characters for pasted text); total may be None."""

_PROGRESS_EVERY = 8192
_TEXT_SHOWN = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class IntakeOptions(BaseModel):
    """How a list is read. Build one per import; it is immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    default_region: str | None = None
    """Region of national numbers (``PH``): the campaign's ``[recipients] default_region``,
    ``--default-region`` or the TUI setting. None: only international numbers are valid."""
    reject_non_mobile: bool = False
    """Reject valid numbers that are not mobile (Viber needs a mobile); otherwise flag them."""
    suppressed: frozenset[str] = frozenset()
    """Normalized numbers (digits, country code first) never to send to: the opt-out list."""
    param_columns: frozenset[str] | None = None
    """Only these columns become parameters (the template's variables); None keeps all."""
    max_listed: int = Field(100_000, ge=0)
    """At most this many rejected / duplicate / suppressed / non-mobile entries are listed
    each (their counts are always exact): a list of junk must not exhaust memory."""

    @field_validator("default_region", mode="before")
    @classmethod
    def _region(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not is_region(value.strip().upper()):
            raise ValueError(
                f"default region {value!r} is not a region code; use two letters such as PH, US, DE"
            )
        return value.strip().upper()

    @field_validator("suppressed", mode="before")
    @classmethod
    def _digits(cls, value: object) -> object:
        if isinstance(value, (set, frozenset, list, tuple)):
            bad = [v for v in value if not (isinstance(v, str) and v.isdigit() and v.isascii())]
            if bad:
                raise ValueError(
                    f"suppressed numbers must be digits with the country code, e.g. {bad[0]!r}"
                )
        return value


@dataclass(frozen=True, slots=True)
class RecipientRow:
    """One recipient: the number as CAMS wants it, its parameters, the line it came from."""

    to: str
    params: dict[str, str]
    line: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """An entry that will not be sent, and why."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An entry whose number already came on ``first_line``."""

    line: int
    text: str
    first_line: int


@dataclass(frozen=True, slots=True)
class Suppressed:
    """An entry whose number is on the opt-out list."""

    line: int
    to: str


@dataclass(frozen=True, slots=True)
class NonMobile:
    """A valid number that is not a mobile (kept unless non-mobiles are rejected)."""

    line: int
    to: str
    kind: str


class RecipientStore(Sequence[RecipientRow]):
    """The recipients, in the order read, stored by column."""

    def __init__(self, param_names: Sequence[str]) -> None:
        self.numbers = array("Q")
        self.lines = array("I")
        self.param_names: tuple[str, ...] = tuple(param_names)
        self.columns: dict[str, list[str]] = {name: [] for name in self.param_names}

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> RecipientRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecipientRow]: ...
    def __getitem__(self, index: int | slice) -> RecipientRow | list[RecipientRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        params = {name: column[index] for name, column in self.columns.items()}
        return RecipientRow(str(self.numbers[index]), params, self.lines[index])

    def __iter__(self) -> Iterator[RecipientRow]:
        for i in range(len(self)):
            yield self[i]

    def batches(self, size: int = 1000) -> Iterator[list[RecipientRow]]:
        """Consecutive groups of at most ``size`` recipients (CAMS takes 1,000 per request)."""
        for start in range(0, len(self), size):
            yield self[start : start + size]


@dataclass
class IntakeReport:
    """Everything an import produced and everything it refused, with counts that add up:
    ``entries == recipients + duplicates + suppressed + rejected``, and each line is the
    header, blank, or holds entries (one per line for a table; a quoted field may make a
    record span lines, and a pasted line may hold several numbers)."""

    recipients: RecipientStore
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    non_mobile: list[NonMobile] = field(default_factory=list)
    rejected_count: int = 0
    duplicate_count: int = 0
    suppressed_count: int = 0
    flagged_non_mobile: int = 0
    lines_read: int = 0
    """Lines of the source (as an editor numbers them), header and blank lines included."""
    blank_lines: int = 0
    header: list[str] | None = None
    phone_column: str | None = None
    param_columns: list[str] = field(default_factory=list)
    per_country: dict[str, int] = field(default_factory=dict)
    encoding: str = "text"
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the operator should know about the file (layout guesses, encoding fallback)."""

    @property
    def entries(self) -> int:
        """Entries accounted for: each is a recipient, duplicate, suppressed or rejected."""
        return len(self.recipients) + self.duplicate_count + self.suppressed_count + self.rejected_count

    def summary(self) -> dict[str, int]:
        """The counts of ``send --json``'s plan event."""
        return {
            "recipients": len(self.recipients),
            "rejected": self.rejected_count,
            "duplicates": self.duplicate_count,
            "suppressed": self.suppressed_count,
        }

    def to_dict(self, listed: int = 20) -> dict[str, Any]:
        """A JSON-ready account of the import, listing at most ``listed`` entries of each kind."""
        return {
            **self.summary(),
            "lines_read": self.lines_read,
            "blank_lines": self.blank_lines,
            "non_mobile": self.flagged_non_mobile,
            "per_country": dict(sorted(self.per_country.items(), key=lambda kv: (-kv[1], kv[0]))),
            "header": self.header,
            "phone_column": self.phone_column,
            "param_columns": self.param_columns,
            "encoding": self.encoding,
            "notes": self.notes,
            "rejected_lines": [_as_dict(r) for r in self.rejected[:listed]],
            "duplicate_lines": [_as_dict(d) for d in self.duplicates[:listed]],
        }


def _as_dict(item: Rejected | Duplicate | Suppressed | NonMobile) -> dict[str, Any]:
    """A listed entry as a dict (slots dataclasses have no ``__dict__``)."""
    return {name: getattr(item, name) for name in item.__slots__}


def read_recipients(
    source: Source, options: IntakeOptions | None = None, progress: Progress | None = None
) -> IntakeReport:
    """Read a file (path, bytes or binary file object), streaming; see the package docstring.

    Raises ``OSError`` (naming the file) only when a path cannot be opened; no content
    makes it fail.
    """
    try:
        opened = open_source(source)
    except OSError as exc:
        # Only a path fails to open; bytes or a file object would print their content here.
        named = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "given"
        raise OSError(f"cannot read the recipient list {named}: {exc.strerror or exc}") from exc
    return _intake(opened, options or IntakeOptions(), progress)


def read_recipients_text(
    text: str, options: IntakeOptions | None = None, progress: Progress | None = None
) -> IntakeReport:
    """Read numbers pasted by an operator (any separators, or a pasted table)."""
    return _intake(text_source(text), options or IntakeOptions(), progress)


def _shown(text: str) -> str:
    return text if len(text) <= _TEXT_SHOWN else text[: _TEXT_SHOWN - 1] + "…"


def _intake(source: TextSource, options: IntakeOptions, progress: Progress | None) -> IntakeReport:
    lines = source.lines
    sample = take_sample(lines)
    layout: Layout = sniff(sample, options.param_columns)
    names = [name for _, name in layout.param_columns]
    report = _new_report(source, layout, names)
    refused = _Refused(report, options, layout, names)
    physical = [0]
    rows = records(itertools.chain(sample, lines), layout, physical)
    if progress is not None:
        rows = _reporting(rows, source, progress)
    first_seen_needed = _take(
        rows, Normalizer(options.default_region).normalize, refused, report,
        {int(number) for number in options.suppressed},
    )
    report.lines_read = physical[0]
    _finish_report(report, source, refused.pending_duplicates, first_seen_needed)
    if progress is not None:
        progress(source.done_bytes, source.total_bytes)
    return report


def _reporting(rows: Iterator[Record | None], source: TextSource, progress: Progress) -> Iterator[Record | None]:
    """The records, calling ``progress`` every few thousand of them."""
    countdown = _PROGRESS_EVERY
    for record in rows:
        countdown -= 1
        if not countdown:
            countdown = _PROGRESS_EVERY
            progress(source.done_bytes, source.total_bytes)
        yield record


def _take(
    rows: Iterator[Record | None],
    normalize: Callable[[str], Accepted | str],
    refused: _Refused,
    report: IntakeReport,
    suppressed: set[int],
) -> dict[int, int]:
    """Sort each record into the report (see the module docstring for the order of the checks).

    The loop runs once per entry of a list of up to millions: everything it touches is a
    local name, and whatever is not a recipient is handed to ``refused``. Returns the
    duplicated numbers whose first line is still to be found (see :func:`_finish_report`).
    """
    store = report.recipients
    seen: set[int] = set()
    seen_add = seen.add
    add_number, add_line = store.numbers.append, store.lines.append
    columns = [store.columns[name].append for name in store.param_names]
    only_column = columns[0] if len(columns) == 1 else None
    per_country = report.per_country
    country_count = per_country.get
    control = _CONTROL.search
    mobile = MOBILE_TYPES
    blank = 0
    for record in rows:
        if record is None:
            blank += 1
            continue
        line, cell, values, error = record
        if error is not None:
            refused.reject(line, cell, error)
            continue
        result = normalize(cell)
        if isinstance(result, str):
            refused.not_a_number(line, cell, result)
            continue
        number, region, kind = result
        if values is not None and control(values[0] if only_column else "".join(values)) is not None:
            refused.control(line, cell, values)
        elif suppressed and number in suppressed:
            refused.suppressed(line, number)
        elif number in seen:
            refused.duplicate(line, cell, number)
        elif kind not in mobile and refused.non_mobile(line, cell, number, kind):
            pass
        else:
            seen_add(number)
            add_number(number)
            add_line(line)
            if only_column is not None:
                only_column(values[0])  # type: ignore[index]
            elif values is not None:
                for column, value in zip(columns, values, strict=True):
                    column(value)
            per_country[region] = country_count(region, 0) + 1
    report.blank_lines += blank
    return refused.first_seen_needed


class _Refused:
    """The entries that are not recipients: always counted, listed up to ``max_listed`` each."""

    def __init__(self, report: IntakeReport, options: IntakeOptions, layout: Layout, names: list[str]) -> None:
        self.report = report
        self.limit = options.max_listed
        self.reject_non_mobile = options.reject_non_mobile
        self.names = names
        self.column_label = f"column {layout.phone_column_name!r}" if layout.phone_column_name else "this line"
        self.pending_duplicates: list[tuple[int, str, int]] = []
        self.first_seen_needed: dict[int, int] = {}  # duplicate numbers -> first line, filled at the end

    def reject(self, line: int, text: str, reason: str) -> None:
        """An entry rejected for ``reason``."""
        report = self.report
        report.rejected_count += 1
        if len(report.rejected) < self.limit:
            report.rejected.append(Rejected(line, _shown(text), reason))

    def not_a_number(self, line: int, cell: str, reason: str) -> None:
        """A cell the numbers rule refused."""
        self.reject(line, cell, f"no number in {self.column_label}" if reason == "empty" else reason)

    def control(self, line: int, cell: str, values: tuple[str, ...]) -> None:
        """An entry with a control character in one of its parameters."""
        self.reject(line, cell, _control_character(values, self.names))

    def suppressed(self, line: int, number: int) -> None:
        """An entry whose number is on the opt-out list."""
        report = self.report
        report.suppressed_count += 1
        if len(report.suppressed) < self.limit:
            report.suppressed.append(Suppressed(line, str(number)))

    def duplicate(self, line: int, cell: str, number: int) -> None:
        """An entry whose number came before."""
        self.report.duplicate_count += 1
        if len(self.pending_duplicates) < self.limit:
            self.pending_duplicates.append((line, cell, number))
            self.first_seen_needed[number] = 0

    def non_mobile(self, line: int, cell: str, number: int, kind: int) -> bool:
        """Flag a valid number that is not a mobile; True when it is rejected for that."""
        report = self.report
        report.flagged_non_mobile += 1
        name = TYPE_NAMES.get(kind, "?")
        if len(report.non_mobile) < self.limit:
            report.non_mobile.append(NonMobile(line, str(number), name))
        if self.reject_non_mobile:
            self.reject(line, cell, f"not a mobile number ({name}); Viber needs a mobile")
        return self.reject_non_mobile


def _new_report(source: TextSource, layout: Layout, names: list[str]) -> IntakeReport:
    """An empty report for a source read with ``layout``, its parameters named ``names``."""
    return IntakeReport(
        RecipientStore(names),
        header=layout.header,
        phone_column=layout.phone_column_name,
        param_columns=names,
        encoding=source.encoding,
        delimiter=layout.delimiter,
        notes=list(layout.notes),
    )


def _finish_report(
    report: IntakeReport,
    source: TextSource,
    pending_duplicates: list[tuple[int, str, int]],
    first_seen_needed: dict[int, int],
) -> None:
    """Name the first line of each listed duplicate, and note an encoding fallback."""
    store = report.recipients
    if first_seen_needed:
        for number, line in zip(store.numbers, store.lines, strict=True):
            if number in first_seen_needed and not first_seen_needed[number]:
                first_seen_needed[number] = line
        report.duplicates.extend(
            Duplicate(line, _shown(text), first_seen_needed[number]) for line, text, number in pending_duplicates
        )
    if source.fallback_bytes:
        report.notes.append(f"{source.fallback_bytes} byte(s) were not UTF-8 and were read as Windows-1252")
        report.encoding = f"{source.encoding} + Windows-1252"


def _control_character(values: tuple[str, ...], names: list[str]) -> str:
    """The reason for an entry with a control character in one of its parameters."""
    for value, name in zip(values, names, strict=True):
        found = _CONTROL.search(value)
        if found is not None:
            return (
                f"column {name!r} contains a control character (U+{ord(found.group()):04X}); "
                "remove it from the file"
            )
    raise AssertionError("called without a control character")
