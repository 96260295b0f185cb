"""Recipients split into groups that each travel as batches of their own: one template
language per group (one SendChatappMassMessage carries one ``Language``), and one set of
time zones per group when the job has a delivery window (a batch is sendable now, or waits
for its window as a whole).

Each recipient's language is its ``language`` cell, else its country's default from the
campaign's ``[languages]``, else the campaign's ``language``; it must be one the template
has, or the recipient falls back to the campaign's language when the campaign says so
(``language_fallback = true``), or is rejected with the reason. Its zones come from its
number (:mod:`cams_tui.recipients.zones`); a recipient whose zones never share an opening
of the window is rejected too, with the fix (name one zone for its country).

Groups are planned in the order they can go: open now first, then by their next opening,
ties in the order their first recipient was read; within a group recipients keep their
input order. The canary, when there is one, is the first recipients read, grouped the same
way and planned before the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cams_tui.engine.journal import PlannedBatch, Reject
from cams_tui.engine.planning import ColumnStore
from cams_tui.recipients.zones import ZoneFinder
from cams_tui.schedule import DeliveryWindow, JobSchedule, ScheduleOptions
from cams_tui.wording import counted

LANGUAGE_COLUMN = "language"
"""The recipients file's column that picks a recipient's template language."""


@dataclass(frozen=True)
class LanguageChoice:
    """How each recipient's template language is picked."""

    default: str
    """The campaign's ``language``."""
    available: frozenset[str] | None = None
    """The languages the template has (``None``: not checked, every language is taken)."""
    by_region: Mapping[str, str] = field(default_factory=dict)
    """The campaign's ``[languages]``: a default per region (``PH = "tl"``)."""
    fallback: bool = False
    """A language the template lacks becomes ``default`` instead of a rejection."""

    def choose(self, cell: str, region: str | None) -> tuple[str | None, str | None]:
        """The recipient's language, or ``None`` and the reason it is rejected."""
        wanted = cell.strip() or (self.by_region.get(region, "") if region else "") or self.default
        if self.available is None or wanted in self.available:
            return wanted, None
        if self.fallback and self.default in self.available:
            return self.default, None
        has = ", ".join(sorted(self.available)) or "none approved"
        return None, (
            f"the template has no language {wanted!r} (it has: {has}); fix the language column or "
            "[languages], or set language_fallback = true to send it in the campaign's language"
        )


@dataclass(frozen=True)
class Targeting:
    """What splits a job's recipients into groups."""

    languages: LanguageChoice | None = None
    window: DeliveryWindow | None = None
    zones: ZoneFinder | None = None
    now: float = 0.0
    """The plan's moment (Unix time): which groups are open now, and when the others open."""

    @property
    def active(self) -> bool:
        """Whether any split is asked for."""
        return self.languages is not None or self.window is not None


@dataclass(frozen=True)
class Group:
    """Recipients that travel together: one language, one set of zones."""

    language: str | None
    zones: tuple[str, ...] | None
    opens_at: float | None
    """When the window opens for them (the plan's moment when open now); ``None``: no window."""
    indices: list[int]
    """Their positions in the intake's store, in input order."""

    @property
    def recipients(self) -> int:
        """How many recipients the group holds."""
        return len(self.indices)


@dataclass(frozen=True)
class GroupSummary:
    """A group as the plan, the dry run and Review show it."""

    language: str | None
    zones: tuple[str, ...] | None
    opens_at: float | None
    recipients: int
    batches: int

    def to_json(self) -> dict[str, Any]:
        """The summary for ``--json`` output."""
        return {
            "language": self.language,
            "zones": None if self.zones is None else list(self.zones),
            "opens_at": self.opens_at,
            "recipients": self.recipients,
            "batches": self.batches,
        }


def group_recipients(store: ColumnStore, targeting: Targeting) -> tuple[list[Group], list[Reject]]:
    """The store's recipients in groups (in the order they can go), and those rejected."""
    languages, window, finder = targeting.languages, targeting.window, targeting.zones
    if window is not None and finder is None:
        finder = ZoneFinder()
    cells: Sequence[str] | None = store.columns.get(LANGUAGE_COLUMN) if languages is not None else None
    lines: Sequence[int] | None = getattr(store, "lines", None)
    keys: dict[tuple[str | None, tuple[str, ...] | None], list[int]] = {}
    openings: dict[tuple[str, ...], float | None] = {}
    rejects: list[Reject] = []
    for index, number in enumerate(store.numbers):
        region: str | None = None
        zones: tuple[str, ...] | None = None
        if window is not None:
            assert finder is not None
            zones, region = finder.zones(number)
        language: str | None = None
        reason: str | None = None
        if languages is not None:
            if region is None and languages.by_region and finder is None:
                finder = ZoneFinder()
            if region is None and languages.by_region and finder is not None:
                region = finder.region(number)
            language, reason = languages.choose(cells[index] if cells is not None else "", region)
        if reason is None and zones is not None:
            if not zones:
                reason = (
                    "no time zone is known for this number, so its delivery window cannot be kept; "
                    f"name one in [schedule.zones] ({region or 'XX'} = \"Area/City\")"
                )
            else:
                if zones not in openings:
                    assert window is not None
                    openings[zones] = window.next_open(zones, targeting.now)
                if openings[zones] is None:
                    assert window is not None
                    shown = ", ".join(zones[:4]) + (f" and {len(zones) - 4} more" if len(zones) > 4 else "")
                    reason = (
                        f"the window {window.describe()} never holds at once in all of this number's "
                        f"time zones ({shown}); name one zone for its country in [schedule.zones] "
                        f"({region or 'XX'} = \"{zones[0]}\")"
                    )
        if reason is not None:
            line = lines[index] if lines is not None else index + 1
            rejects.append(Reject(int(line), "+" + str(number), reason))
            continue
        keys.setdefault((language, zones), []).append(index)
    groups = [
        Group(language, zones, None if zones is None else openings[zones], indices)
        for (language, zones), indices in keys.items()
    ]
    # Open now (or soonest) first; Python's sort is stable, so ties keep the input order.
    groups.sort(key=lambda group: group.opens_at if group.opens_at is not None else targeting.now)
    return groups, rejects


