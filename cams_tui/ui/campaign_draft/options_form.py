"""The options step's fields as typed, what they mean and whether they are valid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cams_tui.api.limits import (
    FALLBACK_DURATION_RANGE,
    TTL_RANGE,
)
from cams_tui.durations import format_duration, parse_duration

# The models and the campaign (pydantic) are imported where used, so the TUI's first frame
# does not wait for them.
if TYPE_CHECKING:
    from datetime import datetime

    from cams_tui.campaign import Campaign
    from cams_tui.schedule import DeliveryWindow


FALLBACK_RULES: dict[str, str] = {
    "undelivered": "SMS when Viber does not deliver within the fallback duration",
    "sentFailed": "SMS also when the send fails, e.g. the template parameters fail verification",
}
LABELS: dict[str, str] = {
    "promotion": "marketing content (Viber may charge and filter it as promotional)",
    "transaction": "a transactional notice the recipient expects",
}



def _range_text(bounds: tuple[int, int]) -> str:
    return f"{format_duration(bounds[0])} to {format_duration(bounds[1])}"


TTL_RANGE_TEXT = _range_text(TTL_RANGE)
FALLBACK_DURATION_RANGE_TEXT = _range_text(FALLBACK_DURATION_RANGE)


@dataclass
class OptionsForm:
    """The options step's fields as typed (text), validated by :meth:`errors`."""

    fallback_rule: str = ""
    fallback_duration: str = ""
    fallback_id: str = ""
    fallback_content: str = ""
    ttl: str = ""
    label: str = ""
    tag: str = ""
    task_id: str = ""
    cust_space_id: str = ""
    send_at: str = ""
    """When the send starts (ISO 8601 with its UTC offset); empty: at once."""
    send_window: str = ""
    """Delivery hours in each recipient's local time (``09:00-20:00``); empty: any time."""
    send_days: str = ""
    """The window's weekdays, comma-separated (``mon,tue``); empty: every day."""

    def errors(self) -> dict[str, str]:
        """Field name → what is wrong with it, in words, with the allowed range."""
        problems: dict[str, str] = {}
        for name, bounds, range_text in (
            ("ttl", TTL_RANGE, TTL_RANGE_TEXT),
            ("fallback_duration", FALLBACK_DURATION_RANGE, FALLBACK_DURATION_RANGE_TEXT),
        ):
            text = getattr(self, name).strip()
            if not text:
                continue
            try:
                seconds = parse_duration(text)
            except ValueError as exc:
                problems[name] = str(exc)
                continue
            if not bounds[0] <= seconds <= bounds[1]:
                problems[name] = f"{format_duration(seconds)} is out of range: allowed {range_text}"
        if self.fallback_rule and self.fallback_rule not in FALLBACK_RULES:
            problems["fallback_rule"] = "choose undelivered or sentFailed"
        if self.label and self.label not in LABELS:
            problems["label"] = "choose promotion or transaction"
        if self.fallback_content.strip() and not self.fallback_id.strip():
            problems["fallback_id"] = "a fallback SMS needs its policy ID (FallBackId)"
        if self.send_at.strip():
            # For start-up time: pydantic loads after the first frame.
            from cams_tui.schedule import ScheduleError, parse_send_time

            try:
                parse_send_time(self.send_at, what="send at")
            except ScheduleError as exc:
                problems["send_at"] = str(exc).removeprefix("send at: ")
        if self.send_window.strip() or self.send_days.strip():
            try:
                self.delivery_window()
            except ValueError as exc:
                problems["send_days" if str(exc).startswith("days") else "send_window"] = str(exc)
        return problems

    def day_list(self) -> list[str] | None:
        """The window's weekdays as typed, or ``None`` (every day)."""
        days = [part.strip() for part in self.send_days.replace(" ", ",").split(",") if part.strip()]
        return days or None

    def delivery_window(self) -> DeliveryWindow | None:
        """The window asked for, or ``None``; :class:`ValueError` naming what is wrong."""
        # For start-up time: the TUI's first frame loads no schedule, grouping or zone data.
        from cams_tui.schedule import DeliveryWindow, parse_days, parse_hours

        if not self.send_window.strip() and not self.send_days.strip():
            return None
        start, end = parse_hours(self.send_window.strip() or "00:00-24:00")
        days = self.day_list()
        return DeliveryWindow(start, end, parse_days(days) if days is not None else frozenset(range(7)))

    def send_time(self) -> datetime | None:
        """The start as an aware datetime, or ``None`` (at once, or not a valid time)."""
        # For start-up time: pydantic loads after the first frame.
        from cams_tui.schedule import ScheduleError, parse_send_time

        if not self.send_at.strip():
            return None
        try:
            return parse_send_time(self.send_at, what="send at")
        except ScheduleError:
            return None

    def seconds(self, name: str) -> int | None:
        """A duration field in seconds, or ``None`` when empty or invalid."""
        text = getattr(self, name).strip()
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError:
            return None

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> OptionsForm:
        """The form showing a campaign's options."""
        fallback = campaign.fallback
        return cls(
            fallback_rule=fallback.rule or "",
            fallback_duration=format_duration(fallback.duration) if fallback.duration else "",
            fallback_id=fallback.id or "",
            fallback_content=fallback.content or "",
            ttl=format_duration(campaign.ttl) if campaign.ttl else "",
            label=campaign.label or "",
            tag=campaign.tag or "",
            task_id=campaign.task_id or "",
            cust_space_id=campaign.cust_space_id or "",
            send_at=(
                campaign.schedule.at.isoformat(timespec="minutes")
                if campaign.schedule is not None and campaign.schedule.at is not None
                else ""
            ),
            send_window=(campaign.schedule.window or "") if campaign.schedule is not None else "",
            send_days=",".join(campaign.schedule.days or []) if campaign.schedule is not None else "",
        )
