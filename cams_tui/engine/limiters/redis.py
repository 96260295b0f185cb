"""The Redis limiter's store: the account's budget in Redis, for senders on many hosts.

Every step is one Lua script run atomically by the server, on the server's clock
(``TIME``): the senders' clocks never need to agree. The rules are those of
:mod:`cams_tui.engine.limiters.window`. The keys name the account and the operation, with
the pair in braces so that a cluster keeps them together::

    cams-tui:{<account>|<operation>}:state     hash: factor, epoch, paused_until, next_slot, hold_until, seq
    cams-tui:{<account>|<operation>}:starts    sorted set: reserved start -> its time
    cams-tui:{<account>|<operation>}:senders   sorted set: sender -> when it last reserved

They expire after a day unused. A password comes from the URL (``redis://:pw@host``) or
from ``CAMS_TUI_REDIS_PASSWORD``; it is never part of :attr:`RedisStore.description`, of a
message or of a key.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from cams_tui.engine.limiters.shared import LimiterUnavailable
from cams_tui.engine.limiters.window import (
    FRESH_HOLD_S,
    HORIZON_S,
    KEEP_STARTS_S,
    SENDER_TTL_S,
    Pacing,
    Reservation,
)
from cams_tui.engine.ratelimit import DECREASE_FACTOR, INCREASE_SHARE

ENV_REDIS_PASSWORD = "CAMS_TUI_REDIS_PASSWORD"
KEY_TTL_S = 86_400
# A Redis that does not answer within this is unavailable (the send pauses).
SOCKET_TIMEOUT_S = 1.0

SCRIPT = """
local state, starts, senders = KEYS[1], KEYS[2], KEYS[3]
local op = ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local ttl = tonumber(ARGV[2])
if redis.call('EXISTS', state) == 0 then
  -- Nothing known of the last moments (first use, restart, flush): hold the first start.
  redis.call('HSET', state, 'factor', 1, 'epoch', 0, 'paused_until', 0, 'next_slot', 0,
             'hold_until', now + tonumber(ARGV[3]), 'seq', 0)
end
local function get(name) return tonumber(redis.call('HGET', state, name)) end
local function keep()
  redis.call('EXPIRE', state, ttl)
  redis.call('EXPIRE', starts, ttl)
  redis.call('EXPIRE', senders, ttl)
end
local function prune()
  redis.call('ZREMRANGEBYSCORE', starts, '-inf', '(' .. string.format('%.6f', now - tonumber(ARGV[4])))
  redis.call('ZREMRANGEBYSCORE', senders, '-inf', '(' .. string.format('%.6f', now - tonumber(ARGV[5])))
end
local function fmt(x) return string.format('%.6f', x) end

if op == 'reserve' then
  local sender, ceiling, min_rate = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
  local margin, cold, horizon = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
  prune()
  redis.call('ZADD', senders, now, sender)
  local factor, epoch = get('factor'), get('epoch')
  local rate = math.max(ceiling * factor, min_rate)
  local n = math.max(1, math.floor(rate))
  local window = n / rate
  local at = math.max(now, get('next_slot'), get('paused_until'), get('hold_until'))
  if redis.call('ZCARD', starts) >= n then
    local nth = redis.call('ZREVRANGE', starts, n - 1, n - 1, 'WITHSCORES')
    at = math.max(at, tonumber(nth[2]) + window + margin)
  end
  local active = redis.call('ZCARD', senders)
  keep()
  if at - now > horizon then
    return {'', fmt(horizon), fmt(factor), epoch, active}
  end
  local stamp = at
  local last = redis.call('ZREVRANGE', starts, 0, 0, 'WITHSCORES')
  if #last == 0 or tonumber(last[2]) < at - 2 * window then stamp = stamp + cold end
  local id = redis.call('HINCRBY', state, 'seq', 1)
  redis.call('ZADD', starts, fmt(stamp), id)
  redis.call('HSET', state, 'next_slot', fmt(at + 1 / rate))
  return {tostring(id), fmt(at - now), fmt(factor), epoch, active}
elseif op == 'shift' then
  local id, by = ARGV[6], tonumber(ARGV[7])
  if by > 0 and redis.call('ZSCORE', starts, id) then redis.call('ZINCRBY', starts, fmt(by), id) end
  keep()
  return 1
