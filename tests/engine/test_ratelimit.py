"""The account-wide limiter: exact against a strict sliding window, no start burst, AIMD."""

from __future__ import annotations

import asyncio
import time

import pytest

from cams_tui.engine.ratelimit import DECREASE_FACTOR, RateChange, RateLimiter


class FakeTime:
    """A clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 1e-4)  # a yield takes a little time too


def max_in_any_window(stamps: list[float], window: float = 1.0) -> int:
    """The most starts any half-open window [t, t + window) holds (the server's view)."""
    best = 0
    j = 0
    for i, start in enumerate(stamps):
        while stamps[j] <= start - window:
            j += 1
        best = max(best, i - j + 1)
    return best


async def _starts(limiter: RateLimiter, fake: FakeTime, count: int) -> list[float]:
    stamps = []
    for _ in range(count):
        permit = await limiter.acquire()
        permit.started()
        stamps.append(fake.now)
    return stamps


@pytest.mark.parametrize("rate", [1, 3, 10, 50])
async def test_never_more_than_rate_in_any_window_and_no_start_burst(rate: int) -> None:
    fake = FakeTime()
    limiter = RateLimiter(rate, clock=fake.clock, sleep=fake.sleep)
    stamps = await _starts(limiter, fake, rate * 10)
    assert max_in_any_window(stamps) == rate
    # The first second holds `rate` starts, not a bucket's burst of ~2 x rate.
    assert sum(1 for s in stamps if s < stamps[0] + 1.0) == rate
    # And the pace is the ceiling, less the safety margin only (>= 98 %).
    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert rate * 0.98 <= achieved <= rate


async def test_the_window_counts_from_real_departures() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2, margin_s=0.01, cold_margin_s=0.0, clock=fake.clock, sleep=fake.sleep)
    (await limiter.acquire()).started()  # t = 0
    permit = await limiter.acquire()  # t = 0.5
    fake.now += 0.2  # slow local work between the grant and the wire
    permit.started()  # left at 0.7
    await limiter.acquire()
    assert fake.now == pytest.approx(1000 + 1.01)  # a second after the first departure
    await limiter.acquire()
    assert fake.now == pytest.approx(1000.7 + 1.01)  # a second after the late one


async def test_a_cold_start_gets_an_allowance() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, margin_s=0.01, cold_margin_s=0.05, clock=fake.clock, sleep=fake.sleep)
    stamps = await _starts(limiter, fake, 11)
    assert stamps[10] - stamps[0] == pytest.approx(1.06, abs=1e-3)
    fake.now += 5  # quiet: the next start is cold again, and goes at once
    before = fake.now
    await limiter.acquire()
    assert fake.now == before


async def test_no_burst_after_a_late_wake_up() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep)
    await limiter.acquire()
    fake.now += 0.35  # the loop was busy: three slots were missed
    stamps = await _starts(limiter, fake, 4)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= 0.05 - 1e-9


async def test_concurrent_waiters_share_the_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep)
    stamps: list[float] = []

    async def one() -> None:
        (await limiter.acquire()).started()
        stamps.append(fake.now)

    await asyncio.gather(*(one() for _ in range(40)))
    assert max_in_any_window(sorted(stamps)) == 10


async def test_throttled_pauses_for_retry_after_and_lowers_the_rate() -> None:
    fake = FakeTime()
    changes: list[RateChange] = []
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep, on_change=changes.append)
    await limiter.acquire()
    limiter.throttled(0.75, started_at=fake.now)
    before = fake.now
    await limiter.acquire()
    assert fake.now - before >= 0.75
    assert limiter.rate == pytest.approx(10 * DECREASE_FACTOR)
    assert changes == [RateChange(pytest.approx(7.0), 10.0, "throttled", 0.75)]


async def test_one_volley_of_throttles_lowers_the_rate_once() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep)
    started = fake.now
    fake.now += 0.1
    limiter.throttled(None, started_at=started)
    fake.now += 0.01
    limiter.throttled(None, started_at=started)  # in flight before the decrease
    assert limiter.rate == pytest.approx(7.0)
    fake.now += 2
    limiter.throttled(None, started_at=fake.now)  # a new one, started after
    assert limiter.rate == pytest.approx(4.9)


async def test_rate_never_drops_below_the_floor() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, min_rate=2, clock=fake.clock, sleep=fake.sleep)
    for _ in range(20):
        fake.now += 5
        limiter.throttled(0, started_at=fake.now)
    assert limiter.rate == 2


async def test_climbs_back_to_the_ceiling_and_says_so() -> None:
    fake = FakeTime()
    changes: list[RateChange] = []
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep, on_change=changes.append)
    limiter.throttled(0, started_at=fake.now)
    answers = 0
    while limiter.rate < 10:
        limiter.succeeded()
        answers += 1
    # About +1 call/s per second of answers at the lowered rate: a few seconds' worth.
    assert answers < 40
    assert [c.reason for c in changes] == ["throttled", "recovered"]
    assert limiter.rate == limiter.ceiling == 10


async def test_real_clock_pace() -> None:
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _ in range(51):
        (await limiter.acquire()).started()
    assert time.monotonic() - started >= 1.0


def test_rejects_a_rate_of_zero() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


async def test_a_slow_answer_counts_its_start_later() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2, margin_s=0.01, cold_margin_s=0.0, clock=fake.clock, sleep=fake.sleep)
    first = await limiter.acquire()
    first.started()
    first.answered(0.25)  # the usual latency
    second = await limiter.acquire()  # t = 0.5
    second.started()
    second.answered(0.45)  # 0.2 s slower than usual: it may have reached the server late
    await limiter.acquire()
    assert fake.now == pytest.approx(1000 + 1.01)
    await limiter.acquire()
    assert fake.now == pytest.approx(1000.5 + 0.2 + 1.01)


async def test_ready_wakes_a_lead_before_the_slot() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep)
    await limiter.acquire()
    await limiter.ready(0.06)
    assert fake.now == pytest.approx(1000 + 0.1 - 0.06)
    await limiter.acquire()
    assert fake.now == pytest.approx(1000.1)
