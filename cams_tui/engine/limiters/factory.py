"""Choosing a profile's limiter, and naming the account whose budget it shares.

``limiter`` in a profile is ``"process"`` (this process alone: the budget is not shared),
``"host"`` (the default: every process of this host, through a file in the data dir) or a
Redis URL ``redis://host:port/db`` / ``rediss://…`` (every host using that Redis).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cams_tui.engine.limiters.base import Limiter
from cams_tui.engine.ratelimit import RateLimiter

MASS_SEND = "SendChatappMassMessage"
LIST_MESSAGES = "ListChatappMessage"
LIMITER_KINDS = ("process", "host")
REDIS_SCHEMES = ("redis://", "rediss://")
DEFAULT_LIMITER = "host"


def check_limiter_spec(value: str) -> str:
    """``value`` if it names a limiter; a :class:`ValueError` saying what would otherwise."""
    spec = value.strip()
    if spec in LIMITER_KINDS:
        return spec
    if spec.startswith(REDIS_SCHEMES):
        parts = urlsplit(spec)
        try:
            _ = parts.port  # reading it validates it
        except ValueError:
            raise ValueError("the Redis URL has a port that is not a number, e.g. redis://host:6379/0") from None
        path = parts.path.strip("/")
        if not parts.hostname and not parts.path.startswith("/") and not parts.netloc:
            raise ValueError("the Redis URL needs a host, e.g. redis://host:6379/0")
        if path and not path.isdigit():
            raise ValueError("the Redis URL's path must be a database number, e.g. redis://host:6379/0")
        return spec
    raise ValueError('must be "process", "host" or a Redis URL such as "redis://host:6379/0"')


MAX_LOCAL_SENDERS = 1000


def check_local_senders(text: str) -> int:
    """N for going on alone at ``rate / N`` (the senders sharing the account, this one
    included), from what an operator typed; a :class:`ValueError` saying what would do."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"give the number of senders sharing the account, such as 3, not {text.strip()!r}") from None
    if not 1 <= value <= MAX_LOCAL_SENDERS:
        raise ValueError(f"the senders sharing the account must be 1 to {MAX_LOCAL_SENDERS}, not {value}")
    return value


def describe_limiter(spec: str) -> str:
    """The limiter setting as it may be shown: a Redis URL loses its password."""
    if spec.startswith(REDIS_SCHEMES):
        # For start-up time: only the chosen limiter's backend loads.
        from cams_tui.engine.limiters.redis import describe_url

        return describe_url(spec)
    return spec


@dataclass(frozen=True)
class AccountKey:
    """The key the account's budget is kept under, and where it comes from: ``profile``
    (the profile's ``account``) or ``access_key`` (the AccessKey ID, by default)."""

    key: str
    source: str


def account_key(account: str | None, access_key_id: str | None) -> AccountKey:
    """The account's key: the profile's ``account`` when set, else the AccessKey ID.

    AccessKeys (and RAM users) of one account share its CAMS limit: give their profiles the
    same ``account`` so that they share one budget too."""
    if account:
        return AccountKey(account, "profile")
    return AccountKey(access_key_id or "anonymous", "access_key")


def build_limiter(
    spec: str,
    rate: float,
    *,
    account: str,
    data_dir: Path,
    operation: str = MASS_SEND,
) -> Limiter:
    """The limiter ``spec`` names, pacing ``operation`` for ``account`` at ``rate``."""
    spec = check_limiter_spec(spec)
    if spec == "process":
        return RateLimiter(rate, account=account, operation=operation)
    # For start-up time: only the chosen limiter's backend loads.
    from cams_tui.engine.limiters.shared import SharedLimiter, Store

    store: Store
    if spec == "host":
        # For start-up time: only the chosen limiter's backend loads.
        from cams_tui.engine.limiters.host import HostStore

        store = HostStore(data_dir, account, operation)
    else:
        # For start-up time: only the chosen limiter's backend loads.
        from cams_tui.engine.limiters.redis import RedisStore

        store = RedisStore(spec, account, operation)
    return SharedLimiter(store, rate, account=account, operation=operation)


def limiter_factory(
    spec: str, *, account: str, data_dir: Path, operation: str = MASS_SEND
) -> Callable[[float], Limiter]:
    """Builds the limiter ``spec`` names for ``operation`` of ``account`` at a given rate:
    what :class:`~cams_tui.engine.run.JobRunner` calls for each stage of a run (the sends)
    and once per run (its lookups, ``operation=LIST_MESSAGES``)."""
    check_limiter_spec(spec)

    def build(rate: float) -> Limiter:
        return build_limiter(spec, rate, account=account, data_dir=data_dir, operation=operation)

    return build


@dataclass(frozen=True)
class AccountUsage:
    """What doctor reports: the account key, its source, the limiter and how many senders
    are active on the account now (``None`` with ``error`` when the limiter cannot be
    reached)."""

    account: str
    source: str
    limiter: str
    senders: int | None
    error: str | None = None


async def account_usage(
    spec: str, *, account: str | None, access_key_id: str | None, data_dir: Path, operation: str = MASS_SEND
) -> AccountUsage:
    """Which key the account's budget is kept under and how many senders use it now."""
    key = account_key(account, access_key_id)
    spec = check_limiter_spec(spec)
    shown = describe_limiter(spec)
    if spec == "process":
        return AccountUsage(
            key.key, key.source, shown, None, "the process limiter shares nothing: senders are not counted"
        )
    # For start-up time: only the chosen limiter's backend loads.
    from cams_tui.engine.limiters.shared import LimiterUnavailable, Store

    store: Store
    if spec == "host":
        # For start-up time: only the chosen limiter's backend loads.
        from cams_tui.engine.limiters.host import HostStore

        store = HostStore(data_dir, key.key, operation)
    else:
        # For start-up time: only the chosen limiter's backend loads.
        from cams_tui.engine.limiters.redis import RedisStore

        store = RedisStore(spec, key.key, operation)
    try:
        return AccountUsage(key.key, key.source, shown, await store.senders())
    except LimiterUnavailable as exc:
        return AccountUsage(key.key, key.source, shown, None, str(exc))
    finally:
        await store.aclose()
