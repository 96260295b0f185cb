"""Step 1: choose an approved Viber template, its language, and the sender."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Input, Select

from cams_tui.templates import APPROVED_STATUSES
from cams_tui.ui.campaign_draft import Step
from cams_tui.ui.steps.base import StepPane, explain
from cams_tui.ui.widgets.template_preview import TemplatePreview
from cams_tui.ui.widgets.text import Label, Static

if TYPE_CHECKING:
    from cams_tui.api.models import TemplateDetail, TemplateSummary

ALL_LANGUAGES = "*"


def _key(template: TemplateSummary) -> str:
    return f"{template.template_code}|{template.language}"


class TemplateStep(StepPane):
    """A table of the account's Viber templates, filtered as you type, with a preview."""

    step = Step.TEMPLATE
    HELP = """
## 1 Template
Type in **Filter** to narrow the table by name or code; pick a **Language**; pick the
**Sender** (the Viber Service ID messages come from). In the table, **up**/**down**
previews a template and **enter** chooses it. Only approved templates can be sent.
"""

    BINDINGS = [Binding("ctrl+r", "reload", "Reload", id="reload-templates", tooltip="Load the templates again")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._details: dict[str, TemplateDetail] = {}
        self._loaded = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="controls"):
            yield Label("Filter", classes="field-label")
            yield Input(placeholder="name or code", id="template-filter", compact=True)
            yield Label("Lang", classes="field-label")
            yield Select([], prompt="all", id="template-language", compact=True)
            yield Label("Sender", classes="field-label")
            yield Select([], prompt="choose…", id="template-sender", compact=True)
        with Horizontal(id="template-main"):
            table: DataTable[str] = DataTable(id="template-table", cursor_type="row", zebra_stripes=True)
            table.border_title = "Templates"
            yield table
            preview = TemplatePreview(id="template-preview")
            preview.border_title = "Preview"
            yield preview
        yield Static("Loading templates…", id="template-status", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#template-table", DataTable)
        table.add_column("Name", key="name")
        # The status before the language: in a narrow terminal it is what must stay in view.
        table.add_column("Status", key="status")
        table.add_column("Lang", key="lang")
        table.add_column("Category", key="category")
        table.add_column("Code", key="code")
        self.query_one(TemplatePreview).show(None, {}, "Loading…")
        # After the first frame: importing the client, starting the simulator (demo) or a TLS
        # handshake would hold up its drawing.
        self.call_after_refresh(self.load_templates)

    def focus_first(self) -> None:
        self.query_one("#template-table", DataTable).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Reload templates", "Load the templates again (ctrl+r)", self.action_reload)
        yield SystemCommand("Filter templates", "Focus the filter", self.query_one("#template-filter").focus)
        yield SystemCommand("Choose sender", "Focus the sender list", self.query_one("#template-sender").focus)

    def action_reload(self) -> None:
        """Load the templates and senders again."""
        self.load_templates()

    # -------------------------------------------------------------------- loading

    @work(exclusive=True, group="templates", exit_on_error=False)
    async def load_templates(self) -> None:
        """ListChatappTemplate page by page, and ListViberServiceMessage."""
        status = self.query_one("#template-status", Static)
        status.update("Loading templates…")
        try:
            client = await self.cams.connection.client()
            cust_space_id = self.state.options.cust_space_id or None
            # Side by side: two round trips cost one. A failure of either cancels the other.
            async with asyncio.TaskGroup() as group:
                listing = group.create_task(self._list_templates(client, cust_space_id, status))
                listing_services = group.create_task(client.list_viber_services(cust_space_id=cust_space_id))
            templates, services = listing.result(), listing_services.result()
        except Exception as exc:  # noqa: BLE001 - every failure is shown, none may crash the app
            first = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
            status.update(f"Could not load templates: {explain(first)}  (ctrl+r to retry)")
            status.set_class(True, "error-line")
            return
        status.set_class(False, "error-line")
        # Approved templates first: they are the ones that can be sent.
        templates.sort(key=lambda t: (t.audit_status.lower() not in APPROVED_STATUSES, t.template_name, t.language))
        self.state.templates = templates
        self.state.services = services.data
        self._loaded = True
        self._fill_selects()
        self._fill_table()
        approved = sum(1 for t in templates if t.audit_status.lower() in APPROVED_STATUSES)
        status.update(f"{len(templates)} templates, {approved} approved · enter chooses · ctrl+r reloads")
        self.cams.on_templates_loaded()

    async def _list_templates(self, client, cust_space_id: str | None, status: Static) -> list[TemplateSummary]:
        # Every status, not only approved: an operator must see why a template cannot be chosen.
        # The same listing as `cams-tui doctor` and `cams-tui templates`.
        return await client.list_all_templates(
            cust_space_id=cust_space_id,
            audit_status=None,
            on_page=lambda listed, total: status.update(f"Loading templates… {listed} of {total}"),
        )

    def _fill_selects(self) -> None:
        languages = sorted({t.language for t in self.state.templates if t.language})
        self.query_one("#template-language", Select).set_options([(Text(lang), lang) for lang in languages])
        sender = self.query_one("#template-sender", Select)
        options = [
            (Text(f"{s.service_id} {s.business_account_name}".strip()), s.service_id) for s in self.state.services
        ]
        known = {value for _, value in options}
        if self.state.sender and self.state.sender not in known:
            options.append((Text(f"{self.state.sender} (not in this account)"), self.state.sender))
        sender.set_options(options)
        active = [s for s in self.state.services if s.state.lower() in {"active", "online", "normal", ""}]
        if not self.state.sender and active:
            self.state.sender = active[0].service_id
        if self.state.sender:
            sender.value = self.state.sender
        self.changed()

    def _fill_table(self) -> None:
        table = self.query_one("#template-table", DataTable)
        text = self.query_one("#template-filter", Input).value.strip().lower()
        language = self.query_one("#template-language", Select).value
        table.clear()
        chosen = self.state.template
        for template in self.state.templates:
            if text and text not in template.template_name.lower() and text not in template.template_code.lower():
                continue
            if isinstance(language, str) and template.language != language:
                continue
            mark = "▶ " if chosen is not None and _key(chosen) == _key(template) else "  "
            # Text, not str: a DataTable reads a str as markup, and these come from the account.
            table.add_row(
                Text(mark + template.template_name),
                Text(template.audit_status),
                Text(template.language),
                Text(template.category),
                Text(template.template_code),
                key=_key(template),
            )
        if chosen is not None and _key(chosen) in table.rows:
            table.move_cursor(row=table.get_row_index(_key(chosen)))
        if table.row_count == 0:
            self.query_one(TemplatePreview).show(None, {}, "No template matches the filter.")

    # ------------------------------------------------------------------ reacting

    @on(Input.Changed, "#template-filter")
    @on(Select.Changed, "#template-language")
    def _refilter(self) -> None:
        if self._loaded:
            self._fill_table()

    @on(Input.Submitted, "#template-filter")
    def _filter_done(self) -> None:
        self.query_one("#template-table", DataTable).focus()

    @on(Select.Changed, "#template-sender")
    def _sender_chosen(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else ""
        if value != self.state.sender:
            self.state.sender = value
            self.changed()

    @on(DataTable.RowHighlighted, "#template-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.preview(event.row_key.value)

    @on(DataTable.RowSelected, "#template-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.choose(event.row_key.value)

    def _summary(self, key: str) -> TemplateSummary | None:
        return next((t for t in self.state.templates if _key(t) == key), None)

    @work(exclusive=True, group="template-detail", exit_on_error=False)
    async def preview(self, key: str) -> None:
        """Show the highlighted template's preview (its detail is fetched once)."""
        summary = self._summary(key)
        if summary is None:
            return
        preview = self.query_one(TemplatePreview)
        try:
            detail = await self._detail(summary)
        except Exception as exc:  # noqa: BLE001 - shown in the preview
            preview.show(None, {}, f"Could not load the template: {explain(exc)}")
            return
        preview.show(detail, self.state.params)
        preview.border_title = Content(f"Preview · {summary.template_code[:12]}")

    async def _detail(self, summary: TemplateSummary) -> TemplateDetail:
        key = _key(summary)
        if key not in self._details:
            client = await self.cams.connection.client()
            self._details[key] = await client.template_detail(
                summary.template_code, summary.language, cust_space_id=self.state.options.cust_space_id or None
            )
        return self._details[key]

    @work(exclusive=True, group="template-choose", exit_on_error=False)
    async def choose(self, key: str) -> None:
        """Fix the template code and language of the send."""
        summary = self._summary(key)
        if summary is None:
            return
        status = self.query_one("#template-status", Static)
        try:
            detail = await self._detail(summary)
        except Exception as exc:  # noqa: BLE001 - shown in the status line
            status.update(f"Could not load the template: {explain(exc)}")
            return
        self.select_template(summary, detail)

    def select_template(self, summary: TemplateSummary, detail: TemplateDetail) -> None:
        """Make ``summary`` the send's template and say what that means."""
        self.state.template = summary
        self.state.detail = detail
        self.state.test_send = None
        self._fill_table()
        problem = self.state.template_problem()
        status = self.query_one("#template-status", Static)
        if problem:
            status.update(f"! {problem}")
            status.set_class(True, "error-line")
        else:
            status.update(f"Chosen: {summary.template_name} ({summary.language}) · ctrl+n for recipients")
            status.set_class(False, "error-line")
        self.changed()

    def reset(self) -> None:
        """Show a new, empty campaign: no template chosen, the filter cleared."""
        self.query_one("#template-filter", Input).value = ""
        status = self.query_one("#template-status", Static)
        status.update("Choose a template (enter)." if self._loaded else "")
        status.set_class(False, "error-line")
        self.query_one(TemplatePreview).show(None, {}, "")
        if self._loaded:
            self._fill_table()
            self._fill_selects()

    def on_step_shown(self) -> None:
        if self._loaded:
            self._fill_selects()
