"""The test-suite's layout holds: no test module imports another, and every folder of tests is a package.

A test module that imports another drags that module's tests, fixtures and import-time work into
itself, and breaks when the other is moved or renamed. What tests share lives in ``tests/support``
(plain helpers) and in ``conftest.py`` files (fixtures); this test reads every file of the suite
with ``ast``, function-local imports included, and fails on an import of a test module.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# Benchmark results are data, not code.
SKIPPED = (TESTS / "benchmarks" / "results",)


def _is_test_module(dotted: str) -> bool:
    """Whether ``dotted`` names a test module of the suite (``tests.<...>.test_<name>``)."""
    parts = dotted.split(".")
    return parts[0] == "tests" and parts[-1].startswith("test_")


def _absolute(module: str | None, level: int, package: str) -> str:
    """The absolute name of ``from <dots><module> import ...`` written in ``package``."""
    if level == 0:
        return module or ""
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imported_test_modules(source: str, module_name: str) -> list[str]:
    """The test modules that the code ``source`` of module ``module_name`` imports, in order."""
    package = module_name.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(node.module, node.level, package)
            if _is_test_module(origin):
                found.append(origin)
            # `from tests.ui import test_ui_send` imports the module itself.
            found += [f"{origin}.{alias.name}" for alias in node.names if _is_test_module(f"{origin}.{alias.name}")]
    return found


def _suite_files() -> list[Path]:
    return sorted(
        path for path in TESTS.rglob("*.py") if not any(path.is_relative_to(skipped) for skipped in SKIPPED)
    )


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_the_check_finds_every_way_of_importing_a_test_module() -> None:
    bad = """
from tests.cli.test_headless import demo_campaign
import tests.ui.test_ui_send
import tests.ui.test_ui_send as monitor_tests
from tests.ui import test_ui_flow, conftest
from .test_ui_jobs import wait_for
from . import test_ui_footer
from ..engine.test_canary import make_job

def later():
    from tests.engine.test_limiters import lock_file_for
"""
    assert imported_test_modules(bad, "tests.ui.test_example") == [
        "tests.cli.test_headless",
        "tests.ui.test_ui_send",
        "tests.ui.test_ui_send",
        "tests.ui.test_ui_flow",
        "tests.ui.test_ui_jobs",
        "tests.ui.test_ui_footer",
        "tests.engine.test_canary",
        "tests.engine.test_limiters",
    ]
    good = """
import pytest
from tests.support.ui_host import HostApp, wait_for
from tests.support import engine
from cams_tui.ui import test_host
from . import conftest
"""
    assert imported_test_modules(good, "tests.ui.test_example") == []


def test_no_file_of_the_suite_imports_a_test_module() -> None:
    files = _suite_files()
    assert len([f for f in files if f.name.startswith("test_")]) > 50, "the suite was not found"
    offenders = {
        str(path.relative_to(ROOT)): imported
        for path in files
        if (imported := imported_test_modules(path.read_text(encoding="utf-8"), _module_name(path)))
    }
    assert offenders == {}, (
        "move what these share into tests/support (helpers) or a conftest.py (fixtures): " + repr(offenders)
    )


def test_every_folder_of_tests_is_a_package() -> None:
    # Without __init__.py, two test modules of the same name in two folders would collide on import.
    folders = {path.parent for path in _suite_files() if path.name.startswith("test_")}
    assert {folder for folder in folders if not (folder / "__init__.py").exists()} == set()
