"""Checked tables: the fields of a TOML table declared once, its values checked, its errors named.

The config file and theme files are read before the TUI's first frame, so their models are
plain dataclasses checked by these few functions rather than pydantic models: importing
pydantic and building a model's validator costs about 70 ms, a third of a bare Textual app's
whole start. (The request models, the campaign and the journal still use pydantic; nothing
before the first frame needs them.)

A field is a :class:`Field`: its attribute, its key in the file (``from`` for ``from_``), a
default, and a *check* that returns the value to keep (normalized) or raises ``ValueError``
with words a person editing the file can act on. :class:`CheckedTable` runs the checks of a
dataclass instance in ``__post_init__``, so every instance is valid however it was made, and
reads it from a TOML table, refusing unknown keys with a suggestion.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Self

Location = tuple[str, ...]
Check = Callable[[Any], Any]


class TableError(ValueError):
    """Values that do not fit their fields; each problem names the key at fault."""

    def __init__(self, problems: Sequence[tuple[Location, str]]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(where) or '(top level)'}: {message}" for where, message in self.problems)

    def under(self, *prefix: str) -> TableError:
        """The same problems, located inside ``prefix`` (a parent table's keys)."""
        return TableError([((*prefix, *where), message) for where, message in self.problems])


@dataclasses.dataclass(frozen=True)
class Field:
    """One key of a table: the attribute it fills, its name in the file, and its check."""

    attribute: str
    check: Check
    key: str = ""
    """The key in the file, when it differs from the attribute (``from`` for ``from_``)."""

    @property
    def name(self) -> str:
        """The key as written in the file."""
        return self.key or self.attribute


def check_fields(instance: object, fields: Iterable[Field]) -> None:
    """Check (and normalize) every field of a dataclass instance; raise every problem at once."""
    problems: list[tuple[Location, str]] = []
    for field in fields:
        try:
            value = field.check(getattr(instance, field.attribute))
        except TableError as error:
            problems.extend(error.under(field.name).problems)
        except ValueError as error:
            problems.append(((field.name,), str(error)))
        else:
            object.__setattr__(instance, field.attribute, value)  # frozen dataclasses too
    if problems:
        raise TableError(problems)


def kwargs_from_table(data: object, fields: Sequence[Field], *, required: Iterable[str] = ()) -> dict[str, Any]:
    """Constructor arguments from a TOML table: keys renamed to attributes, unknown keys refused."""
    if not isinstance(data, Mapping):
        raise TableError([((), f"must be a table, not {_kind(data)}")])
    by_name = {field.name: field for field in fields}
    problems: list[tuple[Location, str]] = []
    for key in data:
        if key not in by_name:
            problems.append(((str(key),), unknown_key_message(str(key), by_name)))
    problems.extend(((name,), "required") for name in required if name not in data)
    if problems:
        raise TableError(problems)
    return {by_name[key].attribute: value for key, value in data.items()}


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    """``unknown key (did you mean 'region'?); known keys: …``."""
    names = sorted(known)
    close = difflib.get_close_matches(key, names, n=1)
    return "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "") + f"; known keys: {', '.join(names)}"


def table_of(fields: Sequence[Field], instance: object) -> dict[str, Any]:
    """The instance as a TOML table: file key names, ``None`` left out, enums as their values."""
    return {field.name: _plain(value) for field in fields if (value := getattr(instance, field.attribute)) is not None}


def _plain(value: object) -> object:
    if isinstance(value, CheckedTable):
        return value.to_table()
    if isinstance(value, dict):
        return {key: _plain(entry) for key, entry in value.items()}
    return value.value if isinstance(value, enum.Enum) else value


class CheckedTable:
    """A dataclass whose fields (``FIELDS``) are checked however it is made, read from and
    written to a TOML table. Subclasses are ``@dataclass``es and declare ``FIELDS``."""

    FIELDS: ClassVar[tuple[Field, ...]] = ()
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    """Keys a table must hold (those without a default)."""

    def __post_init__(self) -> None:
        check_fields(self, self.FIELDS)

    @classmethod
    def from_table(cls, data: object) -> Self:
        """An instance from its TOML table, checked; unknown keys are refused."""
        return cls(**kwargs_from_table(data, cls.FIELDS, required=cls.REQUIRED))

    def to_table(self) -> dict[str, Any]:
        """As written in a TOML file: unset keys left out."""
        return table_of(self.FIELDS, self)


# ------------------------------------------------------------------ checks


def _kind(value: object) -> str:
    return {bool: "true/false", str: "text", int: "a number", float: "a number", dict: "a table", list: "a list"}.get(
        type(value), type(value).__name__
    )


def text(value: object) -> str:
    """A string."""
    if not isinstance(value, str):
        raise ValueError(f"must be text (in quotes), not {_kind(value)}")
    return value


def optional(check: Check) -> Check:
    """``check``, or ``None`` for an unset value."""

    def optional_check(value: object) -> object:
        return None if value is None else check(value)

    return optional_check


def boolean(value: object) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {_kind(value)}")
    return value


def number(
    *, gt: float | None = None, ge: float | None = None, lt: float | None = None, le: float | None = None
) -> Check:
    """A number (text holding one is accepted, as typed in a form) within the given bounds."""
    bounds = [
        (gt, lambda v: v > gt, f"greater than {gt:g}" if gt is not None else ""),
        (ge, lambda v: v >= ge, f"at least {ge:g}" if ge is not None else ""),
        (lt, lambda v: v < lt, f"less than {lt:g}" if lt is not None else ""),
        (le, lambda v: v <= le, f"at most {le:g}" if le is not None else ""),
    ]
    wanted = " and ".join(words for bound, _, words in bounds if bound is not None)

    def number_check(value: object) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {_kind(value)}")
        if value != value or not all(test(value) for bound, test, _ in bounds if bound is not None):  # NaN fails too
            raise ValueError(f"must be {wanted}, not {value:g}")
        return float(value)

    return number_check


def one_of(choices: Sequence[str]) -> Check:
    """One of ``choices``."""

    def one_of_check(value: object) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
        return str(value)

    return one_of_check


def text_map(check_entry: Callable[[str, str], None]) -> Check:
    """A table of text values; ``check_entry(name, value)`` raises ``ValueError`` for a bad one."""

    def text_map_check(value: object) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise ValueError(f"must be a table, not {_kind(value)}")
        problems: list[tuple[Location, str]] = []
        for name, entry in value.items():
            try:
                check_entry(str(name), text(entry))
            except ValueError as error:
                problems.append(((str(name),), str(error)))
        if problems:
            raise TableError(problems)
        return dict(value)

    return text_map_check
