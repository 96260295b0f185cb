"""The TUI's way to CAMS: a real account, or the built-in simulator in demo mode.

The simulator is started lazily, on the first call, in its own thread with its own event
loop, so that neither the first frame nor the UI loop pays for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cams_tui.config import RunContext

if TYPE_CHECKING:
    from cams_tui.api.client import CamsClient
    from cams_tui.api.credentials import Credentials

from cams_tui.demo import DEMO_CUST_SPACE_ID, DEMO_SERVICE_ID, demo_dir, start_demo_simulator

__all__ = ["DEMO_CUST_SPACE_ID", "DEMO_SERVICE_ID", "Connection"]


@dataclass
class Connection:
    """Where the TUI sends its requests, and with which credentials."""

    context: RunContext
    demo: bool
    simulator_seed: int | None = None
    """Seed of the demo simulator (fixed in tests, so ids repeat)."""
    simulator_latency_ms: int = 40
    """Latency the demo simulator adds, so a demo send looks like a real one."""

    def __post_init__(self) -> None:
        self._client: CamsClient | None = None
        self._endpoint: str | None = None
        self._credentials: Credentials | None = None
        self._stack = contextlib.ExitStack()
        self._lock = asyncio.Lock()

    @property
    def data_dir(self) -> Path:
        """The journal's folder; demo jobs are kept apart from real ones."""
        return demo_dir(self.context.data_dir) if self.demo else self.context.data_dir

    @property
    def rate(self) -> float:
        """SendChatappMassMessage calls per second."""
        return self.context.rate

    @property
    def label(self) -> str:
        """What the header says about the account, e.g. ``DEMO · simulator``."""
        if self.demo:
            return "DEMO · built-in simulator"
        return f"profile {self.context.profile_name} · {self.context.endpoint}"

    async def client(self) -> CamsClient:
        """The shared client, created (and the simulator started) on first use."""
        async with self._lock:
            if self._client is None:
                endpoint, credentials = await self.target()
                # For start-up time: the client and its models (httpx, pydantic) load on first use.
                from cams_tui.api.client import CamsClient

                self._client = CamsClient(credentials, endpoint, placement=self.context.profile.placement)
            return self._client

    async def target(self) -> tuple[str, Credentials]:
        """The endpoint and credentials requests go to (starting the simulator if needed)."""
        if self._endpoint is not None and self._credentials is not None:
            return self._endpoint, self._credentials
        if self.demo:
            endpoint, credentials = await asyncio.to_thread(self._start_simulator)
        else:
            if self.context.credentials is None:
                raise RuntimeError("no credentials: run with --demo, or set ALIBABA_CLOUD_ACCESS_KEY_ID")
            endpoint, credentials = self.context.endpoint, self.context.credentials
        self._endpoint, self._credentials = endpoint, credentials
        return endpoint, credentials

    def _start_simulator(self) -> tuple[str, Credentials]:
        url, credentials = start_demo_simulator(
            self.data_dir, seed=self.simulator_seed, latency_ms=self.simulator_latency_ms, stack=self._stack
        )
        return url, credentials  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Close the client and stop the simulator."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await asyncio.to_thread(self._stack.close)
