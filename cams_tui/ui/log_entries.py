"""The send log's lines, without the widget: what the send state, the journal reads and the
log itself share (pure: no Textual here)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cams_tui.engine.events import BatchEvent
from cams_tui.untrusted import escape_controls

LogFilter = Literal["all", "problems", "unknown"]
FILTERS: tuple[LogFilter, ...] = ("all", "problems", "unknown")
"""The filters, in the order the filter key cycles through them."""

# What each outcome is called when the answer has no Code (a transport failure).
_OUTCOME_LABELS = {
    "ok": "OK",
    "throttled": "throttled",
    "not_sent": "not sent",
    "fatal": "fatal",
    "failed": "failed",
    "unknown": "no answer",
}


def _shown(text: str | None) -> str | None:
    return escape_controls(text) if text else text


@dataclass(frozen=True)
class LogEntry:
    """One request outcome as the log shows it."""

    time: float
    """When the outcome was known (UNIX time)."""
    index: int
    """The batch's index in its job."""
    size: int
    """Recipients in the batch."""
    outcome: str
    """``ok``, ``throttled``, ``not_sent``, ``fatal``, ``failed`` or ``unknown``."""
    http_status: int | None
    code: str | None
    message: str | None
    request_id: str | None
    group_message_id: str | None
    latency_ms: float | None
    attempt: int

    @classmethod
    def from_event(cls, event: BatchEvent, at: float) -> LogEntry:
        """The entry of a sender's batch event received at ``at``."""
        return cls(
            time=at,
            index=event.index,
            size=event.size,
            outcome=event.outcome,
            http_status=event.http_status,
            # What CAMS (or a middlebox) said, with its control characters shown, not obeyed.
            code=_shown(event.code),
            message=_shown(event.message),
            request_id=_shown(event.request_id),
            group_message_id=_shown(event.group_message_id),
            latency_ms=event.latency_ms,
            attempt=event.attempt,
        )

    @classmethod
    def from_attempt(cls, index: int, size: int, attempt: Mapping[str, Any]) -> LogEntry:
        """The entry of one journaled attempt (a row of ``Journal.attempts``)."""
        return cls(
            time=attempt.get("finished_at") or attempt["started_at"],
            index=index,
            size=size,
            outcome=attempt.get("outcome") or "unknown",
            http_status=attempt.get("http_status"),
            code=_shown(attempt.get("code")),
            message=_shown(attempt.get("message")),
            request_id=_shown(attempt.get("request_id")),
            group_message_id=_shown(attempt.get("group_message_id")),
            latency_ms=attempt.get("latency_ms"),
            attempt=attempt["attempt"],
        )

    @property
    def is_problem(self) -> bool:
        """Anything but a plain ``ok``."""
        return self.outcome != "ok"

    @property
    def label(self) -> str:
        """The response Code, or what happened when there was none."""
        return self.code or _OUTCOME_LABELS.get(self.outcome, self.outcome)

    def matches(self, log_filter: LogFilter) -> bool:
        """Whether the entry shows under ``log_filter``."""
        if log_filter == "problems":
            return self.is_problem
        if log_filter == "unknown":
            return self.outcome == "unknown"
        return True

    def clock_text(self) -> str:
        """The time of day, to the millisecond."""
        return time.strftime("%H:%M:%S", time.localtime(self.time)) + f".{int(self.time * 1000) % 1000:03d}"

    def cells(self) -> list[tuple[str, str]]:
        """The line's fields as ``(text, style role)`` pairs, role ``""`` for plain."""
        status = str(self.http_status) if self.http_status is not None else "---"
        latency = f"{self.latency_ms:,.0f} ms" if self.latency_ms is not None else "–"
        return [
            (self.clock_text(), "dim"),
            (f"  #{self.index:04d}", ""),
            (f"  {self.size:>5,}", ""),
            (f"  {status}", ""),
            (f"  {_fit(self.label, 22):<22}", self.outcome),
            (f"  {latency:>10}", "dim"),
            (f"  try {self.attempt:<2}", "dim"),
            (f"  req {_short(self.request_id, 8)}", "dim"),
            (f"  group {_short(self.group_message_id, 14)}", "dim"),
        ]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(value: str | None, width: int) -> str:
    if not value:
        return "—".ljust(width + 1)
    return (value[:width] + "…") if len(value) > width else value.ljust(width + 1)
