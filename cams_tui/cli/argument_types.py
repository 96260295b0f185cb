"""The argparse types of the command line's values: each refuses a bad value with a message
naming what the flag means and what it takes (a usage error, exit 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from cams_tui.engine.limiters.factory import check_local_senders


def number_type(what: str, unit: str, low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    """An argparse type for a number from ``low`` (or above it) to ``high``, with messages
    that name the flag's meaning and the range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} takes a number of {unit}, not {text!r}") from None
        if not (low < value if above_low else low <= value) or value > high:
            lower = f"above {low:g}" if above_low else f"from {low:g}"
            raise argparse.ArgumentTypeError(f"{what} must be {lower} and at most {high:,g} {unit}")
        return value

    return parse


def region_code(text: str) -> str:
    """An argparse type for ``--default-region``: a region code libphonenumber knows (PH, any
    case), so that a typo is a usage error rather than a failure deep in the number reader."""
    # For start-up time: phonenumbers' metadata loads when a number is first read.
    from cams_tui.recipients.numbers import UnknownRegion, known_region

    try:
        return known_region(text)
    except UnknownRegion:
        raise argparse.ArgumentTypeError(f"give a two-letter region code such as PH, SG or MY, not {text!r}") from None


positive_rate = number_type("--rate", "calls per second", 0, 1000, above_low=True)
lookup_rate = number_type("--lookup-rate", "calls per second", 0, 100, above_low=True)
seconds = number_type("a duration", "seconds", 0, 86_400)


def local_senders(text: str) -> int:
    """An argparse type for ``--local-limiter N``: the share (rate/N) a sender takes when it goes on alone."""
    try:
        return check_local_senders(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def share(text: str) -> float:
    """An argparse type for a share: ``0.2`` or ``20%``, from 0 to below 1."""
    try:
        value = float(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a share such as 0.2 or 20%, not {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("a share must be from 0 to below 1 (0 % to below 100 %)")
    return value