class SubsetStore:
    """Some of a store's recipients, in order, as a store of their own (what the planner reads)."""

    def __init__(self, store: ColumnStore, indices: Sequence[int], names: Sequence[str]) -> None:
        self.numbers = [store.numbers[i] for i in indices]
        self.columns = {
            name: [column[i] for i in indices]
            for name in dict.fromkeys(names)
            if (column := store.columns.get(name)) is not None
        }

    def __len__(self) -> int:
        return len(self.numbers)


def stamp(batches: list[PlannedBatch], group: Group) -> list[PlannedBatch]:
    """The group's batches carrying its language, zones and opening."""
    return [
        replace(batch, language=group.language, zones=group.zones, not_before=group.opens_at) for batch in batches
    ]


def targeting_for(
    *,
    language: str,
    languages: Mapping[str, str],
    language_fallback: bool,
    has_language_column: bool,
    available: frozenset[str] | None,
    schedule: ScheduleOptions | None,
    now: float,
) -> Targeting:
    """What a campaign asks to split by: its languages (a ``language`` column, per-country
    defaults, or a fallback asked for) and its delivery window. ``now`` is when the job
    starts (its scheduled start, else the plan's moment)."""
    choice = None
    if has_language_column or languages or language_fallback:
        choice = LanguageChoice(language, available, dict(languages), language_fallback)
    window = schedule.delivery_window() if schedule is not None else None
    zones = ZoneFinder(schedule.zones) if schedule is not None and window is not None else None
    return Targeting(languages=choice, window=window, zones=zones, now=now)


def schedule_json(start: JobSchedule | None, window: DeliveryWindow | None) -> dict[str, Any] | None:
    """What the journal stores as the job's schedule: its start and its window."""
    if start is None and window is None:
        return None
    data: dict[str, Any] = start.to_json() if start is not None else {}
    if window is not None:
        data["window"] = window.to_json()
    return data


def template_languages(templates: Sequence[Any], template_code: str) -> frozenset[str]:
    """The languages a template has, from ListChatappTemplate's rows (one per template and
    language)."""
    return frozenset(t.language for t in templates if t.template_code == template_code and t.language)


def describe_group(group: GroupSummary, now: float) -> str:
    """One group as the plan and Review list it: ``ru · Europe/Moscow · 20 recipients from
    Tue 01 Dec 09:00 local (2026-12-01 14:00 +08:00 here)``."""
    # For start-up time: zone data and the schedule's helpers load only when a window is shown.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    parts = []
    if group.language is not None:
        parts.append(group.language)
    if group.zones is not None:
        shown = ", ".join(group.zones[:3]) + (f" +{len(group.zones) - 3} zones" if len(group.zones) > 3 else "")
        parts.append(shown)
    what = counted(group.recipients, "recipient")
    if group.opens_at is None or group.opens_at <= now or group.zones is None:
        what += " now" if group.zones is not None else ""
    else:
        local = datetime.fromtimestamp(group.opens_at, ZoneInfo(group.zones[0]))
        here = datetime.fromtimestamp(group.opens_at).astimezone()
        what += (
            f" from {local:%a %d %b %H:%M} local ({here:%Y-%m-%d %H:%M} {here.strftime('%z')[:3]}:"
            f"{here.strftime('%z')[3:]} here)"
        )
    return " · ".join([*parts, what])


def window_summary(groups: Sequence[GroupSummary], now: float) -> str | None:
    """``30 recipients go now, 45 wait for their delivery window (the next opens in 3h 00m 00s)``;
    ``None`` when the job has no window."""
    # For start-up time: zone data and the schedule's helpers load only when a window is shown.
    from cams_tui.schedule import countdown

    windowed = [g for g in groups if g.zones is not None]
    if not windowed:
        return None
    waiting = [g for g in windowed if g.opens_at is not None and g.opens_at > now]
    going = sum(g.recipients for g in groups) - sum(g.recipients for g in waiting)
    if not waiting:
        return f"{counted(going, 'recipient')} go now: every window is open"
    soonest = min(g.opens_at for g in waiting if g.opens_at is not None)
    last = max(g.opens_at for g in waiting if g.opens_at is not None)
    return (
        f"{going:,} of {counted(going + sum(g.recipients for g in waiting), 'recipient')} go now, "
        f"{sum(g.recipients for g in waiting):,} wait for their delivery window (the next opens in "
        f"{countdown(soonest - now)}, the last in {countdown(last - now)})"
    )


def language_counts(groups: Sequence[GroupSummary]) -> dict[str, int]:
    """Recipients per template language, in the order the plan sends them."""
    counts: dict[str, int] = {}
    for group in groups:
        if group.language is not None:
            counts[group.language] = counts.get(group.language, 0) + group.recipients
    return counts
