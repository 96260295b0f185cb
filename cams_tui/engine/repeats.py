"""The duplicate guard across jobs: the same template sent to the same numbers recently.

Exactly-once holds within a job (the journal). Across jobs, nothing stops an operator from
sending the same campaign to the same list twice, minutes apart (a second window, a
re-opened campaign file, a cron job run by hand). Before a send, both front ends ask this
module which recent jobs of the same template and language reached (or may have reached:
``sending``, ``unknown``) any of the numbers about to be sent, within the profile's
``repeat_window_h`` (24 hours by default; 0 turns the guard off).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cams_tui.engine.journal import BatchState, Journal

DEFAULT_WINDOW_H = 24.0
"""How far back the guard looks, by default."""
# Batches whose numbers may have been sent: accepted, or possibly accepted.
_REACHED = (BatchState.OK, BatchState.SENDING, BatchState.UNKNOWN)


@dataclass(frozen=True)
class Repeat:
    """One earlier job that sent the same template to some of the same numbers."""

    job_id: str
    created_at: float
    numbers: int
    """How many of the numbers about to be sent it reached."""

    def describe(self) -> str:
        """E.g. ``job 20261201-… at 20:31 (1,234 numbers)``."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created_at))
        return f"job {self.job_id} at {when} ({self.numbers:,} of these numbers)"


@dataclass(frozen=True)
class RepeatReport:
    """What the guard found."""

    window_h: float
    repeats: list[Repeat]

    @property
    def numbers(self) -> int:
        """The largest overlap with one earlier job (a number may be in several)."""
        return max((r.numbers for r in self.repeats), default=0)

    def describe(self) -> str:
        """One sentence for the plan, Review and the headless refusal ('' when none)."""
        if not self.repeats:
            return ""
        jobs = "; ".join(r.describe() for r in self.repeats[:3])
        more = f" and {len(self.repeats) - 3} more jobs" if len(self.repeats) > 3 else ""
        return (
            f"{self.numbers:,} of these numbers already got this template in the last "
            f"{self.window_h:g} h: {jobs}{more}"
        )


def find_repeats(
    data_dir: Path,
    template_code: str,
    language: str,
    numbers: Iterable[str],
    *,
    window_h: float = DEFAULT_WINDOW_H,
    now: float | None = None,
    exclude: str | None = None,
) -> RepeatReport:
    """Earlier jobs (not ``exclude``) of ``template_code``/``language`` created within
    ``window_h`` hours that reached any of ``numbers`` (digits, as sent)."""
    if window_h <= 0 or not (data_dir / "journal.sqlite3").exists():
        return RepeatReport(window_h, [])
    since = (time.time() if now is None else now) - window_h * 3600
    wanted: set[str] | None = None
    repeats: list[Repeat] = []
    with Journal(data_dir) as journal:
        for job in journal.jobs():
            if job.created_at < since:
                break  # newest first
            if job.id == exclude or (job.options.template_code, job.options.language) != (template_code, language):
                continue
            if wanted is None:
                wanted = set(numbers)
            hits = 0
            for batch in journal.batches(job.id, _REACHED):
                for item in json.loads(journal.sender_list(job.id, batch.index)):
                    if item["To"] in wanted:
                        hits += 1
            if hits:
                repeats.append(Repeat(job.id, job.created_at, hits))
    return RepeatReport(window_h, repeats)
