"""The host limiter's store: one SQLite file in the data dir, shared by every process.

Each step is one ``BEGIN IMMEDIATE`` transaction: it takes the file's write lock, reads the
(account, operation)'s state, applies :mod:`cams_tui.engine.limiters.window`'s rule and
writes it back, so the processes of the host take turns. Times are the host's monotonic
clock, the same for every process of it. Nothing here needs to survive a power cut (no
process that started anything survives one either): the file is written without fsync.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cams_tui.engine.limiters.shared import LimiterUnavailable
from cams_tui.engine.limiters.window import Pacing, Reservation, WindowState

FILE_NAME = "limiter.sqlite"
# Transactions take well under a millisecond: a lock held longer than this is a stuck or
# foreign process, reported as the limiter being unavailable.
BUSY_TIMEOUT_MS = 1000

T = TypeVar("T")


class HostStore:
    """The budget of one (account, operation) in ``data_dir / limiter.sqlite``."""

    description = "host"

    def __init__(
        self, data_dir: Path, account: str, operation: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._key = f"{account}\x1f{operation}"
        self._clock = clock
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=OFF")
                connection.execute("CREATE TABLE IF NOT EXISTS budgets (key TEXT PRIMARY KEY, state TEXT NOT NULL)")
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _step(self, change: Callable[[WindowState, float], T]) -> T:
        try:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()
                row = connection.execute("SELECT state FROM budgets WHERE key = ?", (self._key,)).fetchone()
                state = WindowState.from_json(json.loads(row[0]), now) if row else WindowState.fresh(now, 0.0)
                result = change(state, now)
                connection.execute(
                    "INSERT OR REPLACE INTO budgets (key, state) VALUES (?, ?)",
                    (self._key, json.dumps(state.to_json(), separators=(",", ":"))),
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            return result
        except (sqlite3.Error, OSError, ValueError, TypeError) as exc:
            self._drop()
            raise LimiterUnavailable(f"the host's limiter file {self.path} cannot be used ({exc})") from None

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except sqlite3.Error:
                pass
            self._connection = None

    async def reserve(self, sender: str, pacing: Pacing) -> Reservation:
        """Reserve the next start."""
        return self._step(lambda state, now: state.reserve(now, sender, pacing))

    async def shift(self, key: str, by_s: float) -> None:
        """Move a reserved start later."""
        self._step(lambda state, now: state.shift(key, by_s))

    async def throttle(self, epoch: int, pause_s: float, min_factor: float) -> float:
        """Record a throttled answer; returns the account's factor."""

        def change(state: WindowState, now: float) -> float:
            state.throttle(now, epoch, pause_s, min_factor)
            return state.factor

        return self._step(change)

    async def succeed(self) -> float:
        """Record an answer that was not throttled; returns the account's factor."""

        def change(state: WindowState, now: float) -> float:
            state.succeed()
            return state.factor

        return self._step(change)

    async def senders(self) -> int:
        """How many senders are active on the account now."""
        return self._step(lambda state, now: state.active_senders(now))

    async def leave(self, sender: str) -> None:
        """The sender is done."""
        self._step(lambda state, now: state.leave(sender))

    async def aclose(self) -> None:
        """Close the file."""
        self._drop()
