"""The cams-tui Textual app: the compose flow, and the hooks other screens plug into.

Screens other than compose (the send monitor, the jobs history, settings) are imported
lazily, when first shown, to keep the first frame fast.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from cams_tui.errors import UserError
from cams_tui.exit_codes import EXIT_INTERRUPTED
from cams_tui.output_files import atomic_text_file
from cams_tui.ui.campaign_draft import ComposeState, Step
from cams_tui.ui.connection import Connection
from cams_tui.ui.screen_routes import ScreenRoutes
from cams_tui.ui.screens.compose import ComposeScreen
from cams_tui.ui.screens.first_run import offer_first_run
from cams_tui.ui.screens.settings import SettingsScreen
from cams_tui.ui.steps.template import TemplateStep
from cams_tui.ui.terminal_hangup import QUIT_GRACE_S, end_process_after, ignore_continue_after_hangup
from cams_tui.ui.themes import demo_theme, install_themes, remember_theme
from cams_tui.wording import counted

if TYPE_CHECKING:
    from cams_tui.config import RunContext
    from cams_tui.ui.app_access import ComposeHost
    from cams_tui.ui.screens.compose import ComposeScreen


class CamsApp(ScreenRoutes[int]):
    """Compose a Viber mass send, test it, and hand it to the engine."""

    TITLE = "cams-tui"
    # The compose screen's styles, steps included, are the app's own: parsed once at start.
    # A screen's CSS_PATH is read when the screen is pushed, and then the whole stylesheet is
    # parsed again, which would cost the first frame about 20 ms.
    CSS_PATH = [
        "app.tcss",
        "screens/compose.tcss",
        "steps/template.tcss",
        "steps/recipients.tcss",
        "steps/params.tcss",
        "steps/options.tcss",
        "steps/review.tcss",
    ]
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("f1", "toggle_help", "Help", id="help", tooltip="The keys that work here, and this step's help"),
        Binding("ctrl+s", "save_campaign", "Save", id="save-campaign", tooltip="Save the campaign as TOML"),
        Binding("ctrl+o", "open_campaign", "Open", id="open-campaign", tooltip="Open a campaign TOML file"),
        Binding("f2", "show_jobs", "Jobs", id="show-jobs", show=False, tooltip="The journal's jobs"),
        Binding("f4", "settings", "Settings", id="settings", show=False, tooltip="Theme and profiles"),
    ]

    def __init__(
        self, connection: Connection, *, show_clock: bool = False, blink: bool = False, theme: str | None = None
    ) -> None:
        super().__init__()
        self.connection = connection
        """How the app reaches CAMS (a real account, or the simulator in demo mode)."""
        self.state = ComposeState(rate=connection.rate)
        """The send being composed."""
        self.state.default_region = connection.context.profile.default_region or ""
        self.state.sender = connection.context.profile.from_ or ""
        self.state.options.cust_space_id = connection.context.profile.cust_space_id or ""
        self.campaign_path: Path | None = None
        """The campaign file last opened or saved."""
        self._show_clock = show_clock
        self.blink = blink
        """Whether text cursors blink (off for snapshots: a blinking cursor is not reproducible)."""
        self._pending_template: tuple[str, str] | None = None
        self.sub_title = connection.label
        remembered = demo_theme(connection.data_dir) if connection.demo else connection.context.profile.theme
        self.theme_warnings = install_themes(self, theme, remembered)
        """Skipped theme files, or a theme asked for that does not exist: shown once mounted."""
        # (signal, the handler it had before): Any as signal.getsignal's type is private to typeshed.
        self._caught_signals: list[tuple[int, Any]] = []
        self._quit_backstop: threading.Event | None = None
        """Set to call off the end of the process that a stop signal scheduled."""
        self.offer_first_run = False
        """Whether to offer "try the demo" or "set up an account" on start (no AccessKey found)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify, with the message and title always shown as written: they carry
        errors, paths and names from outside, which read as markup could vanish or crash.
        (Textual's own toasts that use markup are replaced below with plain ones.)"""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c does not quit: say which key does (Textual's message is markup)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {self.get_key_display(active.binding) or key} to quit the app",
                            title="Do you want to quit?")
                return

    @on(events.DeliveryComplete)
    def _screenshot_saved(self, event: events.DeliveryComplete) -> None:
        # Replaces Textual's handler, whose message is markup.
        if event.name == "screenshot":
            event.prevent_default()
            self.notify(f"Saved screenshot to {event.path}" if event.path else "Saved screenshot", title="Screenshot")

    @property
    def data_dir(self) -> Path:
        """Where the journal lives."""
        return self.connection.data_dir

    def get_default_screen(self) -> Screen:
        return ComposeScreen(show_clock=self._show_clock)

    def on_mount(self) -> None:
        self._catch_stop_signals()
        for warning in self.theme_warnings:
            self.notify(warning, title="Themes", severity="warning", timeout=10)
        if self.offer_first_run:
            offer_first_run(self)
        self._tell_unfinished()
        # For start-up time: after the first frame.
        from cams_tui.ui.collector import freeze_startup

        # After the first frame: the collection costs tens of milliseconds, once.
        self.call_after_refresh(freeze_startup)

    @work(thread=True, group="unfinished", exit_on_error=False)
    def _tell_unfinished(self) -> None:
        """After a crash or a dropped session, say at start which jobs are unfinished."""
        # For start-up time: the engine loads after the first frame.
        from cams_tui.engine.journal import JOURNAL_NAME, Journal
        from cams_tui.job_status import read_statuses, unfinished

        if not (self.data_dir / JOURNAL_NAME).exists():
            return
        with Journal(self.data_dir) as journal:
            left = unfinished(read_statuses(journal))
        if not left:
            return
        job, status = left[0]
        more = f" (and {counted(len(left) - 1, 'other job')})" if len(left) > 1 else ""
        what = ", ".join(
            part for part in (
                f"{status.pending:,} left to send" if status.pending else "",
                f"{status.unknown:,} unknown" if status.unknown else "",
                f"{status.not_sent_verified:,} verified not sent" if status.not_sent_verified else "",
            ) if part
        )
        self.call_from_thread(
            self.notify,
            f"Job {job.id} is {status.text}: {what}{more}. F2 shows it: {status.next_step()}.",
            title="Unfinished job",
            severity="warning",
            timeout=30,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Save and open act on the campaign being composed: their keys are shown, and work,
        on the compose screen only (elsewhere the footer needs the room)."""
        if action in {"save_campaign", "open_campaign"}:
            return isinstance(self.screen, ComposeScreen)
        return True

    def watch_theme(self, name: str) -> None:
        """Remember a theme chosen while running (command palette, settings) in the profile."""
        if self.is_running:
            demo_dir = self.connection.data_dir if self.connection.demo else None
            remember_theme(self, self.connection.context.profile_name, name, demo_dir=demo_dir)

    def suppression(self, default_region: str | None) -> frozenset[str]:
        """The opt-out list (``suppression.txt`` in the data dir), normalized; empty when absent."""
        # For start-up time: the recipient reader loads when a list is first read.
        from cams_tui.recipients import SUPPRESSION_FILE, load_suppression

        return load_suppression(
            [self.connection.context.data_dir / SUPPRESSION_FILE], default_region, missing_ok=True
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Keep a focused text cursor steady unless blinking is on: a blinking cursor
        redraws twice a second, which an idle app over SSH should not do."""
        if not self.blink and getattr(event.widget, "cursor_blink", False):
            event.widget.cursor_blink = False  # type: ignore[attr-defined]

    @property
    def compose_screen(self) -> ComposeScreen:
        """The compose screen (the app's default screen: always the lowest of the stack)."""

        return next(screen for screen in self.screen_stack if isinstance(screen, ComposeScreen))

    async def on_unmount(self) -> None:
        self._release_stop_signals()
        await self.connection.aclose()

    # ------------------------------------------------------------------- actions

    def action_toggle_help(self) -> None:
        """Show or hide the keys that work here: this screen's first, grouped, then the
        focused field's, then the step's help."""
        # For start-up time: a screen loads when first shown.
        from cams_tui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen, self.focused))

    async def action_go_step(self, number: int) -> None:
        """Show compose step ``number``."""
        compose = self.compose_screen
        while self.screen is not compose:
            await self.pop_screen()
        await compose.go_to(Step(number))

    async def action_new_campaign(self) -> None:
        """Start over: an empty composition on step 1 (the account's templates and senders,
        the profile's defaults kept). Sent jobs stay in the journal (F2)."""

        compose = self.compose_screen
        while self.screen is not compose:
            await self.pop_screen()
        old = self.state
        fresh = ComposeState(rate=old.rate, templates=old.templates, services=old.services)
        profile = self.connection.context.profile
        fresh.default_region = profile.default_region or ""
        fresh.sender = profile.from_ or ""
        fresh.options.cust_space_id = profile.cust_space_id or ""
        self.state = fresh
        self.campaign_path = None
        self._pending_template = None
        # The later steps' panes hold their own fields: they are built anew when next shown.
        for step in (Step.RECIPIENTS, Step.PARAMS, Step.OPTIONS, Step.REVIEW):
            for pane in compose.query(f"#{step.name.lower()}"):
                await pane.remove()
        template = compose.query_one(TemplateStep)
        template.reset()
        await compose.go_to(Step.TEMPLATE)
        self.notify("New campaign: choose a template.", title="Campaign")

    def action_save_campaign(self) -> None:
        """Ask where, then save the campaign as TOML."""
        # For start-up time: a screen loads when first shown.
        from cams_tui.ui.screens.campaign_files import SaveCampaignDialog

        self.push_screen(SaveCampaignDialog(self.campaign_path))

    def action_open_campaign(self) -> None:
        """Ask which campaign TOML to open."""
        # For start-up time: a screen loads when first shown.
        from cams_tui.ui.screens.campaign_files import OpenCampaignDialog

        self.push_screen(OpenCampaignDialog(self.campaign_path))

    async def action_show_jobs(self) -> None:
        """Show the journal's jobs (back to them when they are already open underneath)."""
        await self.open_jobs()

    async def action_settings(self) -> None:
        """Show the settings (theme, profiles), once."""

        await self.show_once(SettingsScreen, SettingsScreen)

    async def switch_connection(self, context: RunContext) -> None:
        """Send through another profile from now on: its rate for the composition, its
        label in the header; the old connection (and its client) closes."""
        old = self.connection
        self.connection = Connection(context, demo=False)
        self.state.rate = context.rate
        self.sub_title = self.connection.label
        await old.aclose()

    def start_job(self, job_id: str) -> None:
        """Hand a job, already in the journal, to the send monitor, which sends it."""
        self.state.job_id = job_id
        self.compose_screen.refresh_state()
        self.open_send_monitor(job_id)

    def _catch_stop_signals(self) -> None:
        """SIGTERM and SIGHUP (``kill``, a closed terminal or tmux session) stop a send
        gracefully and quit with exit code 130, as the headless commands do, instead of
        killing the process with the terminal left in the app's mode."""

        if threading.current_thread() is not threading.main_thread():
            return
        ignore_continue_after_hangup()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                previous = signal.getsignal(signum)
                loop.add_signal_handler(signum, self.stop_for_signal)
            except (NotImplementedError, RuntimeError, ValueError):
                return  # no signals here (another platform, a loop that takes none)
            self._caught_signals.append((signum, previous))

    def _release_stop_signals(self) -> None:
        if self._quit_backstop is not None:
            self._quit_backstop.set()  # the app ended on its own
        loop = asyncio.get_running_loop()
        while self._caught_signals:
            signum, previous = self._caught_signals.pop()
            loop.remove_signal_handler(signum)
            if previous is not None:
                signal.signal(signum, previous)

    def stop_for_signal(self) -> None:
        """A stop signal: sending screens stop gracefully, then the app quits with 130; a
        second signal while stopping gives up on requests in flight (they become unknown).
        Should the app not have ended ``QUIT_GRACE_S`` later (a closed terminal can block
        Textual's shutdown), the process ends anyway (see :mod:`cams_tui.ui.terminal_hangup`)."""

        if self._quit_backstop is None:
            self._quit_backstop = end_process_after(QUIT_GRACE_S, EXIT_INTERRUPTED)
        for screen in reversed(self.screen_stack):
            stop_and_quit = getattr(screen, "stop_and_quit", None)
            if stop_and_quit is not None and getattr(screen, "run", None) is not None:
                stop_and_quit(EXIT_INTERRUPTED)
                return
        self.exit(return_code=EXIT_INTERRUPTED)

    async def action_quit(self) -> None:
        """Quit; a screen that is sending a job asks first (the job stays resumable)."""
        for screen in reversed(self.screen_stack):
            confirm_quit = getattr(screen, "confirm_quit", None)
            if confirm_quit is not None and confirm_quit():
                return
        self.exit()

    # ------------------------------------------------------------------ campaigns

    def save_campaign(self, path: Path) -> str:
        """Save the campaign as TOML at ``path``; return a problem, or ``""`` when saved.

        Pasted numbers are written to ``<name>.numbers.txt`` beside it, so that
        ``cams-tui send`` runs the same send.
        """
        # For start-up time: pydantic loads after the first frame.
        from cams_tui.campaign import save_campaign

        state = self.state
        try:
            if state.pasted.strip() and not state.recipients_file:
                numbers = path.with_name(path.stem + ".numbers.txt")
                numbers.parent.mkdir(parents=True, exist_ok=True)

                # Phone numbers: private (0600), as exports and the journal are.
                with atomic_text_file(numbers) as handle:
                    handle.write(state.pasted.rstrip("\n") + "\n")
                state.recipients_file = numbers.name
            campaign = state.campaign()
            save_campaign(campaign, path)
        except (ValueError, OSError, UserError) as exc:
            return f"cannot save: {exc}"
        self.campaign_path = path
        self.notify(f"Saved {path}", title="Campaign")
        return ""

    def open_campaign(self, path: Path) -> str:
        """Open a campaign file into the compose state; return a problem, or ``""``."""
        # For start-up time: pydantic loads after the first frame.
        from cams_tui.campaign import CampaignError, load_campaign

        try:
            campaign = load_campaign(path)
        except CampaignError as exc:
            return str(exc)
        self.campaign_path = path
        self.state.apply_campaign(campaign)
        # A campaign without a space uses the profile's (the demo's requires it), as headless does.
        if not self.state.options.cust_space_id:
            self.state.options.cust_space_id = self.connection.context.profile.cust_space_id or ""
        recipients = campaign.recipients_path(path)
        self.state.recipients_file = str(recipients) if recipients else ""
        self._pending_template = (campaign.template_code, campaign.language)
        self.on_templates_loaded()
        self.call_later(self._show_opened, str(recipients) if recipients else None)
        self.notify(f"Opened {path}", title="Campaign")
        return ""

    async def _show_opened(self, recipients: str | None) -> None:
        # For start-up time: a step loads when first shown.
        from cams_tui.ui.steps.recipients import RecipientsStep

        screen = self.compose_screen
        if recipients is not None:
            pane = await screen.ensure_pane(Step.RECIPIENTS)
            assert isinstance(pane, RecipientsStep)
            pane.import_file(recipients)
        screen.refresh_state()
        await screen.go_to(Step.REVIEW)

    def on_templates_loaded(self) -> None:
        """Choose the template an opened campaign names, once the templates are known."""
        if self._pending_template is None or not self.state.templates:
            return
        code, language = self._pending_template
        summary = self.state.find_template(code, language)

        step = self.compose_screen.query_one(TemplateStep)
        if summary is None:
            self.state.template = None
            self.state.detail = None
            self.notify(
                f"The campaign's template {code} ({language}) is not in this account.",
                severity="error",
                title="Campaign",
            )
        else:
            step.choose(f"{code}|{language}")
        self._pending_template = None

    # ----------------------------------------------------------- command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, ComposeScreen):
            for step in Step:
                yield SystemCommand(
                    f"Step {step.value}: {step.title}",
                    f"Show the {step.title.lower()} step",
                    lambda number=step.value: self.call_later(self.action_go_step, number),
                )
            yield SystemCommand(
                "Next step", "Show the next step (ctrl+n)", lambda: self.call_later(screen.action_next_step)
            )
            yield SystemCommand(
                "Previous step", "Show the previous step (ctrl+b)", lambda: self.call_later(screen.action_previous_step)
            )
            yield from screen.pane(screen.current).commands()
            yield SystemCommand(
                "New campaign",
                "Start over with an empty campaign (sent jobs stay in Jobs)",
                lambda: self.call_later(self.action_new_campaign),
            )
            yield SystemCommand("Save campaign", "Save the campaign as TOML (ctrl+s)", self.action_save_campaign)
            yield SystemCommand("Open campaign", "Open a campaign TOML file (ctrl+o)", self.action_open_campaign)
        yield SystemCommand("Jobs", "The journal's jobs (F2)", lambda: self.call_later(self.action_show_jobs))
        yield SystemCommand("Settings", "Theme and profiles (F4)", lambda: self.call_later(self.action_settings))
        yield SystemCommand("Help", "The keys that work here, and this step's help (F1)", self.action_toggle_help)
        yield from super().get_system_commands(screen)


if TYPE_CHECKING:

    def _is_a_compose_host(app: CamsApp) -> ComposeHost:
        """Never called: mypy proves here that CamsApp is everything screens may ask of it."""
        return app
