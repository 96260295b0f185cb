"""Counts in words, the same in every front end: plain functions, no imports."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 batch``, ``2 batches``, ``1,000 recipients``: a count and its noun, agreeing."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
