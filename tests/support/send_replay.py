"""A fixed run of engine events for the send monitor: no engine, times of their own."""

from __future__ import annotations

from cams_tui.engine.events import BatchEvent, Event, PlanEvent, ProgressEvent, RateEvent
from cams_tui.ui.send_target import BatchTally, Stamped

JOB = "20260101-100000-7f3a"
START = 1_767_261_600.0  # 2026-01-01 10:00:00 UTC


def _batch(index: int, outcome: str, status: int | None, code: str | None, attempt: int = 1) -> BatchEvent:
    ok = outcome == "ok"
    return BatchEvent(
        job_id=JOB,
        index=index,
        size=1000,
        outcome=outcome,
        http_status=status,
        code=code,
        message=None if ok else f"{code or 'no answer'}: the request was not accepted",
        request_id=f"{index:08X}-8C1E-4E0B-9D6A-5F2B7C1D{attempt:04d}" if status else None,
        group_message_id=f"89000001000{index:05d}" if ok else None,
        attempt=attempt,
        latency_ms=180.0 + (index * 37) % 90 if status else 30000.0,
    )


def replay_events() -> list[Stamped]:
    """A job of 48,213 recipients, 31 batches in: throttling, a 503, a failure, a rate cut."""
    events: list[Event | BatchTally] = [
        PlanEvent(JOB, 48_213, 312, 12, 4, 49, 48_213, 49, 10.0),
        BatchTally({"planned": 49}),
    ]
    settled = {"ok": 0, "failed": 0, "unknown": 0}
    for index in range(31):
        if index == 12:
            events.append(_batch(index, "throttled", 400, "System.LimitControl"))
            events.append(RateEvent(JOB, 7.0, 10.0, "throttled", 0.2))
            events.append(_batch(index, "ok", 200, "OK", attempt=2))
        elif index == 20:
            events.append(_batch(index, "unknown", 503, "ServiceUnavailable"))
        elif index == 25:
            events.append(_batch(index, "failed", 400, "InvalidParameter.PhoneNumberError"))
        elif index == 28:
            events.append(_batch(index, "unknown", None, None))
        else:
            events.append(_batch(index, "ok", 200, "OK"))
        outcome = events[-1].outcome  # type: ignore[union-attr]
        settled[outcome] += 1000
        elapsed = 0.1 * (index + 1) * 10
        events.append(
            ProgressEvent(
                JOB, 48_213, settled["ok"], settled["failed"], settled["unknown"],
                48_213 - sum(settled.values()), 3, 7.0 if index >= 12 else 10.0,
                min(9.9, 2 + index), 9_900.0, elapsed, round((48_213 - sum(settled.values())) / 9_900, 1),
            )
        )
    events.append(RateEvent(JOB, 8.1, 7.0, "recovered", 0.0))
    return [(START + 0.1 * i, event) for i, event in enumerate(events)]
