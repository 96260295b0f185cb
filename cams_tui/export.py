"""A job's per-recipient results as CSV or JSON Lines, streamed, for both front ends.

``cams-tui export`` and the TUI's jobs screens write through :func:`write_export`: one row
per recipient in send order, then the rejected input lines. A recipient's result is its
batch's, so the cells after the number are encoded once per batch and each recipient's
line is its number and that tail: 200,000 rows take a fraction of a second, and only one
batch is held at a time. Cells from outside (answers, input lines) are neutralised for
spreadsheets (:mod:`cams_tui.untrusted`); files are written whole or not at all, 0600
(:mod:`cams_tui.output_files`).
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TextIO

from cams_tui.engine.journal import BatchRecord, BatchState, Journal
from cams_tui.output_files import atomic_text_file
from cams_tui.untrusted import write_csv

EXPORT_FIELDS = ("to", "status", "code", "message", "batch", "request_id", "group_message_id")
FORMATS = ("csv", "jsonl")
_REJECTS_AT_ONCE = 5000

ExportProgress = Callable[[int, int], None]
"""Called with (rows written, rows in all) after each batch."""

_EXPORT_STATUS = {
    BatchState.PLANNED.value: "pending",
    BatchState.SENDING.value: "unknown",
    BatchState.OK.value: "ok",
    BatchState.FAILED.value: "failed",
    BatchState.UNKNOWN.value: "unknown",
    BatchState.NOT_SENT_VERIFIED.value: "not_sent_verified",
}
_SETTLED = {
    BatchState.OK.value,
    BatchState.FAILED.value,
    BatchState.UNKNOWN.value,
    BatchState.NOT_SENT_VERIFIED.value,
}


def _batch_cells(batch: BatchRecord) -> dict[str, Any]:
    """Every cell of a batch's rows but ``to``."""
    settled = batch.state in _SETTLED
    return {
        "status": _EXPORT_STATUS[batch.state],
        "code": (batch.code or "") if settled else "",
        "message": (batch.message or "") if settled else "",
        "batch": batch.index,
        "request_id": batch.request_id or "",
        "group_message_id": batch.group_message_id or "",
    }


def _numbers(sender_list: str) -> list[str]:
    return [item["To"] for item in json.loads(sender_list)]


def _reject_rows(journal: Journal, job_id: str) -> Iterator[dict[str, Any]]:
    for reject in journal.rejects(job_id):
        yield {
            "to": reject.input,
            "status": "rejected",
            "code": "Rejected",
            "message": f"line {reject.line}: {reject.reason}",
            "batch": "",
            "request_id": "",
            "group_message_id": "",
        }


def export_rows(journal: Journal, job_id: str) -> Iterator[dict[str, Any]]:
    """One row per recipient of a job, in send order, then the rejected input lines."""
    journal.job(job_id)
    for batch, sender_list in journal.iter_sender_lists(job_id):
        cells = _batch_cells(batch)
        for to in _numbers(sender_list):
            yield {"to": to, **cells}
    yield from _reject_rows(journal, job_id)


def export_size(journal: Journal, job_id: str) -> int:
    """How many rows an export of the job has."""
    job = journal.job(job_id)
    return job.recipients + job.rejected


def _csv_tail(cells: dict[str, Any]) -> str:
    """The CSV text after a row's first cell (from its comma to its line end)."""
    scratch = io.StringIO()
    write_csv(scratch, list(EXPORT_FIELDS), [{"to": "", **cells}])
    return scratch.getvalue().split("\n", 1)[1]  # after the header


def write_export(
    journal: Journal, job_id: str, fmt: str, handle: TextIO, progress: ExportProgress | None = None
) -> int:
    """Write the job's rows to ``handle`` as ``csv`` or ``jsonl``; return how many."""
    if fmt not in FORMATS:
        raise ValueError(f"export format {fmt!r}: use csv or jsonl")
    total = export_size(journal, job_id)
    written = 0
    if fmt == "csv":
        handle.write(",".join(EXPORT_FIELDS) + "\n")
    for batch, sender_list in journal.iter_sender_lists(job_id):
        cells = _batch_cells(batch)
        numbers = _numbers(sender_list)
        if fmt == "jsonl":
            tail = ", " + json.dumps(cells, ensure_ascii=False)[1:] + "\n"
            handle.write("".join(['{"to": ' + encode_basestring(to) + tail for to in numbers]))
        elif all(to.isdigit() and to.isascii() for to in numbers):
            # A number is plain digits: no quoting, nothing a spreadsheet could take as a formula.
            tail = _csv_tail(cells)
            handle.write("".join([to + tail for to in numbers]))
        else:
            _write_csv_rows(handle, ({"to": to, **cells} for to in numbers))
        written += len(numbers)
        if progress is not None:
            progress(written, total)
    rejects = _reject_rows(journal, job_id)
    while chunk := list(itertools.islice(rejects, _REJECTS_AT_ONCE)):
        if fmt == "jsonl":
            handle.write("".join([json.dumps(row, ensure_ascii=False) + "\n" for row in chunk]))
        else:
            _write_csv_rows(handle, chunk)
        written += len(chunk)
        if progress is not None:
            progress(written, max(total, written))
    if progress is not None:
        progress(written, written)
    return written


def _write_csv_rows(handle: TextIO, rows: Iterable[dict[str, Any]]) -> None:
    """Rows through the neutralising CSV writer, without its header."""
    scratch = io.StringIO()
    write_csv(scratch, list(EXPORT_FIELDS), [])
    header = scratch.getvalue()
    buffer = io.StringIO()
    write_csv(buffer, list(EXPORT_FIELDS), rows)
    handle.write(buffer.getvalue()[len(header) :])


def export_to_file(
    data_dir: Path, job_id: str, fmt: str, path: Path, progress: ExportProgress | None = None
) -> int:
    """Export a job to ``path`` (whole or not at all, 0600); return the number of rows.
    Blocking: the TUI calls it from a thread."""

    with Journal(data_dir) as journal:
        journal.job(job_id)
        with atomic_text_file(path) as handle:
            return write_export(journal, job_id, fmt, handle, progress)
