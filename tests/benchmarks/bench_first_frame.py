"""First frame of ``cams-tui --demo`` against a bare Textual app (Header, DataTable, Footer).

Each app runs in a fresh subprocess (imports included, as a user pays them), headless, and
reports the moment its first frame was drawn (Textual's ``Ready`` event, then one more
refresh). Runs alternate between the two; the medians and their ratio are printed. The
target: cams-tui within 1.5× the bare app.

    uv run python tests/benchmarks/bench_first_frame.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REFERENCE = """
import sys, time
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_ready(self):
        self.call_after_refresh(self.done)

    def done(self):
        print(time.time())
        self.exit()

Bare().run(headless=True, size=(120, 36))
"""

CAMS = """
import argparse, sys, time
from cams_tui.ui.app import CamsApp

def on_ready(self):
    self.call_after_refresh(done, self)

def done(app):
    assert type(app.screen).__name__ == "ComposeScreen", app.screen
    print(time.time())
    app.exit()

CamsApp.on_ready = on_ready
from cams_tui.ui.launch import create_app
args = argparse.Namespace(demo=True, theme=None, profile=None, endpoint=None, data_dir=sys.argv[1])
create_app(args).run(headless=True, size=(120, 36))
"""


def first_frame_s(code: str, data_dir: str) -> float:
    """Seconds from spawning a Python process running ``code`` to its first frame."""
    env = dict(os.environ, CAMS_TUI_CONFIG=os.path.join(data_dir, "config.toml"))
    # An installed app runs from bytecode caches: let the warm-up runs write them, so that
    # neither app is timed compiling its sources.
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-c", code, data_dir], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the app failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1]) - started


def main() -> None:
    """Measure both apps and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    bare: list[float] = []
    cams: list[float] = []
    with tempfile.TemporaryDirectory() as data_dir:
        first_frame_s(REFERENCE, data_dir)  # warm the OS file cache for both
        first_frame_s(CAMS, data_dir)
        for _ in range(runs):
            bare.append(first_frame_s(REFERENCE, data_dir))
            cams.append(first_frame_s(CAMS, data_dir))
    bare_median, cams_median = statistics.median(bare), statistics.median(cams)
    print(f"bare Textual app (Header, DataTable, Footer): median {bare_median * 1000:.0f} ms  "
          f"runs {', '.join(f'{t * 1000:.0f}' for t in bare)}")
    print(f"cams-tui --demo (compose screen):              median {cams_median * 1000:.0f} ms  "
          f"runs {', '.join(f'{t * 1000:.0f}' for t in cams)}")
    ratio = cams_median / bare_median
    print(f"ratio {ratio:.2f} (target ≤ 1.50): {'ok' if ratio <= 1.5 else 'too slow'}")


if __name__ == "__main__":
    main()
