"""Waiting for a moment (a job's start, its delivery window's next opening), telling the time left."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from cams_tui.engine.events import ScheduleEvent
from cams_tui.schedule import JobSchedule

SCHEDULE_TICK_S = 1.0
"""How often a scheduled run tells how long is left (and looks at the clock again: a
machine that slept through the start time sends when it wakes)."""


async def count_down(
    job_id: str,
    schedule: JobSchedule,
    cancel: asyncio.Event,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    emit: Callable[[ScheduleEvent], None],
    cancelled: Callable[[], bool],
    waiting_for: str = "start",
    recipients: int = 0,
) -> bool:
    """Sleep until ``schedule``'s moment, emitting the time left about every second;
    ``False`` when ``cancel`` was set and ``cancelled()`` says the run was cancelled."""

    def event(stage: str, left: float) -> ScheduleEvent:
        return ScheduleEvent(
            job_id, stage, schedule.at, schedule.describe(), left, waiting_for=waiting_for, recipients=recipients
        )

    while (left := schedule.at - clock()) > 0:
        emit(event("waiting", left))
        nap = asyncio.ensure_future(sleep(min(left, SCHEDULE_TICK_S)))
        stop = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait((nap, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            nap.cancel()
            stop.cancel()
        if cancelled():
            emit(event("cancelled", max(left, 0.0)))
            return False
    emit(event("starting", 0.0))
    return True
