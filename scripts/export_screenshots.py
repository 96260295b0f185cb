"""Render every screen of cams-tui, in demo mode at 120×36, to SVG files for the README.

Headless and reproducible: the built-in simulator with a fixed seed and no latency, no
clock, no blinking cursor, a throw-away home folder (so no real config is read or written),
and the same pasted list every time.

    uv run python scripts/export_screenshots.py                 # all, into screenshots/
    uv run python scripts/export_screenshots.py --only settings --out /tmp/shots
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIZE = (120, 36)
REPO = Path(__file__).resolve().parent.parent

Pilot = Any  # textual.pilot.Pilot, imported lazily with the app


@dataclass(frozen=True)
class Scene:
    """One screenshot: how to start the app, and the keys that lead to the screen."""

    name: str
    description: str
    drive: Callable[[Pilot], Awaitable[None]]
    theme: str | None = None
    first_run: bool = False
    config: str = ""


PASTED = "\n".join(
    ["phone,name"]
    + [f"+63 917 {100 + i:03d} {2000 + i:04d},Customer {i}" for i in range(40)]
    + ["+63 917 12,Nobody", "12345,Nobody", "9592162120,Maybe Myanmar"]
)

SAMPLE_CONFIG = """\
default_profile = "ph-marketing"

[profiles.ph-marketing]
region = "ap-southeast-1"
from = "2000001"
rate = 10.0
default_region = "PH"
theme = "cams-dark"

[profiles.ph-marketing.credentials]
source = "env"

[profiles.th-support]
region = "ap-southeast-1"
from = "2000002"
rate = 5.0
default_region = "TH"

[profiles.th-support.credentials]
source = "aliyun"
aliyun_profile = "support"
"""


async def settle(pilot: Pilot) -> None:
    """Let workers finish and the screen catch up."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def paste(pilot: Pilot, text: str) -> None:
    """What a terminal sends on paste (bracketed paste)."""
    from textual import events

    pilot.app.post_message(events.Paste(text))
    await pilot.pause(0.6)
    await settle(pilot)


async def template_step(pilot: Pilot) -> None:
    await settle(pilot)


async def recipients_step(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)
    await pilot.press("ctrl+n")
    await paste(pilot, PASTED)


async def params_step(pilot: Pilot) -> None:
    await recipients_step(pilot)
    await pilot.press("ctrl+n")
    await pilot.press("down", "enter", *"A-1001", "enter")
    await settle(pilot)


async def options_step(pilot: Pilot) -> None:
    await params_step(pilot)
    await pilot.press("ctrl+n")
    await pilot.press("enter", "down", "enter")
    await pilot.press("tab", *"2m", "tab", *"S0001", "tab", *"Shipped", "tab", *"1d")
    await settle(pilot)


async def review_step(pilot: Pilot) -> None:
    await options_step(pilot)
    await pilot.press("ctrl+n")
    await pilot.press(*"+63 917 100 2000", "enter")
    await settle(pilot)


async def sending(pilot: Pilot) -> None:
    await review_step(pilot)
    await pilot.press("tab", "tab", *str(pilot.app.state.recipient_count), "enter")
    await settle(pilot)
    for _ in range(100):  # the demo send takes a moment; wait for its end, at most 10 s
        if not any(worker.is_running for worker in pilot.app.workers):
            break
        await pilot.pause(0.1)
    await settle(pilot)


BIG_SEND = 200_000
"""Recipients of the send-monitor scene: a real demo send, shown mid-way."""


def _big_job(app: Any) -> str:
    """A 200,000-recipient job of order_shipped in the demo journal (as Review writes one)."""
    from cams_tui.api.client import max_query_length
    from cams_tui.api.endpoints import Placement
    from cams_tui.api.models import MassMessageOptions
    from cams_tui.engine.journal import Journal
    from cams_tui.engine.planning import plan_batches, sender_item
    from cams_tui.simulator.demo_data import DEMO_CUST_SPACE_ID, ORDER_SHIPPED

    options = MassMessageOptions(
        template_code=ORDER_SHIPPED, language="en", From="2000001", cust_space_id=DEMO_CUST_SPACE_ID
    )
    items = (
        sender_item(f"63917{1_000_000 + i:07d}", {"name": f"Customer {i}", "order_id": f"A-{10_000 + i}"})
        for i in range(BIG_SEND)
    )
    batches = plan_batches(items, options, placement=Placement.BODY, max_query_length=max_query_length("http://127.0.0.1:1"))
    with Journal(app.data_dir) as journal:
        return journal.create_job(
            options=options, params={}, batches=batches, endpoint="demo", placement=Placement.BODY, profile="demo"
        )


async def sending_midway(pilot: Pilot) -> None:
    """A 200,000-recipient demo send at the account's 10 calls/s, some seconds in: the bar,
    the rate, the sparkline, the log."""
    await settle(pilot)
    app = pilot.app
    job_id = await asyncio.to_thread(_big_job, app)
    app.start_job(job_id)
    for _ in range(200):  # until about 45 % is sent (10 calls/s of 1,000 recipients)
        await pilot.pause(0.1)
        screen = app.screen
        state = getattr(screen, "state", None)
        if state is not None and getattr(state, "answered", 0) >= 90_000:
            break
    await pilot.pause(0.2)


