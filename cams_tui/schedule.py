"""When a job sends: a start time with its zone, given by ``send --at``, the campaign's
``[schedule]`` table or the TUI's options step.

```toml
[schedule]
at = "2026-12-24T09:00+08:00"   # an ISO 8601 time with its UTC offset (or Z)
```

The table is where delivery windows in each recipient's local time will go (``window``,
``days``); they are read and refused for now, with a message saying so, rather than
silently ignored: a campaign written for them must not send at the wrong hour.

A time without a zone is refused (09:00 where? the operator's laptop, the server and the
recipients may all differ), and so is one already past: a typo in the date must not turn
a scheduled send into an immediate one. The start is stored with the job in the journal
(:meth:`~cams_tui.engine.journal.Journal.create_job`), so a resume waits for it too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cams_tui.errors import UserError

NOT_SUPPORTED_YET = "delivery windows are not supported yet: remove `{name}` (only `at` is read)"


class ScheduleError(UserError):
    """A send time that cannot be used; the message says why and how to write one."""


def parse_send_time(text: str, *, now: float | None = None, what: str = "--at") -> datetime:
    """An ISO 8601 time with a zone, in the future, as an aware datetime.

    Raises :class:`ScheduleError` naming ``what`` for a malformed time, one without a zone,
    or one that is not after ``now`` (default: the current time)."""
    raw = text.strip()
    try:
        # Python accepts 'Z' from 3.11 on; a space between date and time too.
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ScheduleError(
            f"{what}: {text!r} is not a date and time; write it as 2026-12-24T09:00+08:00 "
            "(ISO 8601 with the UTC offset, or Z for UTC)"
        ) from None
    return check_send_time(moment, now=now, what=what)


def check_send_time(moment: datetime, *, now: float | None = None, what: str = "--at") -> datetime:
    """``moment`` if it has a zone and lies after ``now``; else :class:`ScheduleError`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ScheduleError(
            f"{what}: {moment.isoformat(timespec='minutes')} has no time zone; add its UTC offset, "
            f"e.g. {moment.isoformat(timespec='minutes')}+08:00 (or Z for UTC)"
        )
    current = time.time() if now is None else now
    if moment.timestamp() <= current:
        shown = datetime.fromtimestamp(current, UTC).astimezone(moment.tzinfo)
        raise ScheduleError(
            f"{what}: {moment.isoformat(timespec='minutes')} is in the past (it is now "
            f"{shown.isoformat(timespec='minutes')}); give a later time, or leave it out to send now"
        )
    return moment


class ScheduleOptions(BaseModel):
    """The campaign's ``[schedule]`` table."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    at: datetime | None = Field(None, description="Start the send at this time (ISO 8601 with its UTC offset).")
    window: Any = Field(None, description="Not supported yet: delivery hours in the recipient's local time.")
    days: Any = Field(None, description="Not supported yet: the weekdays of the delivery window.")

    @field_validator("at", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a date and time; write it as 2026-12-24T09:00+08:00"
                ) from None
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(
                f"{value.isoformat(timespec='minutes')} has no time zone; add its UTC offset, "
                f"e.g. {value.isoformat(timespec='minutes')}+08:00"
            )
        return value

    @field_validator("window", "days")
    @classmethod
    def _not_yet(cls, value: Any, info: Any) -> Any:
        if value is not None:
            raise ValueError(NOT_SUPPORTED_YET.format(name=info.field_name))
        return value


@dataclass(frozen=True)
class JobSchedule:
    """When a journaled job may start sending (stored with the job as JSON)."""

    at: float
    """The start, as a Unix time."""
    zone: str
    """The UTC offset it was given in (``+08:00``), to show it the way the operator wrote it."""

    @classmethod
    def of(cls, moment: datetime) -> JobSchedule:
        """The schedule of an aware datetime."""
        offset = moment.utcoffset()
        assert offset is not None, "check_send_time refuses a time without a zone"
        return cls(at=moment.timestamp(), zone=_offset_text(offset.total_seconds()))

    def to_json(self) -> dict[str, Any]:
        """What the journal stores."""
        return {"at": self.at, "zone": self.zone}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSchedule:
        """A schedule read back from the journal."""
        return cls(at=float(data["at"]), zone=str(data.get("zone") or "+00:00"))

    def local(self) -> datetime:
        """The start in the zone it was given in."""
        sign = -1 if self.zone.startswith("-") else 1
        hours, _, minutes = self.zone.lstrip("+-").partition(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
        return datetime.fromtimestamp(self.at, zone)

    def describe(self) -> str:
        """The start as the operator reads it: ``2026-12-24 09:00 +08:00``."""
        local = self.local()
        # Seconds only when given: a send at 09:00 reads 09:00, one at 09:00:30 does not.
        return local.strftime("%Y-%m-%d %H:%M:%S " if local.second else "%Y-%m-%d %H:%M ") + self.zone


def _offset_text(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = int(abs(seconds)) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def countdown(seconds: float) -> str:
    """Time left as ``2d 03h 04m``, ``3h 04m 05s``, ``4m 05s`` or ``5s``."""
    seconds = max(int(seconds + 0.999), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
