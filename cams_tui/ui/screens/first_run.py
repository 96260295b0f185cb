"""The first-run offer: with no account configured, try the demo or set one up."""

from __future__ import annotations

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from cams_tui import paths
from cams_tui.ui.screens.settings import SettingsScreen, shown_path
from cams_tui.ui.widgets.text import Label, Static


class FirstRunDialog(ModalScreen[str]):
    """Shown when no account is configured: try the demo, or set up an account.

    Dismisses with ``"demo"`` or ``"setup"``.
    """

    CSS_PATH = "settings.tcss"
    BINDINGS = [
        Binding("d,escape", "choose('demo')", "Try the demo", id="first-run-demo"),
        Binding("s", "choose('setup')", "Set up an account", id="first-run-setup"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Welcome to cams-tui", classes="title")
            yield Static(
                "No AccessKey was found: no ALIBABA_CLOUD_ACCESS_KEY_ID in the environment, "
                f"and no profile in {shown_path(paths.config_path())} names another source.\n\n"
                "Try the demo: everything works against a built-in CAMS simulator; nothing is sent.\n"
                "Set up an account: add a profile (region, Service ID, CustSpaceId, where the AccessKey "
                "comes from) and check the connection. The Service ID and the CustSpaceId (a space or "
                "instance ID) are shown in the CAMS console under Channel Management.",
                classes="body",
            )
            with Horizontal(classes="buttons"):
                yield Button("Try the demo (d)", variant="primary", id="demo")
                yield Button("Set up an account (s)", id="setup")

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "demo")

    def action_choose(self, choice: str) -> None:
        """Close with ``choice``."""
        self.dismiss(choice)


def offer_first_run(app: object) -> None:
    """Push :class:`FirstRunDialog` on ``app``; "set up an account" opens settings on a new profile."""

    assert isinstance(app, App)

    def chosen(choice: str | None) -> None:
        if choice == "setup":
            app.push_screen(SettingsScreen(start_new=True))

    app.push_screen(FirstRunDialog(), chosen)
