"""Accepted messages, the replies they draw, and how their delivery status moves over time.

Stored compactly for runs of 100,000+ recipients: one :class:`Group` per accepted request
holds the numbers as a tuple; a message is the pair (group, index). Statuses are never
stored: they are computed from the time elapsed since acceptance and a per-message hash,
so ``Sent`` → ``Delivered`` → ``Read`` (or ``Failed`` with a Viber error code) happens
without any background task. Replies work the same way: the group's ``inbound_rate``
share of delivered recipients write back (an ``UP`` record: same number, same Service ID,
no template) some seconds after delivery. Numbers are indexed so that a ``UserNumber``
query costs only that number's messages.
"""

from __future__ import annotations

import bisect
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

# A message's position: its group's sequence number times this, plus its index in the group.
_SLOTS_PER_GROUP = 1024
_MASK64 = (1 << 64) - 1
# Viber delivery errors a Failed message reports, with their share of failures.
FAIL_REASONS: tuple[tuple[str, float], ...] = (
    ("SRVC_NOT_VIBER_USER", 0.7),
    ("SRVC_USER_BLOCKED", 0.3),
)
# What users write back, drawn per reply.
REPLY_TEXTS: tuple[str, ...] = ("Thanks!", "STOP", "When will it arrive?", "Спасибо", "ok")
DOWN = "DOWN"
"""EventAction of a message the business sent."""
UP = "UP"
"""EventAction of a message a user sent to the business."""
# The status an UP record shows: the business received it.
_REPLY_STATUS = "Delivered"
# MessageId prefixes: mass send, single send, reply.
_MASS_PREFIX, _SINGLE_PREFIX, _REPLY_PREFIX = "89", "11", "77"


@dataclass(slots=True)
class Group:
    """The messages of one accepted request."""

    seq: int
    group_message_id: str
    """Empty for a single SendChatappMessage, which has no group id."""
    message_id_base: str
    business_number: str
    template_code: str
    accepted_ms: int
    numbers: tuple[str, ...]
    fail_rate: float
    fallback: bool
    language: str = ""
    template_name: str = ""
    inbound_rate: float = 0.0
    """Share of this group's delivered recipients who write back."""


@dataclass(frozen=True)
class Timing:
    """How delivery unfolds after acceptance."""

    delivery_delay_s: tuple[float, float] = (1.0, 3.0)
    """A message is Delivered (or Failed) this long after acceptance, uniformly drawn."""
    read_delay_s: tuple[float, float] = (5.0, 60.0)
    """A read message turns Read this long after its delivery."""
    read_share: float = 0.7
    """Share of delivered messages that are eventually read."""
    inbound_delay_s: tuple[float, float] = (5.0, 60.0)
    """A reply comes this long after the delivery of the message it answers."""


