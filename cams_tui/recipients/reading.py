"""Lines of text -> records: which cell holds the number, which cells are parameters.

The first lines (a sample) decide the layout:

- **delimiter**: the one of ``,`` ``;`` tab ``|`` that splits the sample's rows into the
  same number (≥ 2) of fields most consistently (quotes respected); ties go to more fields.
- **header**: the first row is a header when one of its cells names a phone column
  (phone, mobile, msisdn, number, to, tel, cell, viber … in any case, with or without
  spaces, ``_`` or ``No.``), or when it has several columns, none looking like a number,
  and a later row has one.
- **phone column**: the header's phone-like name with the highest priority
  (msisdn, mobile, cell, viber, phone, tel, to, number), else the column whose cells look
  most like numbers. With a header, every other column is a parameter named by its header.
- **list mode**: without a header, when every column looks like numbers (or there is just
  one), each line may hold several numbers separated by ``,`` ``;`` tab or ``|``: each of
  them is an entry. This is what pasting from a chat gives.
"""

from __future__ import annotations

import csv
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cams_tui.input_files import PARAM_VALUE_MAX_CHARS

DELIMITERS = (",", ";", "\t", "|")
_LIST_SPLIT = re.compile(r"[,;\t|]")
_NAME_JUNK = re.compile(r"[^0-9a-z]+")
_NUMBER_LIKE = re.compile(r"'?\+?[0-9]{6,17}")
_NUMBER_SEPARATORS = re.compile(r"[\s\-./()]+")
_SAMPLE_LINES = 200
_SAMPLE_CHARS = 1 << 16

# Normalized header names, best first: Viber needs a mobile, so a "mobile" column wins
# over a "phone" column when a file has both.
PHONE_COLUMN_NAMES: tuple[tuple[str, ...], ...] = (
    ("msisdn", "msisdns"),
    ("mobile", "mobiles", "mobilenumber", "mobileno", "mobilephone", "mobilenr", "mobilenum"),
    ("cell", "cellphone", "cellular", "cellnumber", "cellno"),
    ("viber", "vibernumber", "viberno", "viberphone"),
    ("phone", "phones", "phonenumber", "phonenumbers", "phoneno", "phonenr", "phonenum"),
    ("tel", "telephone", "telno", "telnumber", "telephonenumber"),
    ("to", "recipient", "recipients", "destination"),
    ("number", "numbers", "no", "nr", "num", "contactnumber", "contactno", "whatsapp"),
)
_RANK = {name: rank for rank, names in enumerate(PHONE_COLUMN_NAMES) for name in names}


def header_rank(cell: str) -> int | None:
    """How strongly a header cell names the phone column (0 best), or None."""
    return _RANK.get(_NAME_JUNK.sub("", cell.strip().lstrip("\ufeff").lower()))


def looks_like_number(cell: str) -> bool:
    """A cheap guess used only to sniff the layout; normalization decides for real."""
    return _NUMBER_LIKE.fullmatch(_NUMBER_SEPARATORS.sub("", cell.strip())) is not None


def _only_numbers(cell: str) -> bool:
    """A cell that holds nothing but numbers, maybe several ("0917…; 0918…")."""
    tokens = [token for token in _LIST_SPLIT.split(cell) if token.strip()]
    return bool(tokens) and all(looks_like_number(token.strip().strip('"')) for token in tokens)


@dataclass
class Layout:
    """How the records of a source are read."""

    delimiter: str | None
    header: list[str] | None
    list_mode: bool
    phone_column: int = 0
    phone_column_name: str | None = None
    # (index, name) of the columns carried as per-recipient parameters.
    param_columns: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def take_sample(lines: Iterator[str]) -> list[str]:
    """The first lines of a source, enough to decide its layout."""
    sample: list[str] = []
    size = 0
    for line in lines:
        sample.append(line)
        size += len(line)
        if len(sample) >= _SAMPLE_LINES or size >= _SAMPLE_CHARS:
            break
    return sample


