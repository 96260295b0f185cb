"""Where cams-tui keeps its files: one place for every path (platformdirs + overrides)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "cams-tui"
ENV_CONFIG = "CAMS_TUI_CONFIG"
ENV_DATA_DIR = "CAMS_TUI_DATA_DIR"


def config_path() -> Path:
    """The config file: ``$CAMS_TUI_CONFIG``, else ``config.toml`` in the user config dir."""
    override = os.environ.get(ENV_CONFIG, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def config_dir() -> Path:
    """The folder of the config file (user themes live in its ``themes/``)."""
    return config_path().parent


def data_dir(override: str | Path | None = None) -> Path:
    """The data dir (journal, opt-out list): ``--data-dir``, ``$CAMS_TUI_DATA_DIR``, or the user data dir."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` if needed, readable by its owner only (it holds phone numbers).

    Folders created on the way (the data dir above a journal's folder) are private too. A
    folder that already existed, ``path`` included, keeps its mode: it may be shared (``/tmp``)
    or set so on purpose, and it is not ours to change; the files in it are made 0600.
    """
    missing: list[Path] = []
    ancestor = path
    while not ancestor.exists():
        missing.append(ancestor)
        ancestor = ancestor.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process made it at the same moment: not ours either
        os.chmod(folder, 0o700)  # mkdir's mode is narrowed by the umask, never widened
    return path


def aliyun_cli_config_path() -> Path:
    """The aliyun CLI's profiles file."""
    return Path.home() / ".aliyun" / "config.json"
