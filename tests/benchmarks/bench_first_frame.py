"""First frame of ``cams-tui --demo`` against a bare Textual app (Header, DataTable, Footer).

Both run as a user runs them: a fresh process in a real pseudo-terminal (``TERM=xterm-256color``,
120×36 by default), imports and all. The clock starts when the process is spawned and stops
when the terminal has received a whole first frame: for the bare app, its footer; for
cams-tui, the compose screen's footer and its "Templates" table (the template step). Runs
alternate between the two; the medians and their ratio are printed. The target: cams-tui
within 1.5× the bare app.

    uv run python tests/benchmarks/bench_first_frame.py [--runs 15] [--size 120x36]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REFERENCE = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

Bare().run()
"""

# Text that only a finished first frame holds. Textual writes a whole frame at once, in
# synchronized-output mode, so seeing the last widget's text means the frame is complete.
BARE_MARKERS = ("palette",)
CAMS_MARKERS = ("palette", "Templates")
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[P\]^_].*?(?:\x07|\x1b\\)|\x1b[@-Z\\-_]", re.DOTALL)


def first_frame_s(command: list[str], markers: tuple[str, ...], env: dict[str, str], size: tuple[int, int]) -> float:
    """Seconds from spawning ``command`` in a pseudo-terminal to the output holding every marker."""
    columns, rows = size
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, env=env, start_new_session=True, close_fds=True
    )
    os.close(terminal)
    output = bytearray()
    try:
        deadline = started + 30
        while True:
            ready, _, _ = select.select([controller], [], [], max(0.0, deadline - time.perf_counter()))
            if not ready:
                raise SystemExit(f"no first frame within 30 s from {command}:\n{_text(output)[-2000:]}")
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # the process ended and closed the terminal
                raise SystemExit(f"{command} ended before its first frame:\n{_text(output)[-2000:]}") from None
            output += chunk
            text = _text(output)
            if all(marker in text for marker in markers):
                return time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(controller)


def _text(output: bytes) -> str:
    return ESCAPES.sub(b"", bytes(output)).decode("utf-8", "replace")


def main() -> None:
    """Measure both apps and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", default="120x36", help="terminal size, COLUMNSxROWS")
    options = parser.parse_args()
    size = tuple(int(part) for part in options.size.split("x"))
    cams_tui = str(Path(sys.executable).with_name("cams-tui"))
    bare: list[float] = []
    cams: list[float] = []
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ, TERM="xterm-256color", CAMS_TUI_CONFIG=os.path.join(data_dir, "config.toml"))
        env["CAMS_TUI_DATA_DIR"] = data_dir
        # An installed app runs from bytecode caches: let the warm-up runs write them, so that
        # neither app is timed compiling its sources. No credentials: this is the demo.
        for name in ("COLORTERM", "PYTHONDONTWRITEBYTECODE", "ALIBABA_CLOUD_ACCESS_KEY_ID",
                     "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
            env.pop(name, None)
        reference = [sys.executable, "-c", REFERENCE]
        ours = [cams_tui, "--demo"]
        for _ in range(2):  # warm the OS file cache and the bytecode caches of both
            first_frame_s(reference, BARE_MARKERS, env, size)
            first_frame_s(ours, CAMS_MARKERS, env, size)
        for _ in range(options.runs):
            bare.append(first_frame_s(reference, BARE_MARKERS, env, size))
            cams.append(first_frame_s(ours, CAMS_MARKERS, env, size))
    bare_median, cams_median = statistics.median(bare), statistics.median(cams)
    print(f"terminal {size[0]}x{size[1]}, {options.runs} runs each, alternating")
    print(f"bare Textual app (Header, DataTable, Footer): median {bare_median * 1000:.0f} ms  "
          f"min {min(bare) * 1000:.0f}  runs {', '.join(f'{t * 1000:.0f}' for t in bare)}")
    print(f"cams-tui --demo (compose screen):              median {cams_median * 1000:.0f} ms  "
          f"min {min(cams) * 1000:.0f}  runs {', '.join(f'{t * 1000:.0f}' for t in cams)}")
    ratio = cams_median / bare_median
    print(f"ratio of medians {ratio:.2f} (target ≤ 1.50): {'ok' if ratio <= 1.5 else 'too slow'}")
    if ratio > 1.5:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
