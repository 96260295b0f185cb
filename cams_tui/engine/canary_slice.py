"""Which batches of a job are its canary, as the job's canary record says.

A canary is planned as the job's first ``batches`` batches. A gateway may refuse one of them
as too large (HTTP 413/414); the journal then splits it into pieces with new indices after
every other batch, and records them under ``pieces`` in the same transaction, so they are sent
and judged with the canary rather than with the rest of the job."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def canary_indices(canary: dict[str, Any]) -> frozenset[int]:
    """The indices of the canary's batches: its first ``batches`` and the pieces split from them."""
    return frozenset(range(int(canary["batches"]))) | frozenset(int(i) for i in canary.get("pieces", ()))


def with_pieces(canary: dict[str, Any], splits: Mapping[int, Iterable[int]]) -> dict[str, Any] | None:
    """``canary`` with the pieces of its split batches added (``splits``: old index → new
    indices); ``None`` when no split batch was one of the canary's."""
    indices = canary_indices(canary)
    added = [new for old, pieces in splits.items() if old in indices for new in pieces]
    if not added:
        return None
    return {**canary, "pieces": sorted({*canary.get("pieces", ()), *added})}