async def jobs_screen(pilot: Pilot) -> None:
    await sending(pilot)
    await pilot.press("f2")
    await settle(pilot)


async def settings_screen(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)


CHECK_PORT = 47830
"""Where the settings-check scene's CAMS (a simulator) listens: fixed, so the picture repeats."""


async def settings_check(pilot: Pilot) -> None:
    """Check connection on a profile whose account answers (a simulator standing in for
    CAMS): every check passes."""
    await settings_screen(pilot)
    await pilot.press("ctrl+t")
    await settle(pilot)
    for _ in range(50):
        await pilot.pause(0.1)
        await settle(pilot)


async def first_run(pilot: Pilot) -> None:
    await settle(pilot)


SCENES = [
    Scene("compose-template", "Step 1: choose an approved Viber template, with its preview", template_step),
    Scene("compose-recipients", "Step 2: paste or import numbers; rejects listed with a reason", recipients_step),
    Scene("compose-params", "Step 3: template variables from CSV columns or global values", params_step),
    Scene("compose-options", "Step 4: fallback, TTL, label, tag, task ID", options_step),
    Scene("compose-review", "Step 5: review, test send, typed confirmation", review_step),
    Scene("send-monitor", "The send: 200,000 recipients mid-way, the rate, counters and the log", sending_midway),
    Scene("jobs", "The journal's jobs: resume, retry failed or unknown, export", jobs_screen),
    Scene("settings", "Settings: profiles and where their AccessKey comes from", settings_screen, config=SAMPLE_CONFIG),
    Scene(
        "settings-check", "Check connection: the doctor's checks, one line each, all passing", settings_check,
        config=SAMPLE_CONFIG.replace(
            'default_region = "PH"\n',
            f'default_region = "PH"\nendpoint = "http://127.0.0.1:{CHECK_PORT}"\ncust_space_id = "cams-demo-shop"\n',
            1,
        ),
    ),
    Scene("first-run", "First run without an AccessKey: try the demo or set up an account", first_run, first_run=True),
    Scene("theme-light", "The cams-light theme", template_step, theme="cams-light"),
    Scene("theme-high-contrast", "The cams-high-contrast theme", template_step, theme="cams-high-contrast"),
    Scene("theme-viber", "The cams-viber theme", template_step, theme="cams-viber"),
]


async def shoot(scene: Scene, out: Path, home: Path) -> Path:
    """Render one scene to ``out/<name>.svg``."""
    from cams_tui.ui.launch import create_app

    config = home / ".config" / "cams-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.unlink(missing_ok=True)
    if scene.config:
        config.write_text(scene.config, encoding="utf-8")
    os.environ["CAMS_TUI_CONFIG"] = str(config)
    args = argparse.Namespace(
        demo=not scene.first_run, theme=scene.theme, profile=None, endpoint=None, data_dir=str(home / "data" / scene.name)
    )
    app = create_app(args, show_clock=False, blink=False, simulator_seed=7, simulator_latency_ms=0)
    app.offer_first_run = scene.first_run
    with contextlib.ExitStack() as stack:
        if scene.name == "settings-check":
            # The profile's account: a simulator on a fixed port, its keys in the environment.
            from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig

            stack.enter_context(Simulator(SimulatorConfig(seed=7)).run_in_thread(port=CHECK_PORT))
            os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"] = DEMO_ACCESS_KEY_ID
            os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = DEMO_ACCESS_KEY_SECRET
            stack.callback(os.environ.pop, "ALIBABA_CLOUD_ACCESS_KEY_ID", None)
            stack.callback(os.environ.pop, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", None)
        async with app.run_test(size=SIZE) as pilot:
            await scene.drive(pilot)
            path = out / f"{scene.name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
    return path


def _isolate(home: Path) -> None:
    """Point every user-specific location at ``home``: nothing real is read, and nothing leaks."""
    os.environ["HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    os.environ["XDG_DATA_HOME"] = str(home / ".local" / "share")
    for name in (
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "CAMS_TUI_ENDPOINT",
        "CAMS_TUI_DATA_DIR",
        "NO_COLOR",
    ):
        os.environ.pop(name, None)
    os.environ["COLORTERM"] = "truecolor"


async def export(names: list[str], out: Path) -> list[Path]:
    """Render the scenes named (all when empty) into ``out``."""
    chosen = [scene for scene in SCENES if not names or scene.name in names]
    unknown = set(names) - {scene.name for scene in SCENES}
    if unknown:
        raise SystemExit(f"unknown scene(s): {', '.join(sorted(unknown))}; scenes: {', '.join(s.name for s in SCENES)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="cams-tui-shots-") as home:
        _isolate(Path(home))
        for scene in chosen:
            written.append(await shoot(scene, out, Path(home)))
            print(f"{written[-1]}  {scene.description}")
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and render."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "screenshots", help="folder for the SVG files")
    parser.add_argument("--only", nargs="+", default=[], metavar="SCENE", help="render only these scenes")
    parser.add_argument("--list", action="store_true", help="list the scenes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for scene in SCENES:
            print(f"{scene.name:22} {scene.description}")
        return 0
    asyncio.run(export(args.only, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
