"""Per-recipient results of a job, one page at a time.

A job may hold a million recipients; a ``DataTable`` with 100,000 rows blocks the event
loop for seconds. So the table holds one page, and a page is read from the journal by
decompressing only the batches it covers (batch sizes say where each recipient is).
"""

from __future__ import annotations

import asyncio
import bisect
import json
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from cams_tui.engine.journal import Journal
from cams_tui.untrusted import escape_controls

PAGE_SIZE = 100
"""Recipients per page."""
_STATUS = {"planned": "pending", "sending": "unknown", "ok": "ok", "failed": "failed", "unknown": "unknown"}


@dataclass(frozen=True)
class ResultRow:
    """One recipient's result: its batch's outcome."""

    number: int
    """Its position in the job, from 1."""
    to: str
    status: str
    code: str
    batch: int
    request_id: str
    group_message_id: str


def read_page(data_dir: Path, job_id: str, offset: int, limit: int = PAGE_SIZE) -> tuple[list[ResultRow], int]:
    """Recipients ``offset`` to ``offset + limit`` of a job, and how many it has in all.
    Blocking: call it from a thread."""

    rows: list[ResultRow] = []
    with Journal(data_dir) as journal:
        batches = journal.batches(job_id)
        starts = [0, *accumulate(b.size for b in batches)]
        total = starts[-1]
        position = bisect.bisect_right(starts, offset) - 1
        while position < len(batches) and len(rows) < limit and offset < total:
            batch = batches[position]
            items = json.loads(journal.sender_list(job_id, batch.index))
            status = _STATUS.get(batch.state, batch.state)
            settled = batch.state in ("ok", "failed", "unknown")
            for within in range(offset - starts[position], len(items)):
                if len(rows) >= limit:
                    break
                rows.append(
                    ResultRow(
                        number=starts[position] + within + 1,
                        to=items[within]["To"],
                        status=status,
                        code=(batch.code or "") if settled else "",
                        batch=batch.index,
                        request_id=batch.request_id or "",
                        group_message_id=batch.group_message_id or "",
                    )
                )
            offset = starts[position + 1]
            position += 1
    return rows, total


class ResultsTable(DataTable[str]):
    """One page of a job's per-recipient results; ``[`` and ``]`` turn pages."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "page(1)", "Next page", id="results-next"),
        Binding("left_square_bracket", "page(-1)", "Previous page", id="results-previous"),
    ]

    def __init__(self, data_dir: Path, job_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.data_dir = data_dir
        self.job_id = job_id
        self.page_start = 0
        """The first recipient shown (from 0)."""
        self.recipient_total = 0
        """Recipients in the job."""

    def on_mount(self) -> None:
        self.add_columns("#", "To", "Status", "Code", "Batch", "RequestId", "GroupMessageId")
        self.load(0)

    def load(self, offset: int) -> None:
        """Show the page starting at ``offset``."""
        self.run_worker(self._load(offset), group="results-page", exclusive=True, exit_on_error=False)

    async def _load(self, offset: int) -> None:
        rows, total = await asyncio.to_thread(read_page, self.data_dir, self.job_id, offset)
        self.recipient_total = total
        self.page_start = offset
        self.clear()
        # Text, not str: a DataTable reads a str as markup, and codes and ids come from CAMS.
        # (The table is typed DataTable[str] but holds Text too, hence the ignore.)
        self.add_rows(
            (f"{r.number:,}", Text(_shown(r.to)), Text(_shown(r.status)), Text(_shown(r.code)), str(r.batch),  # type: ignore[misc]
             Text(_shown(r.request_id)), Text(_shown(r.group_message_id)))
            for r in rows
        )
        last = min(offset + len(rows), total)
        self.border_subtitle = f"{offset + 1 if rows else 0:,}–{last:,} of {total:,} · [ ] pages"

    def action_page(self, direction: int) -> None:
        """Show the next (1) or previous (-1) page."""
        offset = self.page_start + direction * PAGE_SIZE
        if 0 <= offset < max(self.recipient_total, 1):
            self.load(offset)


def _shown(text: str) -> str:
    """Control characters from CAMS (or the input) shown, not obeyed by the terminal."""

    return escape_controls(text)
