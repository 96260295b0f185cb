"""The package stays readable in pieces: no module over 500 lines, no function over 80.

A module that grows past the first limit holds more than one job and should be split by
concern; a function past the second does several steps that deserve names of their own.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cams_tui"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def too_long(source: str, name: str) -> list[str]:
    """What in ``source`` (the text of module ``name``) is over the limits, in words."""
    found: list[str] = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}: {length} lines (at most {MAX_FUNCTION_LINES})")
    return found


def test_the_check_finds_a_long_module_and_a_long_function() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    source = "def long():\n" + body + "\n" * (MAX_MODULE_LINES - MAX_FUNCTION_LINES)
    assert too_long(source, "example") == [
        f"example: {MAX_MODULE_LINES + 1} lines (at most {MAX_MODULE_LINES})",
        f"example:1 long: {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})",
    ]
    assert too_long("def short():\n    return 1\n", "example") == []


def test_no_module_or_function_of_the_package_is_too_long() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 100
    found = [line for path in paths for line in too_long(path.read_text(encoding="utf-8"), str(path))]
    assert found == []
