"""Shared fixtures of the test-suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

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
