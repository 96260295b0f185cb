"""The service's flow control: at most N calls in any sliding 1-second window.

One window per (AccessKey, operation): operations never use up each other's budget.
Only admitted calls count; a refused call does not push the window forward.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindowLimiter:
    """Admits a call if fewer than ``limit`` calls were admitted in the last ``window_s``."""

    def __init__(self, window_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._clock = clock
        self._starts: dict[Hashable, deque[float]] = {}

    def try_acquire(self, key: Hashable, limit: int) -> int | None:
        """Admit one call under ``key``: ``None`` if admitted, else milliseconds to wait."""
        now = self._clock()
        starts = self._starts.setdefault(key, deque())
        horizon = now - self._window_s
        while starts and starts[0] <= horizon:
            starts.popleft()
        if len(starts) < limit:
            starts.append(now)
            return None
        # The oldest start leaves the window at starts[0] + window_s; the epsilon keeps
        # float noise (0.4000000001 s) from adding a millisecond.
        return max(1, math.ceil((starts[0] + self._window_s - now) * 1000 - 1e-6))
