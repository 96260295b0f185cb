"""When a job sends: a start time with its zone, given by ``send --at``, the campaign's
``[schedule]`` table or the TUI's options step.

```toml
[schedule]
at = "2026-12-24T09:00+08:00"   # an ISO 8601 time with its UTC offset (or Z)
```

A delivery window sends each recipient only within hours of its own local time:

```toml
[schedule]
window = "09:00-20:00"          # local time of each recipient
days = ["mon", "tue", "wed", "thu", "fri"]   # optional: every day when absent
[schedule.zones]                # optional: one zone for a country of several
US = "America/New_York"
```

A recipient's zones come from its number (:mod:`cams_tui.recipients.zones`); where a number
maps to several zones, the window must hold in all of them at once. Batches are planned
per group of zones (:mod:`cams_tui.engine.grouping`), and the job runner sends a batch only
while its window is open, waiting for the next opening otherwise (:class:`DeliveryWindow`).

A time without a zone is refused (09:00 where? the operator's laptop, the server and the
recipients may all differ), and so is one already past: a typo in the date must not turn
a scheduled send into an immediate one. The start is stored with the job in the journal
(:meth:`~cams_tui.engine.journal.Journal.create_job`), so a resume waits for it too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cams_tui.errors import UserError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = {
    full: short
    for full, short in zip(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), WEEKDAYS, strict=True
    )
}
# How far ahead an opening is looked for: a week holds every weekday once, and one more day
# covers a window that opened yesterday in a zone west of the others.
_LOOKAHEAD_DAYS = 8


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
    window: str | None = Field(None, description="Delivery hours in each recipient's local time: 09:00-20:00.")
    days: list[str] | None = Field(None, description="The weekdays of the window: mon … sun (all when absent).")
    zones: dict[str, str] = Field(
        default_factory=dict, description="One time zone per country of several: US = \"America/New_York\"."
    )

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

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_hours(value)  # raises ValueError with the reason
        return value.strip()

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [WEEKDAYS[day] for day in sorted(parse_days(value))]

    @field_validator("zones")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        # For start-up time: zone data loads only when a window or a zone is read.
        from cams_tui.recipients.zones import known_zone

        checked = {}
        for region, zone in value.items():
            code = region.strip().upper()
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"zones: {region!r} is not a two-letter region code such as US")
            if not known_zone(zone.strip()):
                raise ValueError(
                    f"zones.{code}: {zone!r} is not a time zone name; write one such as America/New_York"
                )
            checked[code] = zone.strip()
        return checked

    def delivery_window(self) -> DeliveryWindow | None:
        """The window asked for, or ``None``; ``days`` without ``window`` is every hour of
        those days."""
        if self.window is None and self.days is None:
            return None
        start, end = parse_hours(self.window or "00:00-24:00")
        days = parse_days(self.days) if self.days is not None else frozenset(range(7))
        return DeliveryWindow(start, end, days)


def parse_hours(text: str) -> tuple[int, int]:
    """``"09:00-20:00"`` as minutes after midnight (540, 1200); :class:`ValueError` naming
    what is wrong otherwise. The end may be ``24:00``; it must come after the start (a
    window across midnight is two campaigns' worth of surprises: write the day's part)."""
    first, sep, second = text.strip().partition("-")
    if not sep:
        raise ValueError(f"window {text!r} is not a range of hours; write it as 09:00-20:00")
    start, end = _minutes(first, text), _minutes(second, text)
    if end <= start:
        raise ValueError(
            f"window {text!r} ends before it starts; write the hours within one day, e.g. 09:00-20:00"
        )
    return start, end


def _minutes(part: str, text: str) -> int:
    hours, sep, minutes = part.strip().partition(":")
    if not (hours.isdigit() and (not sep or minutes.isdigit())):
        raise ValueError(f"window {text!r}: {part.strip()!r} is not a time of day such as 09:00")
    value = int(hours) * 60 + int(minutes or 0)
    if int(minutes or 0) >= 60 or value > 24 * 60:
        raise ValueError(f"window {text!r}: {part.strip()!r} is not a time of day between 00:00 and 24:00")
    return value


def parse_days(days: Any) -> frozenset[int]:
    """Weekday names (``mon`` … ``sun``, or whole names) as numbers, Monday 0."""
    if isinstance(days, str) or not isinstance(days, list | tuple):
        raise ValueError('days must be a list such as ["mon", "tue"]')
    found = set()
    for day in days:
        key = str(day).strip().lower()
        key = _FULL_DAYS.get(key, key)
        if key not in WEEKDAYS:
            raise ValueError(f"days: {day!r} is not a weekday; write mon, tue, wed, thu, fri, sat or sun")
        found.add(WEEKDAYS.index(key))
    if not found:
        raise ValueError("days is empty: list at least one weekday, or leave it out for every day")
    return frozenset(found)


@dataclass(frozen=True)
class DeliveryWindow:
    """Hours of the day (and weekdays) in which a recipient may be sent to, in its own
    local time. Times are Unix times; zones are IANA names read with :mod:`zoneinfo`."""

    start: int
    """Minutes after local midnight the window opens."""
    end: int
    """Minutes after local midnight it closes (1440: at midnight)."""
    days: frozenset[int] = frozenset(range(7))
    """Weekdays it is open on (Monday 0)."""

    def describe(self) -> str:
        """``09:00-20:00`` or ``09:00-20:00 mon-fri``-like text for the operator."""
        hours = f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        if self.days == frozenset(range(7)):
            return hours
        return hours + " " + ",".join(WEEKDAYS[day] for day in sorted(self.days))

    def to_json(self) -> dict[str, Any]:
        """What the journal stores with the job's schedule."""
        return {"start": self.start, "end": self.end, "days": sorted(self.days)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryWindow:
        """A window read back from the journal."""
        return cls(int(data["start"]), int(data["end"]), frozenset(int(d) for d in data.get("days", range(7))))

    def _open_in(self, zone: str, at: float) -> bool:
        local = datetime.fromtimestamp(at, _zone(zone))
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and self.start <= minute < self.end

    def is_open(self, zones: tuple[str, ...], at: float) -> bool:
        """Whether the window holds at ``at`` in every one of ``zones``."""
        return all(self._open_in(zone, at) for zone in zones)

    def next_open(self, zones: tuple[str, ...], at: float) -> float | None:
        """The first moment from ``at`` on when the window holds in all ``zones`` (``at``
        itself when it does now); ``None`` when it never does (zones too far apart)."""
        if self.is_open(zones, at):
            return at
        # An opening of the intersection is an opening of one of its zones.
        candidates = sorted(
            moment for zone in zones for moment in self._openings(zone, at) if moment > at
        )
        for moment in candidates:
            if self.is_open(zones, moment):
                return moment
        return None

    def closes_at(self, zones: tuple[str, ...], at: float) -> float:
        """When a window open at ``at`` in all ``zones`` next closes in one of them."""
        ends = []
        for zone in zones:
            local = datetime.fromtimestamp(at, _zone(zone))
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            ends.append(_local_moment(midnight, self.end))
        return min(ends) if ends else at

    def _openings(self, zone: str, at: float) -> list[float]:
        local = datetime.fromtimestamp(at, _zone(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
        out = []
        for offset in range(-1, _LOOKAHEAD_DAYS):
            day = (local + timedelta(days=offset)).replace(tzinfo=_zone(zone))
            if day.weekday() in self.days:
                out.append(_local_moment(day, self.start))
        return out


def _local_moment(midnight: datetime, minutes: int) -> float:
    """The Unix time ``minutes`` after local ``midnight`` by the wall clock (09:00 stays
    09:00 across a change to daylight saving time)."""
    day = midnight + timedelta(days=minutes // 1440)
    wall = day.replace(hour=(minutes % 1440) // 60, minute=minutes % 60)
    return wall.timestamp()


@cache
def _zone(name: str) -> tzinfo:
    # For start-up time: zone data loads only when a window or a zone is read.
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def window_of(schedule: dict[str, Any] | None) -> DeliveryWindow | None:
    """The delivery window stored with a job's schedule, or ``None``."""
    if not schedule or not schedule.get("window"):
        return None
    return DeliveryWindow.from_json(schedule["window"])


def start_of(schedule: dict[str, Any] | None) -> JobSchedule | None:
    """The start time stored with a job's schedule, or ``None`` (at once)."""
    if not schedule or schedule.get("at") is None:
        return None
    return JobSchedule.from_json(schedule)


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
