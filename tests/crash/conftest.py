"""Fixtures of the crash tests: the environment of a `cams-tui` process that is killed and resumed.

Unlike the command-line ``env`` of tests/conftest.py (which returns the folder), this one returns the
environment itself, handed to the child processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The demo credentials and no config file, as the environment a killed process is started with."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    monkeypatch.delenv("CAMS_TUI_ENDPOINT", raising=False)
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    return dict(os.environ)