def _mix(value: int) -> int:
    """SplitMix64: a fast, well-spread 64-bit hash."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def format_send_time(ms: int) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in UTC, as SendTime is shown."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


class MessageStore:
    """Every accepted message, with filters as ListChatappMessage offers them."""

    def __init__(self, *, seed: int, timing: Timing, records_path: Path | None = None) -> None:
        self._seed = seed & _MASK64
        self._timing = timing
        self._groups: list[Group] = []
        self._accepted_ms: list[int] = []
        self._by_group_id: dict[str, Group] = {}
        # number -> one position, or a list of them once the number was sent to again.
        self._by_number: dict[str, int | list[int]] = {}
        self._any_inbound = False
        # The longest a reply can come after its message was accepted.
        self._max_reply_lag_ms = int((timing.delivery_delay_s[1] + timing.inbound_delay_s[1]) * 1000) + 1
        self._records: TextIO | None = None
        if records_path is not None:
            self._open_records(records_path)

    # ------------------------------------------------------------- persistence

    def _open_records(self, path: Path) -> None:
        """Read the groups kept in ``path`` (its first line holds the seed that statuses are
        drawn from, so a message keeps its fate across restarts), then append new ones."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._records = os.fdopen(fd, "r+", encoding="utf-8")
        self._records.seek(0)
        lines = self._records.read().splitlines()
        if not lines:
            self._write_record({"seed": self._seed})
            return
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: the rest is still good
            if "seed" in data:
                self._seed = int(data["seed"]) & _MASK64
            elif "numbers" in data:
                data["numbers"] = tuple(data["numbers"])
                self._add_group(**data)

    def _write_record(self, data: dict[str, Any]) -> None:
        assert self._records is not None
        self._records.write(json.dumps(data, separators=(",", ":")) + "\n")
        self._records.flush()

    def groups(self) -> list[Group]:
        """Every accepted request's group, in order."""
        return list(self._groups)

    def close(self) -> None:
        """Close the records file, if any."""
        if self._records is not None:
            self._records.close()
            self._records = None

    def __len__(self) -> int:
        return sum(len(group.numbers) for group in self._groups)

    def add(
        self,
        *,
        business_number: str,
        template_code: str,
        numbers: tuple[str, ...],
        accepted_ms: int,
        fail_rate: float,
        fallback: bool,
        grouped: bool = True,
        language: str = "",
        template_name: str = "",
        inbound_rate: float = 0.0,
    ) -> Group:
        """Record an accepted request; returns its group (with its GroupMessageId if ``grouped``)."""
        record = dict(
            business_number=business_number, template_code=template_code, numbers=numbers,
            accepted_ms=accepted_ms, fail_rate=fail_rate, fallback=fallback, grouped=grouped,
            language=language, template_name=template_name, inbound_rate=inbound_rate,
        )
        group = self._add_group(**record)  # type: ignore[arg-type]
        if self._records is not None:
            self._write_record({**record, "numbers": list(numbers), "accepted_ms": group.accepted_ms})
        return group

    def _add_group(
        self,
        *,
        business_number: str,
        template_code: str,
        numbers: tuple[str, ...],
        accepted_ms: int,
        fail_rate: float,
        fallback: bool,
        grouped: bool = True,
        language: str = "",
        template_name: str = "",
        inbound_rate: float = 0.0,
    ) -> Group:
        seq = len(self._groups)
        base = f"{_MASS_PREFIX if grouped else _SINGLE_PREFIX}{seq + 1:014d}"
        # Clocks may step back; keep acceptance times sorted so time ranges can bisect.
        if self._accepted_ms and accepted_ms < self._accepted_ms[-1]:
            accepted_ms = self._accepted_ms[-1]
        group = Group(
            seq=seq,
            group_message_id=base if grouped else "",
            message_id_base=base,
            business_number=business_number,
            template_code=template_code,
            accepted_ms=accepted_ms,
            numbers=numbers,
            fail_rate=fail_rate,
            fallback=fallback,
            language=language,
            template_name=template_name,
            inbound_rate=inbound_rate,
        )
        if inbound_rate > 0:
            self._any_inbound = True
        self._groups.append(group)
        self._accepted_ms.append(accepted_ms)
        if grouped:
            self._by_group_id[base] = group
        index = self._by_number
        first = seq * _SLOTS_PER_GROUP
        for offset, number in enumerate(numbers):
            position = first + offset
            known = index.get(number)
            if known is None:
                index[number] = position
            elif isinstance(known, int):
                index[number] = [known, position]
            else:
                known.append(position)
        return group

    @staticmethod
    def message_id(group: Group, index: int) -> str:
        """The MessageId of the ``index``-th message of a group."""
        return f"{group.message_id_base}{index:04d}"

    def _hash(self, group: Group, index: int) -> int:
        return _mix(self._seed ^ (group.seq * _SLOTS_PER_GROUP + index))

    def _settle_s(self, group: Group, h: int) -> float:
        """Seconds from acceptance to Delivered or Failed."""
        low, high = self._timing.delivery_delay_s
        return low + ((h >> 16) & 0xFFFF) / 65536 * (high - low)

    def status(self, group: Group, index: int, now_ms: int) -> tuple[str, str | None]:
        """(MessageStatus, FailReason) of one message at ``now_ms``."""
        h = self._hash(group, index)
        u_fail = (h & 0xFFFF) / 65536
        u_read = ((h >> 32) & 0xFFFF) / 65536
        u_read_delay = ((h >> 48) & 0xFFFF) / 65536
        elapsed_s = (now_ms - group.accepted_ms) / 1000
        settle_s = self._settle_s(group, h)
        if elapsed_s < settle_s:
            return "Sent", None
        if u_fail < group.fail_rate:
            return "Failed", _fail_reason(u_read)
        if u_read < self._timing.read_share:
            low, high = self._timing.read_delay_s
            if elapsed_s >= settle_s + low + u_read_delay * (high - low):
                return "Read", None
        return "Delivered", None

    def reply_ms(self, group: Group, index: int) -> int | None:
        """When the recipient of this message writes back (UNIX ms), or ``None`` if never."""
        if group.inbound_rate <= 0:
            return None
        h = self._hash(group, index)
        if (h & 0xFFFF) / 65536 < group.fail_rate:
            return None  # never delivered: nothing to answer
        g = _mix(h ^ 0x1B873593)
        if (g & 0xFFFF) / 65536 >= group.inbound_rate:
            return None
        low, high = self._timing.inbound_delay_s
        delay_s = low + ((g >> 16) & 0xFFFF) / 65536 * (high - low)
        return group.accepted_ms + int((self._settle_s(group, h) + delay_s) * 1000)

    @staticmethod
    def reply_id(group: Group, index: int) -> str:
        """The MessageId of the reply to the ``index``-th message of a group."""
        return f"{_REPLY_PREFIX}{group.message_id_base[len(_MASS_PREFIX):]}{index:04d}"

    def record(self, group: Group, index: int, now_ms: int) -> dict[str, Any]:
        """One sent message (``EventAction`` DOWN) as ListChatappMessage reports it.

        No GroupMessageId: the service's records do not carry one (it is only a filter)."""
        status, reason = self.status(group, index, now_ms)
        row: dict[str, Any] = {
            "MessageId": self.message_id(group, index),
            "UserNumber": group.numbers[index],
            "BusinessNumber": group.business_number,
            "ChannelType": "viber",
            "EventAction": DOWN,
            "Type": "template",
            "MessageType": "template",
            "MessageStatus": status,
            "SendTime": format_send_time(group.accepted_ms),
            "TemplateCode": group.template_code,
            "FailBackFlag": "Y" if status == "Failed" and group.fallback else "N",
        }
        if group.template_name:
            row["TemplateName"] = group.template_name
        if group.language:
            row["LanguageCode"] = group.language
        if reason is not None:
            row["FailReason"] = reason
        return row

    def reply_record(self, group: Group, index: int, reply_ms: int) -> dict[str, Any]:
        """The reply to one message (``EventAction`` UP) as ListChatappMessage reports it."""
        text = REPLY_TEXTS[_mix(self._hash(group, index) ^ 0x2545F491) % len(REPLY_TEXTS)]
        return {
            "MessageId": self.reply_id(group, index),
            "UserNumber": group.numbers[index],
            "BusinessNumber": group.business_number,
            "ChannelType": "viber",
            "EventAction": UP,
            "Type": "text",
            "MessageType": "text",
            "MessageStatus": _REPLY_STATUS,
            "SendTime": format_send_time(reply_ms),
            "TemplateCode": "",
            "Message": text,
            "FailBackFlag": "N",
        }

    def query(
        self,
        *,
        business_number: str,
        now_ms: int,
        offset: int,
        limit: int,
        record_delay_s: float = 0.0,
        group_message_id: str | None = None,
        user_number: str | None = None,
        template_code: str | None = None,
        message_status: str | None = None,
        event_action: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[dict[str, Any]]:
        """One page of records matching every given filter, oldest message first; a reply
        follows the message it answers. ``StartTime``/``EndTime`` bound a record's own time
        (acceptance, or the reply's). A GroupMessageId or TemplateCode filter matches sent
        messages only: a reply belongs to no bulk send and has no template.

        Records become visible ``record_delay_s`` after they happen.
        """
        visible_until = now_ms - int(record_delay_s * 1000)
        if end_ms is None or end_ms > visible_until:
            end_ms = visible_until
        want_down = event_action in (None, DOWN)
        want_up = event_action in (None, UP) and self._any_inbound and group_message_id is None and not template_code

        def in_time(ms: int) -> bool:
            return ms <= end_ms and (start_ms is None or ms >= start_ms)

        def group_ok(group: Group) -> bool:
            return (
                group.business_number == business_number
                and group.accepted_ms <= end_ms
                and (group_message_id is None or group.group_message_id == group_message_id)
                and (template_code is None or group.template_code == template_code)
            )

        candidates: Iterator[tuple[Group, int]]
        if user_number is not None:
            candidates = self._positions_of(user_number)
        elif group_message_id is not None:
            group = self._by_group_id.get(group_message_id)
            candidates = iter(()) if group is None else ((group, i) for i in range(len(group.numbers)))
        else:
            earliest = None if start_ms is None else start_ms - (self._max_reply_lag_ms if want_up else 0)
            low = 0 if earliest is None else bisect.bisect_left(self._accepted_ms, earliest)
            high = bisect.bisect_right(self._accepted_ms, end_ms)
            candidates = (
                (group, i) for group in self._groups[low:high] for i in range(len(group.numbers))
            )

        def matching() -> Iterator[dict[str, Any]]:
            for group, i in candidates:
                if not group_ok(group):
                    continue
                if (
                    want_down
                    and in_time(group.accepted_ms)
                    and (message_status is None or self.status(group, i, now_ms)[0] == message_status)
                ):
                    yield self.record(group, i, now_ms)
                if want_up and message_status in (None, _REPLY_STATUS):
                    reply_ms = self.reply_ms(group, i)
                    if reply_ms is not None and in_time(reply_ms):
                        yield self.reply_record(group, i, reply_ms)

        return list(islice(matching(), offset, offset + limit))

    def _positions_of(self, number: str) -> Iterator[tuple[Group, int]]:
        known = self._by_number.get(number)
        if known is None:
            return
        for position in [known] if isinstance(known, int) else list(known):
            yield self._groups[position // _SLOTS_PER_GROUP], position % _SLOTS_PER_GROUP


def _fail_reason(u: float) -> str:
    cumulative = 0.0
    for reason, share in FAIL_REASONS:
        cumulative += share
        if u < cumulative:
            return reason
    return FAIL_REASONS[-1][0]
