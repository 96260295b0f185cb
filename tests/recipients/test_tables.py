"""Checked tables: values checked and normalized, every problem named by its key."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from cams_tui.tables import CheckedTable, Field, TableError, boolean, number, one_of, optional, text, text_map


def _no_spaces(name: str, value: str) -> None:
    if " " in value:
        raise ValueError(f"{value!r} has a space")


@dataclass
class Sample(CheckedTable):
    colour: str
    rate: float = 1.0
    mode: str = "a"
    note: str | None = None
    on: bool = True
    extra: dict[str, str] = field(default_factory=dict)
    from_: str | None = None

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("colour", lambda value: text(value).strip().upper()),
        Field("rate", number(gt=0, le=10)),
        Field("mode", one_of(("a", "b"))),
        Field("note", optional(text)),
        Field("on", boolean),
        Field("extra", text_map(_no_spaces)),
        Field("from_", optional(text), key="from"),
    )
    REQUIRED: ClassVar[tuple[str, ...]] = ("colour",)


@dataclass
class Outer(CheckedTable):
    inner: dict[str, Sample]

    FIELDS: ClassVar[tuple[Field, ...]] = (Field("inner", lambda value: value),)


def test_values_are_checked_and_normalized() -> None:
    sample = Sample(colour=" red ", rate="2.5")  # type: ignore[arg-type]
    assert (sample.colour, sample.rate) == ("RED", 2.5)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(TableError) as caught:
        Sample(colour=3, rate=0, mode="c", on="yes", extra={"k": "a b"})  # type: ignore[arg-type]
    message = str(caught.value)
    assert "colour: must be text (in quotes), not a number" in message
    assert "rate: must be greater than 0 and at most 10, not 0" in message
    assert "mode: must be one of 'a', 'b', not 'c'" in message
    assert "on: must be true or false, not text" in message
    assert "extra.k: 'a b' has a space" in message
    assert [where for where, _ in caught.value.problems] == [("colour",), ("rate",), ("mode",), ("on",), ("extra", "k")]


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, "ten", [1]])
def test_numbers_refuse_what_is_not_a_number_in_range(bad: object) -> None:
    with pytest.raises(ValueError, match="number|at most"):
        number(gt=0, le=10)(bad)


def test_a_table_uses_the_files_key_names_and_refuses_unknown_keys() -> None:
    assert Sample.from_table({"colour": "x", "from": "123"}).from_ == "123"
    with pytest.raises(TableError) as caught:
        Sample.from_table({"colur": "x", "from_": "1"})
    message = str(caught.value)
    assert "colur: unknown key (did you mean 'colour'?); known keys: colour, extra, from, mode" in message
    assert "from_: unknown key" in message
    assert "colour: required" in message
    with pytest.raises(TableError, match=r"\(top level\): must be a table, not a list"):
        Sample.from_table([1])


def test_problems_are_located_under_their_parent() -> None:
    error = TableError([(("rate",), "bad")]).under("profiles", "work")
    assert str(error) == "profiles.work.rate: bad"


def test_back_to_a_table_without_unset_keys() -> None:
    sample = Sample(colour="red", from_="1")
    expected = {"colour": "RED", "rate": 1.0, "mode": "a", "on": True, "extra": {}, "from": "1"}
    assert sample.to_table() == expected
    assert Sample.from_table(expected) == sample
    assert Outer(inner={"a": sample}).to_table() == {"inner": {"a": expected}}
