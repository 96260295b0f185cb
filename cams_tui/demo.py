"""The demo: the built-in CAMS simulator and a journal of its own, for every front end.

``cams-tui --demo`` (the TUI) and ``cams-tui --demo send|resume|reconcile|jobs|export|
templates|doctor`` run on the same simulator setup: its demo account, its CustSpaceId, and
the data dir's ``demo/`` folder for the journal and the simulator's records (so that a
lookup after a restart finds what was accepted before). The demo never reads the user's
credentials, never uses the profile's shared limiter, and never writes the config.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
from pathlib import Path

from cams_tui.api.credentials import Credentials
from cams_tui.config import DEMO_PROFILE, RunContext
from cams_tui.paths import ensure_private_dir

DEMO_DIR = "demo"
"""The demo's folder inside the data dir: its journal, its simulator records, its theme."""
DEMO_RECORDS_FILE = "simulator-records.jsonl"
"""What the demo simulator accepted, kept beside the demo journal."""
DEMO_SERVICE_ID = "2000001"
"""The demo account's Viber Service ID."""
DEMO_CUST_SPACE_ID = "cams-demo-shop"
"""The simulator's CustSpaceId (``simulator.demo_data.DEMO_CUST_SPACE_ID``), repeated here so
that the TUI's first frame need not import the simulator."""

_running = contextlib.ExitStack()
atexit.register(_running.close)


def demo_dir(data_dir: Path) -> Path:
    """Where the demo keeps its journal and records, under ``data_dir``."""
    return data_dir / DEMO_DIR


def start_demo_simulator(
    folder: Path, *, seed: int | None = None, latency_ms: int = 0, stack: contextlib.ExitStack | None = None
) -> tuple[str, object]:
    """Start the demo simulator (its records in ``folder``) in a thread; return its URL and
    the credentials it accepts. It stops when ``stack`` closes (default: when the process exits)."""
    # For start-up time: the simulator loads only for the demo.
    from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig

    ensure_private_dir(folder)
    simulator = Simulator(
        SimulatorConfig(seed=seed, latency_ms=latency_ms, records_path=folder / DEMO_RECORDS_FILE)
    )
    url = (stack or _running).enter_context(simulator.run_in_thread(host="127.0.0.1", port=0))
    return url, Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)


def headless_demo_context(context: RunContext) -> RunContext:
    """``context`` turned to the demo for a headless command: the simulator (started now),
    its credentials and space, the demo journal, this process's own limiter."""
    folder = demo_dir(context.data_dir)
    url, credentials = start_demo_simulator(folder)
    profile = dataclasses.replace(
        context.profile,
        cust_space_id=DEMO_CUST_SPACE_ID,
        from_=DEMO_SERVICE_ID,
        endpoint=None,
        limiter="process",
        account=None,
        # The user's own key source is not the demo's: a stored secret is not carried along.
        credentials=type(context.profile.credentials)(),
    )
    return dataclasses.replace(
        context,
        profile_name=DEMO_PROFILE,
        profile=profile,
        endpoint=url,
        credentials=credentials,  # type: ignore[arg-type]
        data_dir=folder,
        demo=True,
    )


def command(text: str, *, demo: bool) -> str:
    """A ``cams-tui`` command line as the operator should type it (``--demo`` for a demo job)."""
    return f"cams-tui --demo {text}" if demo else f"cams-tui {text}"
