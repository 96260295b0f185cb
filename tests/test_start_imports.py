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


def test_a_dry_run_never_loads_the_http_stack(tmp_path: Path) -> None:
    """``send --dry-run`` plans the whole job (intake, batches, their SenderLists) but never
    reaches CAMS: httpx (and the rich, click and pygments its command line pulls in) stay out."""
    (tmp_path / "numbers.csv").write_text("phone,name\n+639171234567,Ana\n09181234567,Ben\n", encoding="utf-8")
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(
        'template_code = "TPL"\nlanguage = "en"\nfrom = "2000001"\n\n[recipients]\n'
        'file = "numbers.csv"\ndefault_region = "PH"\n',
        encoding="utf-8",
    )
    code = (
        "import json, sys\n"
        "from cams_tui.cli import main\n"
        f"code = main(['send', {str(campaign)!r}, '--dry-run', '--json'])\n"
        "print(json.dumps([code, sorted(m for m in ('httpx', 'rich', 'click', 'cams_tui.api.client') if m in sys.modules)]))\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CAMS_TUI_ENDPOINT"}
    }
    env.update(CAMS_TUI_CONFIG=str(tmp_path / "no-config.toml"), CAMS_TUI_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    lines = result.stdout.strip().splitlines()
    assert '"recipients": 2' in result.stdout, result.stdout + result.stderr
    assert ast.literal_eval(lines[-1]) == [0, []], result.stdout + result.stderr
