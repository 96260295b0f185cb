"""Step 3: a value for every template variable, and the message rendered for one recipient."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Input

from cams_tui.ui.campaign_draft import ParamSource, Step
from cams_tui.ui.steps.base import StepPane, explain
from cams_tui.ui.widgets.template_preview import TemplatePreview
from cams_tui.ui.widgets.text import Static

# Shown as one footer entry each ("a d add/delete key", "[ ] recipient"): at 80 columns the
# footer has room for about eight entries.
_KEYS = Binding.Group("add/delete key")
_RECIPIENT = Binding.Group("recipient")


class ParamEditor(Input):
    """The inline editor of a value: enter keeps it, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-edit")]

    def action_cancel(self) -> None:
        """Drop the edit."""
        pane = next(a for a in self.ancestors if isinstance(a, ParamsStep))
        pane.end_edit(None)


class ParamsStep(StepPane):
    """The key/value table: one row per variable, its value, and where it comes from."""

    step = Step.PARAMS
    HELP = """
## 3 Params
One row per template variable. **enter** edits the highlighted value (enter keeps it,
escape cancels); **a** adds a key (`name=value`); **d** deletes an extra key or clears a
value. A CSV column of the same name gives each recipient its own value. **[** and **]**
show the preview for the previous or next recipient.
"""

    BINDINGS = [
        Binding("enter", "edit", "Edit", id="edit-param"),
        Binding("a", "add", "Add key", id="add-param", group=_KEYS),
        Binding("d", "delete", "Delete key", id="delete-param", group=_KEYS),
        Binding(
            "left_square_bracket", "recipient(-1)", "Previous recipient", id="previous-recipient", group=_RECIPIENT
        ),
        Binding("right_square_bracket", "recipient(1)", "Next recipient", id="next-recipient", group=_RECIPIENT),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._recipient = 0
        self._editing: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="params-main"):
            with Vertical(id="params-left"):
                table: DataTable[str | Text] = DataTable(id="params-table", cursor_type="row")
                table.border_title = "Variables"
                yield table
                editor = ParamEditor(id="params-editor", compact=True)
                editor.display = False
                yield editor
            preview = TemplatePreview(id="params-preview")
            preview.border_title = "Preview"
            yield preview
        yield Static(
            "enter edit · esc cancel · a add key · d delete · [ ] recipient", id="params-status", classes="hint"
        )

    def on_mount(self) -> None:
        table = self.query_one("#params-table", DataTable)
        table.add_column("Variable", key="name")
        table.add_column("Value", key="value")
        table.add_column("Source", key="source")

    def focus_first(self) -> None:
        self.query_one("#params-table", DataTable).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Edit value", "Edit the highlighted variable's value (enter)", self.action_edit)
        yield SystemCommand("Add key", "Add a params key (a)", self.action_add)
        yield SystemCommand("Delete key", "Delete the highlighted key or clear its value (d)", self.action_delete)
        yield SystemCommand(
            "Preview next recipient", "Render the message for the next recipient (])", lambda: self.action_recipient(1)
        )

    def on_step_shown(self) -> None:
        self.fill()

    # ------------------------------------------------------------------ showing

    def fill(self) -> None:
        """Show the rows and the preview from the state."""
        table = self.query_one("#params-table", DataTable)
        row = table.cursor_row
        table.clear()
        colours = self.app.theme_variables
        for param in self.state.param_rows():
            if param.source is ParamSource.MISSING or param.missing_for:
                name = Text(f"! {param.name}", style=f"bold {colours.get('warning', '')}")
                how_many = f"{param.missing_for:,} recipients" if self.state.recipient_count else "everyone"
                value = Text(param.value or f"— missing for {how_many}", style=colours.get("warning", ""))
            else:
                name = Text(f"  {param.name}")
                value = Text(param.value or f'(from column "{param.name}")')
            table.add_row(name, value, param.source.value, key=param.name)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        if self.state.detail is None:
            table.add_row(Text("Choose a template first (step 1).", style="italic"), "", "")
        self._show_preview()

    def _show_preview(self) -> None:
        preview = self.query_one("#params-preview", TemplatePreview)
        recipients = self.state.report.recipients if self.state.report is not None else []
        row = None
        detail = self.state.detail
        missing = "Choose a template first (step 1)."
        if recipients:
            self._recipient %= len(recipients)
            row = recipients[self._recipient]
            # A list of several languages: each recipient's preview is in its own.
            language = self.state.language_for(row)
            shown = f"{language}, " if language and self.state.targeting().languages is not None else ""
            preview.border_title = f"Preview for +{row.to} ({shown}{self._recipient + 1}/{len(recipients):,})"
            if self.state.detail is not None:
                detail = self.state.detail_for(language)
                if language is None:
                    missing = "The template has no language for this recipient: it will be rejected."
                elif detail is None:
                    missing = f"Loading the template in {language}…"
                    self._load_language(language)
        else:
            preview.border_title = "Preview"
        preview.show(detail, self.state.values_for(row), missing)

    @work(group="params-language", exit_on_error=False)
    async def _load_language(self, language: str) -> None:
        """Fetch the template's detail in another language of the list, then show it."""
        template = self.state.template
        if template is None or language in self.state.language_details:
            return
        client = await self.cams.connection.client()
        try:
            detail = await client.template_detail(
                template.template_code, language, cust_space_id=self.state.options.cust_space_id or None
            )
        except Exception as exc:  # noqa: BLE001 - shown in the preview
            self.query_one("#params-preview", TemplatePreview).show(
                None, {}, f"Could not load the template in {language}: {explain(exc)}"
            )
            return
        self.state.language_details[language] = detail
        self._show_preview()

    # ------------------------------------------------------------------ editing

    def _highlighted(self) -> str | None:
        table = self.query_one("#params-table", DataTable)
        if not table.row_count or self.state.detail is None:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key

    def action_edit(self) -> None:
        """Edit the highlighted value inline."""
        name = self._highlighted()
        if name is None:
            return
        self._begin(name, self.state.params.get(name, ""), f"value of {name}")

    def action_add(self) -> None:
        """Add a key: type ``name=value``."""
        if self.state.detail is None:
            return
        self._begin("", "", "name=value")

    def _begin(self, name: str, value: str, placeholder: str) -> None:
        self._editing = name
        editor = self.query_one(ParamEditor)
        editor.placeholder = placeholder
        editor.border_title = Content(placeholder)  # holds a variable's name: not markup
        editor.value = value
        editor.display = True
        editor.focus()
        self.query_one("#params-status", Static).update(
            f"Editing {name or 'a new key'}: enter keeps it, escape cancels"
        )

    @on(Input.Submitted, "#params-editor")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.end_edit(event.value)

    def end_edit(self, value: str | None) -> None:
        """Finish editing: keep ``value``, or cancel when it is ``None``."""
        editor = self.query_one(ParamEditor)
        status = self.query_one("#params-status", Static)
        status.remove_class("error-line")
        status.update("enter edit · esc cancel · a add key · d delete · [ ] recipient")
        if value is not None:
            if self._editing:
                self.state.params[self._editing] = value
            else:
                name, sep, given = value.partition("=")
                if not sep or not name.strip():
                    status.update("! write the new key as name=value")
                    status.add_class("error-line")
                    return
                self.state.params[name.strip()] = given.strip()
            self.state.test_send = None
            self.changed()
        editor.display = False
        self._editing = None
        self.fill()
        self.query_one("#params-table", DataTable).focus()

    def action_delete(self) -> None:
        """Delete an extra key, or clear a variable's global value."""
        name = self._highlighted()
        if name is None or name not in self.state.params:
            return
        del self.state.params[name]
        self.state.test_send = None
        self.changed()
        self.fill()

    def action_recipient(self, delta: int) -> None:
        """Preview the message for another recipient."""
        self._recipient += delta
        self._show_preview()

    @on(DataTable.RowSelected, "#params-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        # The table takes enter for its own "row selected": that is the edit key here.
        event.stop()
        self.action_edit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the editor is open, its keys (letters, enter) must reach it.
        return not (self._editing is not None and action in {"add", "delete", "edit", "recipient"})
