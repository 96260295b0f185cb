"""The send log's lines, without the widget: what the send state, the journal reads and the
log itself share (pure: no Textual here)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
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


# The answer's texts that come from CAMS (or a middlebox): shown with their control
# characters made visible, never obeyed by the terminal.
_UNTRUSTED_FIELDS = ("code", "message", "request_id", "group_message_id")


@dataclass(frozen=True)
class LogEntry(BatchEvent):
    """One request outcome as the log shows it: the engine's :class:`BatchEvent` (its
    fields are the entry's), with CAMS's texts made safe to show, and when it was known."""

    time: float = field(kw_only=True)
    """When the outcome was known (UNIX time)."""

    @classmethod
    def from_event(cls, event: BatchEvent, at: float) -> LogEntry:
        """The entry of a sender's batch event received at ``at``."""
        values = {f.name: getattr(event, f.name) for f in fields(BatchEvent) if f.init}
        values.update({name: _shown(values[name]) for name in _UNTRUSTED_FIELDS})
        return cls(**values, time=at)

    @classmethod
    def from_attempt(cls, job_id: str, index: int, size: int, attempt: Mapping[str, Any]) -> LogEntry:
        """The entry of one journaled attempt (a row of ``Journal.attempts``) of batch ``index``."""
        return cls.from_event(
            BatchEvent(
                job_id=job_id,
                index=index,
                size=size,
                outcome=attempt.get("outcome") or "unknown",
                http_status=attempt.get("http_status"),
                code=attempt.get("code"),
                message=attempt.get("message"),
                request_id=attempt.get("request_id"),
                group_message_id=attempt.get("group_message_id"),
                attempt=attempt["attempt"],
                latency_ms=attempt.get("latency_ms"),
            ),
            attempt.get("finished_at") or attempt["started_at"],
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
