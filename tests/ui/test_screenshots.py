"""The screenshot script keeps working: it renders a subset of scenes to SVG in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "export_screenshots.py"


def _svg_text(path: Path) -> str:
    # Textual writes each space as a non-breaking space entity.
    return path.read_text(encoding="utf-8").replace("&#160;", " ")


def test_script_renders_scenes_to_svg(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    env = {**os.environ, "CAMS_TUI_CONFIG": str(tmp_path / "must-not-be-used.toml")}
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--only", "compose-template", "settings", "first-run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["compose-template.svg", "first-run.svg", "settings.svg"]
    template = _svg_text(out / "compose-template.svg")
    assert template.lstrip().startswith("<svg") and "DEMO" in template and "order_shipped" in template
    settings = _svg_text(out / "settings.svg")
    assert "ph-marketing" in settings and "AccessKey from" in settings
    assert "~/.config/cams-tui/" in settings  # a throw-away home, not the real one
    assert "Try the demo" in _svg_text(out / "first-run.svg")
    assert not (tmp_path / "must-not-be-used.toml").exists()


def test_script_lists_scenes_and_refuses_unknown_ones() -> None:
    listed = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "send-monitor" in listed.stdout and "theme-viber" in listed.stdout
    wrong = subprocess.run([sys.executable, str(SCRIPT), "--only", "nope"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0 and "unknown scene(s): nope" in wrong.stderr
