"""Fixtures every area of the test-suite uses: the simulator, and the environment of a command-line run.

Each area's own fixtures live in its folder's conftest.py; plain helpers in :mod:`tests.support`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cams_tui.api.credentials import Credentials
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig

# ---------------------------------------------------------------------------- simulator


@pytest.fixture
def demo_credentials() -> Credentials:
    """The credentials the simulator accepts by default."""
    return Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)


@pytest.fixture
def simulator() -> Simulator:
    """A fresh simulator with a fixed seed (serve it with ``sim_url`` or ``threaded_sim_url``)."""
    return Simulator(SimulatorConfig(seed=1234))


@pytest.fixture
async def sim_url(simulator: Simulator) -> AsyncIterator[str]:
    """The base URL of ``simulator`` served in the test's event loop."""
    async with simulator.serve() as url:
        yield url


@pytest.fixture
def threaded_sim_url(simulator: Simulator) -> Iterator[str]:
    """The base URL of ``simulator`` served from its own thread (for synchronous code)."""
    with simulator.run_in_thread() as url:
        yield url


# ------------------------------------------------------------- a command-line run
# Used by the CLI tests and by the engine tests that drive a whole job through `cams-tui send`.


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    """A simulator at 50 requests/s and 5 ms latency served from its own thread, and its URL."""
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=3))
    with simulator.run_in_thread(port=0) as url:
        yield simulator, url


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo credentials in the environment, no config file, the data folder under ``tmp_path``;
    returns ``tmp_path``."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    monkeypatch.delenv("CAMS_TUI_ENDPOINT", raising=False)
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("CAMS_TUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path
