"""Where each template variable's value comes from, and what a recipients report offers."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

# The models and the campaign (pydantic) are imported where used, so the TUI's first frame
# does not wait for them.
if TYPE_CHECKING:

    pass


class RecipientRow(Protocol):
    """One accepted recipient of a report."""

    to: str
    params: Mapping[str, str]
    line: int


class RecipientsReport(Protocol):
    """What the recipients intake reports (``cams_tui.recipients``)."""

    recipients: Sequence[RecipientRow]
    rejected: Sequence[Any]
    rejected_count: int
    duplicate_count: int
    suppressed_count: int
    per_country: Mapping[str, int]



class ParamSource(str, enum.Enum):
    """Where a variable's value comes from."""

    GLOBAL = "global"
    COLUMN = "CSV column"
    MIXED = "CSV column, else global"
    MISSING = "missing"
    EXTRA = "extra key"


@dataclass(frozen=True)
class ParamRow:
    """One row of the params table."""

    name: str
    value: str
    source: ParamSource
    missing_for: int = 0
    from_column: int = 0
    """How many recipients take this variable from their own column (the global value, if
    any, goes only to the others)."""


MAX_PARAM_VALUE_CHARS = 1000
"""The longest value a variable may take: a Viber template message holds at most 1,000
characters, so a longer value can never be delivered whole."""


def is_set(value: str | None) -> bool:
    """Whether a variable's value counts as given: blank or spaces-only does not."""
    return bool(value and value.strip())
