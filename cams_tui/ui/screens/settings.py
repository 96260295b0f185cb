"""Settings: the profiles of config.toml (add, edit, switch) and their connection check.

Every action has a key, a button and a command-palette entry. Secrets typed here go only
into config.toml (mode 0600), and only after the user confirms a warning; a stored secret is
never shown again, only replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Select
from textual.widgets.option_list import Option

from cams_tui import paths
from cams_tui.api.endpoints import DEFAULT_REGION
from cams_tui.config import (
    ConfigError,
    Profile,
    Settings,
    load_settings,
    resolve_context,
    save_settings,
)
from cams_tui.engine.limiters.factory import describe_limiter
from cams_tui.tables import TableError
from cams_tui.ui.app_access import app_host, compose_host_if_any, running_demo
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.settings_form import FIELD_OF_KEY, profile_form
from cams_tui.ui.widgets.footer import Footer
from cams_tui.ui.widgets.text import Static

if TYPE_CHECKING:
    from cams_tui.doctor import Check

NEW_PROFILE = "\0new"
"""The option id of the "new profile" entry (no profile name can hold a NUL)."""

def shown_path(path: Path) -> str:
    """A path as a person reads it: the home folder as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


class SettingsCommands(Provider):
    """The settings screen's actions in the command palette."""

    _COMMANDS: ClassVar[list[tuple[str, str, str]]] = [
        ("Settings: save profile", "Validate and write the profile to config.toml (ctrl+s)", "save_profile"),
        ("Settings: new profile", "Start a new profile (ctrl+n)", "new_profile"),
        ("Settings: use this profile", "Make it the default and connect with it (ctrl+r)", "use_profile"),
        ("Settings: check connection", "Run the doctor's checks on this profile (ctrl+t)", "check_connection"),
        ("Settings: back", "Close the settings (escape)", "close"),
    ]

    def _callbacks(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        return [(name, help_text, partial(screen.run_action, action)) for name, help_text, action in self._COMMANDS]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._callbacks():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._callbacks():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class SettingsScreen(Screen[None]):
    """Profiles: pick one on the left, edit it on the right, check its connection below."""

    CSS_PATH = "settings.tcss"
    COMMANDS = {SettingsCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("escape", "close", "Back", id="settings-back"),
        Binding("ctrl+s", "save_profile", "Save", id="settings-save", tooltip="Write the profile to config.toml"),
        Binding("ctrl+n", "new_profile", "New", id="settings-new", tooltip="Start a new profile"),
        Binding("ctrl+r", "use_profile", "Use", id="settings-use", tooltip="Make it the default and connect with it"),
        Binding("ctrl+t", "check_connection", "Check", id="settings-check", tooltip="Run the doctor's checks"),
    ]

    def __init__(self, *, start_new: bool = False, config_path: Path | None = None) -> None:
        super().__init__()
        self.config_path = config_path or paths.config_path()
        """The config file this screen reads and writes."""
        self.settings = Settings()
        """The config file's contents, as last read or written."""
        self.editing: str | None = None
        """The name of the profile in the form, or ``None`` for a new one."""
        self._start_new = start_new

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("", id="settings-title")
        with Horizontal(id="settings-body"):
            with Vertical(id="profiles-pane"):
                yield OptionList(id="profiles")
                yield Static("", id="config-file")
            with VerticalScroll(id="profile-form"):
                yield from profile_form()
        yield VerticalScroll(
            Static("Check connection (ctrl+t) runs the doctor's checks; nothing is sent.", classes="hint"), id="checks"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#theme", Select).set_options((name, name) for name in sorted(self.app.available_themes))
        self._reload()
        in_use = self._profile_in_use()
        if self._start_new or not self.settings.profiles:
            self._show_profile(None)
        else:
            self._show_profile(in_use if in_use in self.settings.profiles else next(iter(self.settings.profiles)))
        self.query_one("#name" if self.editing is None else "#profiles").focus()

    # ------------------------------------------------------------------ helpers

    def _profile_in_use(self) -> str | None:
        connection = app_host(self).connection
        if connection is None or connection.demo:
            return None
        return connection.context.profile_name

    def _reload(self) -> None:
        try:
            self.settings = load_settings(self.config_path)
        except ConfigError as exc:
            self.settings = Settings()
            self._error(f"{exc}\nFix the file by hand; saving from here would replace it.")
        in_use = self._profile_in_use()
        options = []
        for name in self.settings.profiles:
            marks = [
                m for m, on_ in (("default", name == self.settings.default_profile), ("in use", name == in_use)) if on_
            ]
            label = Text(name)
            if marks:
                label.append(f" ({', '.join(marks)})", style="italic")
            options.append(Option(label, id=name))
        options.append(Option(Text("+ new profile", style="italic"), id=NEW_PROFILE))
        profiles = self.query_one("#profiles", OptionList)
        profiles.clear_options()
        profiles.add_options(options)
        demo = running_demo(self)
        self.query_one("#settings-title", Static).update(
            "Settings · profiles" + ("   (running the demo on the built-in simulator)" if demo else "")
        )
        self.query_one("#config-file", Static).update(f"config: {shown_path(self.config_path)}")

    def _show_profile(self, name: str | None) -> None:
        """Fill the form with profile ``name`` (``None``: a new profile with defaults)."""
        self.editing = name
        profile = self.settings.profiles[name] if name is not None else Profile()
        creds = profile.credentials
        values = {
            "name": name or ("default" if not self.settings.profiles else ""),
            "region": profile.region,
            "endpoint": profile.endpoint or "",
            "sender": profile.from_ or "",
            "cust-space": profile.cust_space_id or "",
            "rate": f"{profile.rate:g}",
            # A Redis password is never put back on screen: the URL as shown keeps it.
            "limiter": describe_limiter(profile.limiter),
            "account": profile.account or "",
            "default-region": profile.default_region or "",
            "aliyun-profile": creds.aliyun_profile or "",
            "key-id": creds.access_key_id or "",
            "key-secret": "",
            "sts-token": "",
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value
        # A stored secret is never put back on screen: blank keeps it, typing replaces it.
        self.query_one("#key-secret", Input).placeholder = "stored: blank keeps it" if creds.access_key_secret else ""
        self.query_one("#sts-token", Input).placeholder = (
            "stored: blank keeps it" if creds.security_token else "optional"
        )
        self.query_one("#placement", Select).value = profile.placement.value
        self.query_one("#source", Select).value = creds.source
        theme = self.query_one("#theme", Select)
        theme.value = profile.theme if profile.theme in self.app.available_themes else Select.NULL
        self._show_source(creds.source)
        self._error("")
        profiles = self.query_one("#profiles", OptionList)
        profiles.highlighted = profiles.get_option_index(name if name is not None else NEW_PROFILE)

    def _show_source(self, source: str) -> None:
        for node in self.query(".aliyun-only"):
            node.display = source == "aliyun"
        for node in self.query(".stored-only"):
            node.display = source == "stored"

    def _error(self, message: str, field_id: str | None = None) -> None:
        self.query_one("#form-error", Static).update(Text(message, style="bold"))
        self.query_one("#form-error").set_class(bool(message), "-shown")
        if field_id:
            self.query_one(f"#{field_id}").focus()

    def _text(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def _profile_from_form(self) -> tuple[str, Profile] | None:
        """The form as a validated profile, or ``None`` after showing what is wrong."""
        name = self._text("name")
        if not name:
            self._error("Name: give the profile a name, e.g. work", "name")
            return None
        if name != self.editing and name in self.settings.profiles:
            self._error(f"Name: a profile named {name!r} already exists; pick another name", "name")
            return None
        edited = self.settings.profiles.get(self.editing or "", Profile())
        previous = edited.credentials
        source = str(self.query_one("#source", Select).value)
        credentials: dict[str, object] = {"source": source}
        if source == "aliyun":
            credentials["aliyun_profile"] = self._text("aliyun-profile") or None
        elif source == "stored":
            credentials["access_key_id"] = self._text("key-id") or None
            credentials["access_key_secret"] = self._text("key-secret") or previous.access_key_secret
            credentials["security_token"] = self._text("sts-token") or previous.security_token
        theme = self.query_one("#theme", Select).value
        data: dict[str, object] = {
            # What the form does not show (lookup rate, grace period, canary threshold) is kept.
            **edited.to_table(),
            "region": self._text("region") or DEFAULT_REGION,
            "endpoint": self._text("endpoint") or None,
            "placement": self.query_one("#placement", Select).value,
            "from": self._text("sender") or None,
            "cust_space_id": self._text("cust-space") or None,
            "rate": self._text("rate") or "10",
            "limiter": self._limiter_from_form(edited.limiter),
            "account": self._text("account") or None,
            "default_region": self._text("default-region") or None,
            "theme": None if theme is Select.NULL else theme,
            "credentials": credentials,
        }
        try:
            profile = Profile.from_table(data)
            if source == "stored" and not (profile.credentials.access_key_id and profile.credentials.access_key_secret):
                self._error("AccessKey ID and secret: both are needed when the key is stored", "key-id")
                return None
        except TableError as exc:
            where, message = exc.problems[0]
            key = where[-1] if where else ""
            self._error(f"{key or 'profile'}: {message}", FIELD_OF_KEY.get(key))
            return None
        return name, profile

    def _limiter_from_form(self, previous: str) -> str:
        """The limiter typed; the URL shown unchanged keeps the saved one (and its password)."""
        typed = self._text("limiter") or "host"
        return previous if typed == describe_limiter(previous) else typed

    def _write(self, settings: Settings) -> bool:
        try:
            save_settings(settings, self.config_path)
        except OSError as exc:
            self._error(f"cannot write {self.config_path}: {exc}")
            return False
        self.settings = settings
        return True

    # ------------------------------------------------------------------ events

    @on(OptionList.OptionSelected, "#profiles")
    def _profile_chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        self._show_profile(None if chosen == NEW_PROFILE else chosen)
        self.query_one("#name").focus()

    @on(Select.Changed, "#source")
    def _source_changed(self, event: Select.Changed) -> None:
        self._show_source(str(event.value))

    @on(Button.Pressed, "#form-buttons Button")
    async def _button(self, event: Button.Pressed) -> None:
        action = {"save": "save_profile", "use": "use_profile", "check": "check_connection", "new": "new_profile"}
        # run_action is a coroutine: not awaited, the button would do nothing.
        await self.run_action(action[event.button.id or "save"])

    # ------------------------------------------------------------------ actions

    def action_close(self) -> None:
        """Back to where settings were opened from."""
        self.dismiss()

    def action_new_profile(self) -> None:
        """Empty the form for a new profile."""
        self._show_profile(None)
        self.query_one("#name").focus()

    def action_save_profile(self) -> None:
        """Validate the form and write it to config.toml (asking first before storing a secret)."""
        built = self._profile_from_form()
        if built is None:
            return
        name, profile = built
        previous = self.settings.profiles.get(self.editing or "")
        new_secret = profile.credentials.source == "stored" and (
            previous is None or previous.credentials.access_key_secret != profile.credentials.access_key_secret
        )
        if new_secret:
            self.app.push_screen(
                ConfirmDialog(
                    "Store the AccessKey secret in the config file?",
                    f"It will be written into {self.config_path} with mode 0600 (only your user can read it). "
                    "Anyone with your account or a backup of that file can then use the key. "
                    "Environment variables or an aliyun CLI profile keep it out of this file.",
                    yes="Store it",
                    no="Cancel",
                    warning=True,
                ),
                lambda yes: (
                    self._commit(name, profile) if yes else self._error("Not saved: the secret was not stored.")
                ),
            )
            return
        self._commit(name, profile)

    def _commit(self, name: str, profile: Profile) -> None:
        profiles = dict(self.settings.profiles)
        default = self.settings.default_profile
        if self.editing is not None and self.editing != name:
            profiles.pop(self.editing, None)  # a rename keeps the profile's place as default
            default = name if default == self.editing else default
        profiles[name] = profile
        settings = Settings(default_profile=default or name, profiles=profiles)
        if not self._write(settings):
            return
        self._reload()
        self._show_profile(name)
        if name == self._profile_in_use() and profile.theme and profile.theme != self.app.theme:
            self.app.theme = profile.theme
        self.notify(f"Profile {name!r} saved to {self.config_path}", title="Settings")

    async def action_use_profile(self) -> None:
        """Make the profile in the form the default, and connect the app with it."""
        name = self.editing
        if name is None:
            self._error("Save the new profile first (ctrl+s), then use it.", "name")
            return
        if self.app.screen_stack and any(type(s).__name__ == "SendMonitorScreen" for s in self.app.screen_stack):
            self._error("A send is on screen: finish or leave it before switching profiles.")
            return
        try:
            context = resolve_context(profile_name=name, settings=self.settings)
        except ConfigError as exc:
            self._error(str(exc))
            return
        if not self._write(replace(self.settings, default_profile=name)):
            return
        host = compose_host_if_any(self)
        if host is not None:
            await host.switch_connection(context)
        if context.profile.theme and context.profile.theme in self.app.available_themes:
            self.app.theme = context.profile.theme
        self._reload()
        self._show_profile(name)
        note = "" if context.credentials else " No AccessKey found yet: check connection says where it looks."
        self.notify(
            f"Now using profile {name!r}; it is now default_profile in {self.config_path} "
            f"(that one key changed).{note}",
            title="Settings",
            severity="information" if not note else "warning",
        )

    def action_check_connection(self) -> None:
        """Run the doctor's checks on the profile as it stands in the form (saved or not)."""
        built = self._profile_from_form()
        if built is None:
            return
        name, profile = built
        checks = self.query_one("#checks", VerticalScroll)
        checks.remove_children()
        checks.mount(Static(Text(f"Checking profile {name!r} at {profile.resolved_endpoint()} …", style="italic")))
        self._run_checks(name, profile)

    @work(exclusive=True, group="check-connection", exit_on_error=False)
    async def _run_checks(self, name: str, profile: Profile) -> None:
        # The doctor brings the client (httpx, the models): imported when a check is asked for.
        # For start-up time: the client and its models (httpx, pydantic) load on first use.
        from cams_tui.doctor import Check, run_checks

        checks = self.query_one("#checks", VerticalScroll)
        try:
            context = resolve_context(profile_name=name, settings=Settings(profiles={name: profile}))
        except ConfigError as exc:
            await checks.mount(_check_line(Check("credentials", False, str(exc))))
            return
        passed = True
        async for check in run_checks(context):
            passed = passed and check.ok
            await checks.mount(_check_line(check))
            checks.scroll_end(animate=False)
        summary = "All checks passed." if passed else "Some checks failed: see the advice above."
        await checks.mount(Static(Text(summary, style="bold"), classes="check-summary"))
        checks.scroll_end(animate=False)


def _check_line(check: Check) -> Static:
    """One doctor check as a line: a mark (readable without colour), its name, and its detail."""
    line = Text()
    line.append("✓ " if check.ok else "✗ ", style="bold")
    line.append(f"{check.name:<12} ", style="bold")
    line.append(check.detail)
    return Static(line, classes="check " + ("-ok" if check.ok else "-failed"))