def _rows(sample: list[str], delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(sample, delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error:
            continue
        if any(cell.strip() for cell in row):
            rows.append(row)


def _pick_delimiter(sample: list[str]) -> str | None:
    best: tuple[float, int] | None = None
    chosen = None
    for delimiter in DELIMITERS:
        rows = _rows(sample, delimiter)
        if not rows:
            continue
        counts: dict[int, int] = {}
        for row in rows:
            counts[len(row)] = counts.get(len(row), 0) + 1
        fields, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
        if fields < 2:
            continue
        score = (hits / len(rows), fields)
        if best is None or score > best:
            best, chosen = score, delimiter
    if best is None or best[0] < 0.5:
        return None
    return chosen


def sniff(sample: list[str], keep: frozenset[str] | None = None) -> Layout:
    """Decide the layout from the first lines; ``keep`` limits the parameter columns."""
    delimiter = _pick_delimiter(sample)
    rows = _rows(sample, delimiter) if delimiter else [[line] for line in sample if line.strip()]
    if not rows:
        return Layout(delimiter, None, list_mode=True)
    first, rest = rows[0], rows[1:]
    width = max(len(row) for row in rows)
    number_share = [
        sum(1 for row in rest if i < len(row) and looks_like_number(row[i])) / max(len(rest), 1)
        for i in range(width)
    ]
    named = [(rank, i) for i, cell in enumerate(first) if (rank := header_rank(cell)) is not None]
    named = [(rank, i) for rank, i in named if not looks_like_number(first[i])]
    has_header = bool(named) or (
        len(first) >= 2
        and not any(looks_like_number(cell) for cell in first)
        and any(cell.strip() for cell in first)
        and any(share > 0 for share in number_share)
    )
    if not has_header:
        first_share = [
            sum(1 for row in rows if i < len(row) and _only_numbers(row[i])) / len(rows)
            for i in range(width)
        ]
        if delimiter is None or all(share >= 0.5 for share in first_share):
            return Layout(delimiter, None, list_mode=True)
        phone = max(range(width), key=lambda i: (first_share[i], -i))
        layout = Layout(delimiter, None, list_mode=False, phone_column=phone)
        others = [str(i + 1) for i in range(width) if i != phone]
        layout.notes.append(
            f"no header row: the numbers are in column {phone + 1}; columns "
            f"{', '.join(others)} are not used as parameters (add a header row naming them)"
        )
        return layout
    header = [cell.strip().lstrip("\ufeff") for cell in first]
    if named:
        phone = min(named)[1]
        also = [header[i] for _, i in sorted(named) if i != phone]
        notes = [f"using column {header[phone]!r} for numbers; {also!r} not used"] if also else []
    else:
        phone = max(range(len(header)), key=lambda i: (number_share[i] if i < width else 0, -i))
        notes = [f"no column is named like a phone column; using {header[phone]!r}"]
    if delimiter is None:
        # A single column with a header line: the rest may still hold several per line.
        return Layout(None, header, list_mode=True, phone_column=0, phone_column_name=header[0])
    layout = Layout(delimiter, header, list_mode=False, phone_column=phone)
    layout.phone_column_name = header[phone]
    layout.notes.extend(notes)
    seen: set[str] = set()
    for i, name in enumerate(header):
        if i == phone:
            continue
        name = name or f"column{i + 1}"
        if name in seen:
            layout.notes.append(f"column {i + 1} repeats the header {name!r} and is not used")
            continue
        seen.add(name)
        if keep is None or name in keep:
            layout.param_columns.append((i, name))
    return layout


# A record: (line number where it starts, the cell holding the number, the parameter cells
# or None when the layout has none, an error message when the record could not be read).
Record = tuple[int, str, tuple[str, ...] | None, str | None]


def records(
    lines: Iterator[str], layout: Layout, lines_read: list[int] | None = None
) -> Iterator[Record | None]:
    """The entries of a source after its layout; None for a blank line.

    The header line is skipped here (the caller counts it from ``layout.header``). When
    the records are exhausted, ``lines_read[0]`` holds the number of lines they spanned.
    """
    counter = lines_read if lines_read is not None else [0]
    if layout.list_mode:
        return _list_records(lines, layout, counter)
    return _table_records(lines, layout, counter)


def _list_records(
    lines: Iterator[str], layout: Layout, counter: list[int]
) -> Iterator[Record | None]:
    skip_header = layout.header is not None
    number = 0
    for line in lines:
        number += 1
        counter[0] = number
        if skip_header and line.strip():
            skip_header = False
            continue
        found = False
        for token in _LIST_SPLIT.split(line):
            token = token.strip()
            if len(token) >= 2 and token[0] == token[-1] == '"':
                token = token[1:-1].strip()
            if token:
                found = True
                yield number, token, None, None
        if not found:
            yield None


def _table_records(
    lines: Iterator[str], layout: Layout, counter: list[int]
) -> Iterator[Record | None]:
    reader = csv.reader(lines, delimiter=layout.delimiter or ",")
    try:
        yield from _rows_of(reader, layout)
    finally:
        counter[0] = reader.line_num


def _rows_of(reader: Any, layout: Layout) -> Iterator[Record | None]:
    # One unreadable record must not end the file: after a csv.Error the reader goes on
    # with the next record, so the loop over it is simply entered again.
    phone = layout.phone_column
    indexes = [i for i, _ in layout.param_columns]
    names = [name for _, name in layout.param_columns]
    needed = max(indexes, default=-1) + 1
    only = indexes[0] if len(indexes) == 1 else None
    # The parameter cells of a row (used only with two or more parameter columns).
    pick: Callable[[list[str]], tuple[str, ...]] = operator.itemgetter(*indexes) if len(indexes) > 1 else tuple
    skip_header = layout.header is not None
    previous_end = 0
    while True:
        try:
            for row in reader:
                start, previous_end = previous_end + 1, reader.line_num
                width = len(row)
                cell = row[phone] if phone < width else ""
                # A row with a number in it is not blank: only the others need joining to know.
                if not cell.strip() and not "".join(row).strip():
                    yield None
                elif skip_header:
                    skip_header = False
                elif not indexes:
                    yield start, cell, None, None
                else:
                    if only is not None:  # one parameter column, the usual "phone,name"
                        value = row[only].strip() if only < width else ""
                        values: tuple[str, ...] = (value,)
                        longest = len(value)
                    else:
                        if width >= needed:
                            values = tuple(map(str.strip, pick(row)))
                        else:
                            values = tuple([row[i].strip() if i < width else "" for i in indexes])
                        longest = max(map(len, values))
                    if longest > PARAM_VALUE_MAX_CHARS:
                        yield start, cell, None, _too_long(names, values)
                    else:
                        yield start, cell, values, None
            return
        except csv.Error as exc:
            start, previous_end = previous_end + 1, reader.line_num
            yield start, "", None, f"unreadable CSV record ({exc}); check its quotes"


def _too_long(names: list[str], values: tuple[str, ...]) -> str:
    """The reason for a record with a parameter longer than a message can be."""
    name, value = max(zip(names, values, strict=True), key=lambda item: len(item[1]))
    return (
        f"column {name!r} holds {len(value):,} characters; a parameter value takes at most "
        f"{PARAM_VALUE_MAX_CHARS:,} (a Viber message's longest)"
    )
