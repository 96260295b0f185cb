"""A `cams-tui send` in a process of its own, killed with SIGKILL at a chosen moment."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from cams_tui.engine.journal import ENV_KILL_AT_COMMIT

TRIALS = 20
RECIPIENTS = 2000
BATCH = 100  # 20 batches: 1 job commit, 1 recovery, 1 state, 2 per attempt, 1 final


def send_and_kill(
    campaign: Path,
    url: str,
    data: Path,
    env: dict[str, str],
    rng: random.Random,
    trial: int,
    *,
    finished_codes: tuple[int, ...] = (0,),
) -> str:
    """Start a send and SIGKILL it, at a journal commit (even trials) or from outside after
    some answers (odd ones); returns how it died. A send that outran its kill must exit
    with one of ``finished_codes``."""
    child_env = {**env, "CAMS_TUI_DATA_DIR": str(data)}
    if trial % 2 == 0:
        when = "before" if trial % 4 == 0 else "after"
        child_env[ENV_KILL_AT_COMMIT] = f"{when}:{rng.randint(1, 45)}"
        how = child_env[ENV_KILL_AT_COMMIT]
        answers = None
    else:
        answers = rng.randint(0, 18)
        how = f"external after {answers} answers"
    process = subprocess.Popen(
        [sys.executable, "-m", "cams_tui", "send", str(campaign), "--yes", "--json", "--rate", "100",
         "--batch-size", str(BATCH), "--endpoint", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env,
    )
    assert process.stdout is not None
    if answers is not None:
        seen = 0
        for line in process.stdout:
            if json.loads(line)["event"] == "batch":
                seen += 1
                if seen > answers:
                    time.sleep(rng.random() * 0.02)
                    break
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode in (*finished_codes, -signal.SIGKILL), (how, process.returncode)
    return how + (" (finished before the kill)" if process.returncode != -signal.SIGKILL else "")
