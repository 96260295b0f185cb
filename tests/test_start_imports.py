"""What the TUI needs before its first frame stays light (see tests/benchmarks/bench_first_frame.py)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path


def test_a_start_imports_neither_pydantic_nor_httpx(tmp_path: Path) -> None:
    """What the TUI needs before its first frame stays light: the models, the client and the
    simulator are imported when first used, after that frame. The settings module is in: a
    first start without an AccessKey shows its first-run dialog over the first frame."""
    code = (
        "import argparse, sys\n"
        "from cams_tui.ui.launch import create_app\n"
        "import cams_tui.cli, cams_tui.ui.screens.compose, cams_tui.ui.screens.settings\n"
        "args = argparse.Namespace(demo=True, theme=None, profile='work', endpoint=None, data_dir=sys.argv[1])\n"
        "create_app(args)\n"
        "heavy = sorted(m for m in ('pydantic', 'httpx', 'h11', 'cams_tui.api.models', 'cams_tui.simulator') if m in sys.modules)\n"
        "print(heavy)\n"
    )
    config = os.path.join(str(tmp_path), "config.toml")
    with open(config, "w", encoding="utf-8") as handle:  # a real profile, credentials and theme included
        handle.write(
            'default_profile = "work"\n[profiles.work]\nrate = 5\ntheme = "cams-light"\nfrom = "2000001"\n'
            '[profiles.work.credentials]\nsource = "env"\n'
        )
    env = dict(os.environ, CAMS_TUI_CONFIG=config)
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def _loaded_after(code: str) -> list[str]:
    watched = ("textual", "cams_tui.ui", "phonenumbers", "cams_tui.engine.journal", "httpx", "pydantic", "tomlkit", "redis")
    probe = code + f"\nimport sys\nprint(sorted(m for m in {watched!r} if m in sys.modules))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(result.stdout)  # the list the probe printed


def test_the_command_line_module_loads_no_front_end_and_no_engine() -> None:
    """``cams-tui send`` never pays for the TUI, and ``--help`` pays for neither: the command
    modules (and the TUI) are imported by the dispatcher only for the command that runs."""
    assert _loaded_after("import cams_tui.cli") == []


def test_the_tui_defers_the_journal_the_number_reader_and_the_config_writer() -> None:
    """The deferred imports of the TUI's start (each says so where it is) do defer."""
    loaded = _loaded_after("import cams_tui.ui.launch, cams_tui.ui.app")
    assert loaded == ["cams_tui.ui", "textual"]


def _loaded_by_command(argv: list[str], folder: Path, watched: tuple[str, ...]) -> list[str]:
    """The ``watched`` modules loaded once ``cams-tui ARGV`` has run in a fresh process
    (no AccessKey, its own data folder and config)."""
    probe = (
        "import sys\n"
        "from cams_tui.cli import main\n"
        "code = main(sys.argv[1:])\n"
        f"print(code, sorted(m for m in {watched!r} if m in sys.modules))\n"
    )
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("ALIBABA_CLOUD_")
    } | {"CAMS_TUI_DATA_DIR": str(folder / "data"), "CAMS_TUI_CONFIG": str(folder / "config.toml")}
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, cwd=folder, check=True
    )
    code, _, loaded = result.stdout.strip().splitlines()[-1].partition(" ")
    assert code == "0", result.stdout + result.stderr
    return ast.literal_eval(loaded)


def test_a_dry_run_never_loads_the_send_path(tmp_path: Path) -> None:
    """``send --dry-run`` plans and validates only: the job runner and the sender are imported
    where a job starts to run (the deferred imports of ``cams_tui.cli.job_run``)."""
    (tmp_path / "campaign.toml").write_text(
        'template_code = "T1"\nlanguage = "en"\nfrom = "2000001"\n\n[recipients]\nfile = "numbers.csv"\n',
        encoding="utf-8",
    )
    (tmp_path / "numbers.csv").write_text("phone\n+639170000001\n+639170000002\n", encoding="utf-8")
    watched = ("cams_tui.engine.run", "cams_tui.engine.sender", "cams_tui.ui", "textual")
    assert _loaded_by_command(["send", "campaign.toml", "--dry-run"], tmp_path, watched) == []


def test_the_reading_commands_never_load_the_send_path(tmp_path: Path) -> None:
    """``jobs`` reads the journal only: none of the sending commands' modules is imported."""
    watched = (
        "cams_tui.cli.send", "cams_tui.cli.job_run", "cams_tui.engine.canary", "cams_tui.engine.reconcile",
        "cams_tui.engine.run", "phonenumbers", "textual",
    )
    assert _loaded_by_command(["jobs"], tmp_path, watched) == []


def test_a_dry_run_never_loads_the_http_stack(tmp_path: Path) -> None:
    """``send --dry-run`` plans the whole job (intake, batches, their SenderLists) but never
    reaches CAMS: httpx (and the rich, click and pygments its command line pulls in) stay out."""
    (tmp_path / "numbers.csv").write_text("phone,name\n+639171234567,Ana\n09181234567,Ben\n", encoding="utf-8")
    (tmp_path / "campaign.toml").write_text(
        'template_code = "TPL"\nlanguage = "en"\nfrom = "2000001"\n\n[recipients]\n'
        'file = "numbers.csv"\ndefault_region = "PH"\n',
        encoding="utf-8",
    )
    watched = ("httpx", "rich", "click", "cams_tui.api.client")
    assert _loaded_by_command(["send", "campaign.toml", "--dry-run"], tmp_path, watched) == []
