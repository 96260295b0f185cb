"""Template variables vs. the values a list and a campaign provide for them.

A variable takes its value from the recipient's column of the same name when that cell is
not empty, else from the campaign's global ``[params]``. A variable with neither is
missing for that recipient; CAMS would reject or send a broken message, so the send must
not start until :attr:`ParamsReport.ok`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cams_tui.recipients.intake import IntakeReport, RecipientRow

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINES_LISTED = 5


@dataclass(frozen=True)
class MissingParam:
    """A template variable some recipients have no value for."""

    name: str
    count: int
    first_lines: list[int]
    """Line numbers of the first recipients missing it (at most five)."""


@dataclass
class ParamsReport:
    """Where each template variable's value comes from, and what is missing."""

    from_columns: list[str] = field(default_factory=list)
    """Variables with a column in the list (global values, if any, fill its empty cells)."""
    from_globals: list[str] = field(default_factory=list)
    """Variables given only by the campaign's global parameters."""
    missing: list[MissingParam] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)
    unused_globals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Global values that cannot be sent (control characters), with the fix."""

    @property
    def ok(self) -> bool:
        """Every recipient has a value for every variable, and every value can be sent."""
        return not self.missing and not self.errors

    def problems(self) -> list[str]:
        """One sentence per problem, for the CLI and the review screen."""
        out = list(self.errors)
        for item in self.missing:
            lines = ", ".join(map(str, item.first_lines))
            more = "…" if item.count > len(item.first_lines) else ""
            out.append(
                f"variable {item.name!r} has no value for {item.count} recipient(s) "
                f"(lines {lines}{more}); fill the column or add it to [params]"
            )
        return out


def check_params(
    report: IntakeReport, template_variables: Sequence[str], global_params: Mapping[str, str]
) -> ParamsReport:
    """Match a template's variables with the list's columns and the global parameters."""
    store = report.recipients
    globals_ = {name: value.strip() for name, value in global_params.items()}
    result = ParamsReport()
    for name, value in globals_.items():
        found = _CONTROL.search(value)
        if found is not None:
            result.errors.append(
                f"global parameter {name!r} contains a control character "
                f"(U+{ord(found.group()):04X}); remove it"
            )
    columns = set(store.param_names)
    for name in dict.fromkeys(template_variables):
        has_global = bool(globals_.get(name))
        if name in columns:
            result.from_columns.append(name)
            if has_global:
                continue
            column = store.columns[name]
            empty = [i for i, value in enumerate(column) if not value]
            if empty:
                lines = [store.lines[i] for i in empty[:_LINES_LISTED]]
                result.missing.append(MissingParam(name, len(empty), lines))
        elif has_global:
            result.from_globals.append(name)
        elif len(store):
            lines = list(store.lines[:_LINES_LISTED])
            result.missing.append(MissingParam(name, len(store), lines))
    wanted = set(template_variables)
    result.unused_columns = [name for name in store.param_names if name not in wanted]
    result.unused_globals = [name for name in globals_ if name not in wanted]
    return result


def resolve_params(
    row: RecipientRow, template_variables: Sequence[str], global_params: Mapping[str, str]
) -> dict[str, str]:
    """The TemplateParams of one recipient: its non-empty cells, else the global values."""
    values: dict[str, str] = {}
    for name in template_variables:
        value = row.params.get(name) or global_params.get(name, "").strip()
        if value:
            values[name] = value
    return values
