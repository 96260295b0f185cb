"""The account's shared budget: the rules every shared limiter applies atomically.

The state of one (account, operation) is kept where all its senders reach it (a file of
the host, Redis), and each change is one atomic step on it. The rules are the process
limiter's (:mod:`cams_tui.engine.ratelimit`), applied to every sender's starts at once:

- a start is *reserved* on one timeline for the account: at or after ``next_slot``
  (spacing ``1/rate``), after any throttle pause, and a full window (plus a margin) after
  the ``n``-th start before it. Reservations are served in the order asked, so N senders
  waiting together each get one start in N: a fair share without any negotiation;
- a reservation further away than ``HORIZON_S`` is not made (the sender asks again): a
  reservation is then never more than a second ahead, which bounds what a lost state may
  have forgotten;
- a Redis state that does not exist yet (a first use, or a restarted or flushed Redis) may
  have lost starts made a moment ago: its first start waits ``FRESH_HOLD_S``. The host's
  file has no such hold: every process of the host writes to it, and a missing row means
  that none of them started anything (a deleted file mid-send is the exception);
- a start that left later than reserved is moved to when it really left
  (:func:`shift`), so the start a window after it keeps its distance;
- the AIMD back-off is shared: a throttled answer pauses every sender and multiplies the
  account's ``factor`` (rate = ceiling x factor) by ``DECREASE_FACTOR``, once per
  *epoch* (the throttled answers of requests reserved before that decrease do not cut
  again); each answer that is not throttled adds ``INCREASE_SHARE`` back.

The Redis limiter runs the same rules in Lua (:mod:`cams_tui.engine.limiters.redis`).
This module is the reference, in Python, used by the host limiter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cams_tui.engine.ratelimit import DECREASE_FACTOR, INCREASE_SHARE

HORIZON_S = 1.0
"""The furthest ahead a start is reserved."""
FRESH_HOLD_S = 2.2
"""A new state's first start waits this long: a second of reservations ahead plus a window
and a margin, all that a lost state may have held."""
KEEP_STARTS_S = 3.0
"""Starts older than this no longer matter (windows are at most 2 s at the lowest rate)."""
SENDER_TTL_S = 3.0
"""A sender that reserved nothing for this long no longer counts as sharing the account."""


@dataclass(frozen=True)
class Reservation:
    """The answer to a reservation: when to start (``wait_s`` from now), or, when ``id`` is
    ``None``, when to ask again; the account's ``factor`` and ``epoch`` at that moment and
    the number of senders active on it."""

    id: str | None
    wait_s: float
    factor: float
    epoch: int
    senders: int


@dataclass(frozen=True)
class Pacing:
    """A sender's parameters for one reservation."""

    ceiling: float
    min_rate: float
    margin_s: float
    cold_margin_s: float


@dataclass
class WindowState:
    """One (account, operation)'s shared state, as the host limiter stores it (JSON)."""

    factor: float = 1.0
    epoch: int = 0
    paused_until: float = 0.0
    next_slot: float = 0.0
    hold_until: float = 0.0
    seq: int = 0
    starts: dict[str, float] = field(default_factory=dict)
    senders: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fresh(cls, now: float, hold_s: float = FRESH_HOLD_S) -> WindowState:
        """A state that knows nothing of the last moments: its first start waits ``hold_s``."""
        return cls(hold_until=now + hold_s)

    @classmethod
    def from_json(cls, data: dict[str, Any], now: float) -> WindowState:
        """Read a stored state; one from another boot (times far ahead of ``now``, as
        after a restart of the monotonic clock) starts anew: no process of that boot is
        left to have started anything."""
        state = cls(**data)
        latest = max([state.next_slot, state.paused_until, state.hold_until, *state.starts.values()])
        if latest > now + 60 + FRESH_HOLD_S:
            return cls.fresh(now, 0.0)
        return state

    def to_json(self) -> dict[str, Any]:
        """The state as stored."""
        return {
            "factor": self.factor,
            "epoch": self.epoch,
            "paused_until": self.paused_until,
            "next_slot": self.next_slot,
            "hold_until": self.hold_until,
            "seq": self.seq,
            "starts": self.starts,
            "senders": self.senders,
        }

    def _prune(self, now: float) -> None:
        self.starts = {key: at for key, at in self.starts.items() if at >= now - KEEP_STARTS_S}
        self.senders = {key: seen for key, seen in self.senders.items() if seen >= now - SENDER_TTL_S}

    def reserve(self, now: float, sender: str, pacing: Pacing) -> Reservation:
        """Reserve the next start for ``sender`` (see the module's rules)."""
        self._prune(now)
        self.senders[sender] = now
        rate = max(pacing.ceiling * self.factor, pacing.min_rate)
        n = max(1, math.floor(rate))
        window = n / rate
        at = max(now, self.next_slot, self.paused_until, self.hold_until)
        times = sorted(self.starts.values())
        if len(times) >= n:
            at = max(at, times[-n] + window + pacing.margin_s)
        if at - now > HORIZON_S:
            return Reservation(None, HORIZON_S, self.factor, self.epoch, len(self.senders))
        stamp = at
        if not times or times[-1] < at - 2 * window:
            # A cold connection and a cold server path make the first start after a quiet
            # spell arrive later than those a second after it.
            stamp += pacing.cold_margin_s
        self.seq += 1
        key = str(self.seq)
        self.starts[key] = stamp
        self.next_slot = at + 1 / rate
        return Reservation(key, at - now, self.factor, self.epoch, len(self.senders))

    def shift(self, key: str, by_s: float) -> None:
        """Move a start later: it left (or reached the server) ``by_s`` after its time."""
        if key in self.starts and by_s > 0:
            self.starts[key] += by_s

    def throttle(self, now: float, epoch: int, pause_s: float, min_factor: float) -> bool:
        """A throttled answer to a request reserved in ``epoch``: pause every start; cut the
        factor if no other throttled answer did since. Returns whether it was cut."""
        self.paused_until = max(self.paused_until, now + pause_s)
        if epoch != self.epoch:
            return False
        self.factor = max(min_factor, self.factor * DECREASE_FACTOR)
        self.epoch += 1
        return True

    def succeed(self) -> None:
        """An answer that was not throttled: the factor climbs back a little."""
        self.factor = min(1.0, self.factor + INCREASE_SHARE)

    def active_senders(self, now: float) -> int:
        """Senders that reserved a start in the last ``SENDER_TTL_S``."""
        self._prune(now)
        return len(self.senders)

    def leave(self, sender: str) -> None:
        """The sender is done: it no longer counts."""
        self.senders.pop(sender, None)
