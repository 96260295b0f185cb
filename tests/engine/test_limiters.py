"""The account limiters in one process: the host file and a real Redis as stores."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cams_tui.config import Profile, Settings
from cams_tui.engine.limiters.base import Limiter, LimiterNotice
from cams_tui.engine.limiters.factory import account_key, account_usage, build_limiter, check_limiter_spec
from cams_tui.engine.limiters.host import FILE_NAME, HostStore
from cams_tui.engine.limiters.redis import ENV_REDIS_PASSWORD, RedisStore
from cams_tui.engine.limiters.shared import SharedLimiter
from cams_tui.engine.limiters.window import FRESH_HOLD_S
from cams_tui.engine.ratelimit import RateChange, RateLimiter
from cams_tui.tables import TableError
from tests.support.limiters import busiest_window, lock_file_for, redis_server


async def _starts(limiter: Limiter, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await limiter.ready(0.05)
        permit = await limiter.acquire()
        permit.started()
        times.append(time.monotonic())
    return times


def test_every_limiter_offers_the_interface(tmp_path: Path) -> None:
    for spec in ("process", "host", "redis://127.0.0.1:1/0"):
        assert isinstance(build_limiter(spec, 10, account="A", data_dir=tmp_path), Limiter)


async def test_host_limiters_share_one_window_fairly(tmp_path: Path) -> None:
    limiters = [build_limiter("host", 20, account="acct", data_dir=tmp_path) for _ in range(3)]
    results = await asyncio.gather(*(_starts(limiter, 12) for limiter in limiters))
    every = [at for times in results for at in times]
    assert busiest_window(every) <= 20
    # Served in turn: of the first 18 starts, each limiter had about a third.
    first = sorted((at, number) for number, times in enumerate(results) for at in times)[:18]
    assert all(5 <= sum(1 for _, n in first if n == number) <= 7 for number in range(3))
    assert {limiter.sharing().senders for limiter in limiters} == {3}
    assert limiters[0].sharing().share == pytest.approx(1 / 3)
    for limiter in limiters:
        await limiter.aclose()


async def test_accounts_and_operations_have_budgets_of_their_own(tmp_path: Path) -> None:
    first = build_limiter("host", 10, account="acct", data_dir=tmp_path)
    await _starts(first, 1)
    assert (await account_usage("host", account="acct", access_key_id="LTAI", data_dir=tmp_path)).senders == 1
    other_account = build_limiter("host", 10, account="other", data_dir=tmp_path)
    other_operation = build_limiter("host", 10, account="acct", data_dir=tmp_path, operation="ListChatappMessage")
    assert other_account.sharing().senders == 1
    await _starts(other_account, 1)
    await _starts(other_operation, 1)
    assert other_account.sharing().senders == other_operation.sharing().senders == 1
    for limiter in (first, other_account, other_operation):
        await limiter.aclose()
    assert (await account_usage("host", account="acct", access_key_id="LTAI", data_dir=tmp_path)).senders == 0


async def test_one_throttle_slows_every_sender_once(tmp_path: Path) -> None:
    a = build_limiter("host", 10, account="acct", data_dir=tmp_path)
    b = build_limiter("host", 10, account="acct", data_dir=tmp_path)
    changes: list[RateChange] = []
    b.on_change = changes.append
    await _starts(a, 1)
    await _starts(b, 1)
    started = a.now()
    # Two answers to requests reserved in the same epoch: one cut, not two.
    a.throttled(0.2, started)
    a.throttled(0.2, started)
    await asyncio.sleep(0.05)
    await _starts(b, 1)
    assert b.rate == pytest.approx(7.0)
    assert changes and changes[0].reason == "throttled"
    for _ in range(20):
        b.succeeded()
        await asyncio.sleep(0.01)
    assert b.rate == pytest.approx(10.0)
    assert changes[-1].reason == "recovered"
    await a.aclose()
    await b.aclose()


async def test_unreachable_host_file_pauses_then_goes_on_by_itself(tmp_path: Path) -> None:
    limiter = build_limiter("host", 10, account="acct", data_dir=tmp_path)
    notices: list[LimiterNotice] = []
    limiter.on_notice = notices.append
    await _starts(limiter, 1)
    locked_at = time.monotonic()
    thread = lock_file_for(tmp_path / FILE_NAME, 2.0)
    (started,) = await _starts(limiter, 1)
    thread.join()
    assert started >= locked_at + 2.0
    states = [notice.state for notice in notices]
    assert states == ["unavailable", "available"]
    assert "cannot be used" in notices[0].reason and "no request starts" in notices[0].reason
    await limiter.aclose()


async def test_use_local_goes_on_at_a_share_of_the_rate(tmp_path: Path) -> None:
    limiter = build_limiter("host", 10, account="acct", data_dir=tmp_path)
    assert isinstance(limiter, SharedLimiter)
    notices: list[LimiterNotice] = []
    limiter.on_notice = notices.append
    await _starts(limiter, 1)
    thread = lock_file_for(tmp_path / FILE_NAME, 3.0)
    waiting = asyncio.ensure_future(_starts(limiter, 4))
    await asyncio.sleep(1.3)
    assert not waiting.done() and limiter.unavailable
    limiter.use_local(2)
    times = await asyncio.wait_for(waiting, 5)
    thread.join()
    assert limiter.local and limiter.rate == pytest.approx(5.0)
    assert times[-1] - times[0] >= 3 / 5 - 0.02  # paced at 5/s, not 10/s
    assert [n.state for n in notices] == ["unavailable", "local"]
    assert limiter.sharing().senders == 2 and limiter.sharing().share == 0.5
    await limiter.aclose()


async def test_a_new_redis_state_holds_its_first_start_the_host_file_does_not(tmp_path: Path) -> None:
    host = SharedLimiter(HostStore(tmp_path, "acct", "SendChatappMassMessage"), 10, account="acct")
    begun = time.monotonic()
    (first,) = await _starts(host, 1)
    assert first - begun < 0.5
    await host.aclose()
    with redis_server(tmp_path / "redis") as redis:
        limiter = build_limiter(redis.url, 10, account="acct", data_dir=tmp_path)
        begun = time.monotonic()
        (first,) = await _starts(limiter, 1)
        assert first - begun >= FRESH_HOLD_S - 0.05
        await limiter.aclose()


async def test_redis_limiters_share_one_window(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        limiters = [build_limiter(redis.url, 20, account="acct", data_dir=tmp_path / str(n)) for n in range(3)]
        results = await asyncio.gather(*(_starts(limiter, 10) for limiter in limiters))
        assert busiest_window([at for times in results for at in times]) <= 20
        assert {limiter.sharing().senders for limiter in limiters} == {3}
        usage = await account_usage(redis.url, account="acct", access_key_id="LTAIkey", data_dir=tmp_path)
        assert (usage.account, usage.source, usage.senders) == ("acct", "profile", 3)
        for limiter in limiters:
            await limiter.aclose()


async def test_redis_password_from_the_environment_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-Redis-pw"
    with redis_server(tmp_path / "redis", password=secret) as redis:
        monkeypatch.setenv(ENV_REDIS_PASSWORD, "wrong-password")
        wrong = build_limiter(redis.url, 10, account="acct", data_dir=tmp_path)
        notices: list[LimiterNotice] = []
        wrong.on_notice = notices.append
        task = asyncio.ensure_future(_starts(wrong, 1))
        await asyncio.sleep(0.5)
        assert not task.done()
        assert notices[0].state == "unavailable" and "refused the password" in notices[0].reason
        task.cancel()
        await wrong.aclose()

        monkeypatch.setenv(ENV_REDIS_PASSWORD, secret)
        right = build_limiter(redis.url, 10, account="acct", data_dir=tmp_path)
        await _starts(right, 2)
        await right.aclose()
        in_url = build_limiter(f"redis://:{secret}@127.0.0.1:{redis.port}/0", 10, account="acct", data_dir=tmp_path)
        monkeypatch.delenv(ENV_REDIS_PASSWORD)
        await _starts(in_url, 1)
        shown = [in_url.sharing().limiter, repr(in_url.sharing()), *(n.reason for n in notices)]
        assert all(secret not in text and "wrong-password" not in text for text in shown)
        assert in_url.sharing().limiter == f"redis://127.0.0.1:{redis.port}/0"
        await in_url.aclose()
    assert secret not in repr(Profile(limiter=f"redis://:{secret}@host:6379/0"))


async def test_unreachable_redis_says_why(tmp_path: Path) -> None:
    store = RedisStore("redis://127.0.0.1:1/0", "acct", "SendChatappMassMessage")
    usage = await account_usage("redis://127.0.0.1:1/0", account="team", access_key_id="LTAI", data_dir=tmp_path)
    assert usage.senders is None and "cannot be reached" in (usage.error or "")
    assert (usage.account, usage.source) == ("team", "profile")
    await store.aclose()


def test_limiter_setting_is_checked() -> None:
    for good in ("process", "host", "redis://h:6379/0", "rediss://:pw@h:6380/2", "redis://h"):
        assert check_limiter_spec(good) == good
    for bad, says in (("hots", "must be"), ("redis://h:port/0", "port"), ("redis://h:1/x", "database number")):
        with pytest.raises(ValueError, match=says):
            check_limiter_spec(bad)
    with pytest.raises(TableError, match="limiter"):
        Settings.from_table({"profiles": {"w": {"limiter": "everywhere"}}})
    profile = Settings.from_table({"profiles": {"w": {"limiter": "process", "account": "team"}}}).profiles["w"]
    assert (profile.limiter, profile.account) == ("process", "team")
    assert Profile().limiter == "host" and Profile().account is None
    assert account_key(None, "LTAIabc").key == "LTAIabc" and account_key("team", "LTAIabc").key == "team"


def test_the_process_limiter_is_alone() -> None:
    sharing = RateLimiter(10, account="A").sharing()
    assert (sharing.limiter, sharing.senders, sharing.share) == ("process", 1, 1.0)


