"""What the TUI needs before its first frame stays light (see tests/benchmarks/bench_first_frame.py)."""

from __future__ import annotations

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
