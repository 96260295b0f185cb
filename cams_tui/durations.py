"""Durations as operators write them (``90s``, ``15m``, ``1d 12h``) and as we show them."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+)\s*([smhdw]?)", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """Seconds from ``"90"``, ``"90s"``, ``"15m"``, ``"12h"``, ``"1d 12h"`` or ``"2w"``.

    A bare number is seconds. Raises :class:`ValueError` with a plain message otherwise.
    """
    compact = text.strip().lower().replace(",", "")
    if not compact:
        raise ValueError("empty")
    total = 0
    position = 0
    for match in _DURATION_PART.finditer(compact):
        if compact[position : match.start()].strip():
            break
        total += int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
        position = match.end()
    if position == 0 or compact[position:].strip():
        raise ValueError(f"{text.strip()!r} is not a duration: write e.g. 90s, 15m, 12h or 1d 12h")
    return total


def format_duration(seconds: float) -> str:
    """A duration in the largest units that fit, e.g. ``1d 12h``, ``15m``, ``45s``."""
    whole = round(seconds)
    if whole <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, whole = divmod(whole, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2])