elseif op == 'throttle' then
  local epoch, pause, min_factor = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  redis.call('HSET', state, 'paused_until', fmt(math.max(get('paused_until'), now + pause)))
  if epoch == get('epoch') then
    redis.call('HSET', state, 'factor', fmt(math.max(min_factor, get('factor') * tonumber(ARGV[9]))),
               'epoch', epoch + 1)
  end
  keep()
  return fmt(get('factor'))
elseif op == 'succeed' then
  redis.call('HSET', state, 'factor', fmt(math.min(1, get('factor') + tonumber(ARGV[6]))))
  keep()
  return fmt(get('factor'))
elseif op == 'senders' then
  prune()
  keep()
  return redis.call('ZCARD', senders)
elseif op == 'leave' then
  redis.call('ZREM', senders, ARGV[6])
  return 1
end
return redis.error_reply('unknown limiter step ' .. tostring(op))
"""


def describe_url(url: str) -> str:
    """The URL without its user and password: what may be shown and logged."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    shown = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{shown}{port}{parts.path or ''}"


class RedisStore:
    """The budget of one (account, operation) in the Redis at ``url``."""

    def __init__(self, url: str, account: str, operation: str, *, environ: dict[str, str] | None = None) -> None:
        # For start-up time: redis loads only for a Redis limiter.
        import redis.asyncio as aioredis  # only needed for this limiter

        env = os.environ if environ is None else environ
        self.description = describe_url(url)
        password = None if urlsplit(url).password else (env.get(ENV_REDIS_PASSWORD) or None)
        self._client: Any = aioredis.Redis.from_url(
            url,
            password=password,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        tag = "{" + f"{account}|{operation}" + "}"
        self._keys = [f"cams-tui:{tag}:state", f"cams-tui:{tag}:starts", f"cams-tui:{tag}:senders"]
        self._script = self._client.register_script(SCRIPT)

    async def _run(self, op: str, *args: object) -> Any:
        # For start-up time: redis loads only for a Redis limiter.
        import redis.exceptions as errors

        argv: list[str | int | float]
        argv = [op, KEY_TTL_S, repr(FRESH_HOLD_S), repr(KEEP_STARTS_S), repr(SENDER_TTL_S), *map(_arg, args)]
        try:
            return await self._script(keys=self._keys, args=argv)
        except errors.AuthenticationError:
            raise LimiterUnavailable(f"Redis at {self.description} refused the password") from None
        except (errors.ConnectionError, errors.TimeoutError, errors.BusyLoadingError, OSError) as exc:
            raise LimiterUnavailable(f"Redis at {self.description} cannot be reached ({_reason(exc)})") from None
        except errors.ResponseError as exc:
            reason = _reason(exc)
            raise LimiterUnavailable(f"Redis at {self.description} refused the limiter's step ({reason})") from None

    async def reserve(self, sender: str, pacing: Pacing) -> Reservation:
        """Reserve the next start."""
        key, wait, factor, epoch, active = await self._run(
            "reserve", sender, pacing.ceiling, pacing.min_rate, pacing.margin_s, pacing.cold_margin_s, HORIZON_S
        )
        key = _text(key)
        return Reservation(key or None, float(wait), float(factor), int(epoch), int(active))

    async def shift(self, key: str, by_s: float) -> None:
        """Move a reserved start later."""
        await self._run("shift", key, by_s)

    async def throttle(self, epoch: int, pause_s: float, min_factor: float) -> float:
        """Record a throttled answer; returns the account's factor."""
        return float(await self._run("throttle", epoch, pause_s, min_factor, DECREASE_FACTOR))

    async def succeed(self) -> float:
        """Record an answer that was not throttled; returns the account's factor."""
        return float(await self._run("succeed", INCREASE_SHARE))

    async def senders(self) -> int:
        """How many senders are active on the account now."""
        return int(await self._run("senders"))

    async def leave(self, sender: str) -> None:
        """The sender is done."""
        await self._run("leave", sender)

    async def aclose(self) -> None:
        """Close the connections."""
        try:
            await self._client.aclose()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


def _arg(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _reason(exc: BaseException) -> str:
    return str(exc).split("\n")[0][:200] or type(exc).__name__
