"""Which batches a job's delivery window lets go now, and when the next one opens."""

from __future__ import annotations

from collections.abc import Callable

from cams_tui.schedule import DeliveryWindow


class WindowGate:
    """Which of a job's batches its delivery window lets go at the clock's time: the
    Sender's ``eligible`` filter, and when the next of those waiting opens."""

    def __init__(self, window: DeliveryWindow, clock: Callable[[], float]) -> None:
        self.window = window
        self._clock = clock

    def __call__(self, zones: tuple[str, ...] | None) -> bool:
        """Whether a batch kept in ``zones`` (``None``: any time) may be sent now."""
        return zones is None or self.window.is_open(zones, self._clock())

    def next_opening(self, waiting: list[tuple[str, ...] | None]) -> float | None:
        """The soonest opening among batches in these zones; ``None``: never."""
        now = self._clock()
        openings = [
            moment
            for zones in dict.fromkeys(waiting)
            if (moment := now if zones is None else self.window.next_open(zones, now)) is not None
        ]
        return min(openings, default=None)
