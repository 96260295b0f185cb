"""Step 5: everything that will go out on one page, a test send, and the typed confirmation."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input

from cams_tui.api.models import SendMessageRequest
from cams_tui.durations import format_duration
from cams_tui.engine.canary import CanaryError, canary_part
from cams_tui.engine.repeats import find_repeats
from cams_tui.recipients import IntakeOptions, read_recipients_text
from cams_tui.ui.campaign_draft import Estimate, OptionsForm, ParamRow, Step, TrialSend, create_job
from cams_tui.ui.steps.base import StepPane, explain
from cams_tui.ui.widgets.text import Label, Static
from cams_tui.wording import counted

if TYPE_CHECKING:
    from cams_tui.engine.repeats import RepeatReport


PROGRESS_EVERY_S = 0.2
"""How often the count of planned recipients is shown while a job is written."""


class ReviewStep(StepPane):
    """The send as it will go out, the problems that block it, a test send, and the confirmation."""

    step = Step.REVIEW
    HELP = """
## 5 Review
Check everything that will go out. **Test send** sends the message to one number first
(SendChatappMessage) and shows CAMS's answer. **Canary** (a number such as 100, or a share
such as 1%) sends those first recipients alone, waits for their delivery statuses, and goes
on only if few failed. To send to everyone, type the number of
recipients in the confirmation field: **Send** stays disabled until it matches and
nothing blocks the send.
"""

    BINDINGS = [
        Binding("ctrl+t", "test_send", "Test send", id="test-send", tooltip="Send to one number first"),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._repeats: RepeatReport | None = None
        self._repeats_for: tuple[object, ...] | None = None
        self._result_for: tuple[object, ...] | None = None
        """The composition the line under Send speaks of: cleared once it changes."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="review-scroll"):
            yield Static(id="review-summary")
            with Horizontal(classes="review-row"):
                yield Label("Canary", classes="review-label")
                yield Input(placeholder="off · 100 or 1%", id="review-canary", compact=True)
            with Horizontal(classes="review-row"):
                yield Label("Test send to", classes="review-label")
                # Never prefilled: a test goes to a number the operator owns, not a customer.
                yield Input(placeholder="your number, e.g. +63 917…", id="review-test-number", compact=True)
                yield Button("Test send", id="review-test", compact=True)
            yield Static("", id="review-test-result")
            with Horizontal(classes="review-row"):
                yield Label("Type 0 to send", id="review-confirm-label", classes="review-label")
                yield Input(placeholder="recipient count", id="review-confirm", compact=True)
                yield Button("Send", id="review-send", variant="error", compact=True, disabled=True)
            yield Static("", id="review-send-result")

    def focus_first(self) -> None:
        self.query_one("#review-test-number", Input).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Test send", "Send the message to one number first (ctrl+t)", self.action_test_send)
        yield SystemCommand("Confirm and send", "Focus the confirmation field", self.query_one("#review-confirm").focus)

    def on_step_shown(self) -> None:
        canary = self.query_one("#review-canary", Input)
        if self.state.canary and not canary.value:
            canary.value = self.state.canary  # from a campaign file
        self.show()

    def show(self) -> None:
        """Show the state: the send, what blocks it, the test send, the confirmation."""
        if not self.query("#review-summary"):
            return  # mounted but not composed yet: shown once it is
        state = self.state
        estimate = state.estimate()
        parts: list[tuple[str, str] | str] = []
        for label, value in self._summary_rows(estimate):
            parts += [(f"{label:<11}", "$text-muted"), value, "\n"]
        problems = state.blocking_problems()
        canary_problem = self._canary_problem()
        if canary_problem:
            problems.append(canary_problem)
        parts.append("\n")
        parts += self._verdict_parts(problems)
        self.query_one("#review-summary", Static).update(Content.assemble(*parts))
        if self._result_for != state.fingerprint():
            self.query_one("#review-send-result", Static).update("")
        if self._repeats_for != state.fingerprint() and not problems and not state.sent_current:
            self._check_repeats()

        result = self.query_one("#review-test-result", Static)
        trial = state.test_send
        if trial is None:
            result.update("No test send yet (ctrl+t).")
        else:
            result.update(
                Content.styled(("✓ " if trial.ok else "✗ ") + trial.text, "$success" if trial.ok else "$error")
            )
        self.query_one("#review-confirm-label", Label).update(f"Type {estimate.recipients} to send")
        self._update_send_button()

    def _summary_rows(self, estimate: Estimate) -> list[tuple[str, str]]:
        """Review's ``(label, value)`` lines: what is sent, to whom, how, and in which groups."""
        state = self.state
        rows: list[tuple[str, str]] = []
        template = state.template
        rows.append(
            (
                "Template",
                f"{template.template_name} ({template.language})  {template.template_code}" if template else "—",
            )
        )
        rows.append(("Sender", state.sender or "—"))
        report = state.report
        counts = f"{estimate.recipients:,}"
        if report is not None:
            duplicates = counted(report.duplicate_count, "duplicate")
            counts += (
                f"  ({report.rejected_count:,} rejected, {duplicates}, {report.suppressed_count:,} suppressed)"
            )
        rows.append(("Recipients", counts))
        rows.append(
            (
                "Batches",
                f"{estimate.batches:,} · ~{format_duration(math.ceil(estimate.seconds))} at {state.rate:g} calls/s",
            )
        )
        rows.append(
            (
                "Params",
                ", ".join(f"{row.name}={_shown(row, state.recipient_count)}" for row in state.param_rows()) or "none",
            )
        )
        rows += _option_rows(state.options)
        if state.canary:
            rows.append(("Canary", f"first {state.canary} recipients alone; the rest only if few of them fail"))
        return rows + self._group_rows()

    def _verdict_parts(self, problems: list[str]) -> list[tuple[str, str] | str]:
        """The summary's last lines: sent already, or what stops the send (and a repeat warning), or ready."""
        state = self.state
        sent = state.sent
        if sent is not None and state.sent_current:
            when = time.strftime("%H:%M", time.localtime(sent.at))
            return [
                (f"✓ Sent at {when} as job {sent.job_id} ({counted(sent.recipients, 'recipient')}).\n", "$success"),
                "To send again, change the list, the template or a value, or start over with "
                "New campaign (ctrl+p). The job's progress is in Jobs (F2).",
            ]
        parts: list[tuple[str, str] | str] = []
        repeats = self._repeats if self._repeats_for == state.fingerprint() else None
        if repeats is not None and repeats.repeats:
            parts.append((f"! {repeats.describe()}.\n", "$warning"))
        parts += [(f"✗ {problem}\n", "$error") for problem in problems]
        if not problems:
            parts.append(("✓ Ready to send.", "$success"))
        return parts

    def _group_rows(self) -> list[tuple[str, str]]:
        """Review's lines for a send split per language or per delivery window."""
        # For start-up time: the grouping loads when Review is first shown.
        import time as clock

        # For start-up time: the grouping loads when Review is first shown.
        from cams_tui.engine.grouping import describe_group, language_counts, window_summary

        try:
            groups, rejected = self.state.plan_groups()
        except ValueError:
            return []  # an invalid window: the options step says so
        if not groups:
            return []
        rows: list[tuple[str, str]] = []
        now = self.state.targeting().now if self.state.options.send_time() is not None else clock.time()
        languages = language_counts(groups)
        if languages:
            rows.append(("Languages", " · ".join(f"{language} {count:,}" for language, count in languages.items())))
        summary = window_summary(groups, now)
        if summary:
            rows.append(("Window", summary))
            rows += [("", describe_group(group, now)) for group in groups[:6]]
            if len(groups) > 6:
                rows.append(("", f"… and {len(groups) - 6} more groups"))
        if rejected:
            rows.append(("Rejected", f"{rejected:,} more by language or window (their reasons are in the export)"))
        return rows

    def _update_send_button(self) -> None:
        typed = self.query_one("#review-confirm", Input).value.replace(",", "").strip()
        count = self.state.recipient_count
        ready = count > 0 and typed == str(count) and not self.state.blocking_problems() and self._canary_ok()
        self.query_one("#review-send", Button).disabled = not ready or self.state.sent_current

    def _canary_ok(self) -> bool:
        text = self.query_one("#review-canary", Input).value.strip()
        return (not text or canary_spec_ok(text)) and not self._canary_problem()

    def _canary_problem(self) -> str:
        """Why the canary cannot be used, or "": one of the whole list (a count typed into
        the canary field) judges nothing before everyone has it."""
        text = self.state.canary
        count = self.state.recipient_count
        if not text or not count:
            return ""

        try:
            canary_part(text, count)
        except CanaryError as exc:
            message = str(exc)
            return message if message.startswith("canary: ") else f"canary: {message}"
        return ""

    @work(exclusive=True, group="repeats", exit_on_error=False)
    async def _check_repeats(self) -> None:
        """Look for recent jobs of this template that reached the same numbers (in a thread)."""
        state = self.state
        if state.template is None or state.report is None or not state.recipient_count:
            return
        fingerprint = state.fingerprint()

        numbers = [row.to for row in state.report.recipients]
        report = await asyncio.to_thread(
            find_repeats,
            self.cams.data_dir,
            state.template.template_code,
            state.template.language,
            numbers,
            window_h=self.cams.connection.context.profile.repeat_window_h,
        )
        self._repeats, self._repeats_for = report, fingerprint
        if state.fingerprint() == fingerprint:
            self.show()

    @on(Input.Changed, "#review-canary")
    def _canary_typed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        ok = not text or canary_spec_ok(text)
        self.state.canary = text if ok and text else ""
        self.query_one("#review-canary", Input).set_class(not ok, "-invalid")
        self.show()

    @on(Input.Changed, "#review-confirm")
    def _confirm_typed(self) -> None:
        self._update_send_button()

    @on(Input.Submitted, "#review-confirm")
    def _confirm_submitted(self) -> None:
        if not self.query_one("#review-send", Button).disabled:
            self.send()

    @on(Input.Submitted, "#review-test-number")
    def _test_submitted(self) -> None:
        self.action_test_send()

    @on(Button.Pressed, "#review-test")
    def _test_pressed(self) -> None:
        self.action_test_send()

    @on(Button.Pressed, "#review-send")
    def _send_pressed(self) -> None:
        self.send()

    # ----------------------------------------------------------------- test send

    def action_test_send(self) -> None:
        """Send the message to the one number typed (SendChatappMessage)."""
        number = self.query_one("#review-test-number", Input).value
        self._test_send(number)

    @work(exclusive=True, group="test-send", exit_on_error=False)
    async def _test_send(self, number: str) -> None:
        state = self.state
        result = self.query_one("#review-test-result", Static)
        problem = state.template_problem() or next(iter(state.options.errors().values()), "")
        if problem:
            state.test_send = TrialSend(number, False, f"cannot test: {problem}")
            self.show()
            return

        report = await asyncio.to_thread(
            read_recipients_text, number, IntakeOptions(default_region=state.default_region or None, max_listed=1)
        )
        if not report.recipients:
            reason = report.rejected[0].reason if report.rejected else "no number typed"
            state.test_send = TrialSend(number, False, f"{number.strip() or 'the number'}: {reason}")
            self.show()
            return
        to = report.recipients[0].to
        listed = next((r for r in (state.report.recipients if state.report else []) if r.to == to), None)
        row = listed or (state.report.recipients[0] if state.report and state.report.recipients else None)
        missing = state.missing_for(row)
        if missing:
            # CAMS would refuse it, or deliver a message with holes: say so here instead.
            state.test_send = TrialSend(
                to, False, f"cannot test: no value for {', '.join(missing)} (set it in step 3 Params)"
            )
            self.show()
            return
        result.update(f"Sending a test to +{to}…")
        try:
            request = self._test_request(to, state.recipient_params(row) if row else (state.values_for(None) or None))
            client = await self.cams.connection.client()
            answer = await client.send_message(request)
        except Exception as exc:  # noqa: BLE001 - the answer, good or bad, is shown
            state.test_send = TrialSend(to, False, f"test to +{to} failed: {explain(exc)}")
        else:
            state.test_send = TrialSend(
                to,
                True,
                f"test to +{to} accepted: MessageId {answer.message_id or '—'} (RequestId {answer.request_id})",
            )
        self.show()
        self.changed()

    def _test_request(self, to: str, params: dict[str, str] | None):
        options = self.state.campaign().message_options()
        return SendMessageRequest(
            from_=options.from_,
            to=to,
            template_code=options.template_code,
            language=options.language,
            template_params=params,
            cust_space_id=options.cust_space_id,
            task_id=options.task_id,
            ttl=options.ttl,
            label=options.label,
            tag=options.tag,
            fall_back_id=options.fall_back_id,
            fall_back_content=options.fall_back_content,
            fall_back_rule=options.fall_back_rule,
            fall_back_duration=options.fall_back_duration,
        )

    # ---------------------------------------------------------------------- send

    @work(exclusive=True, group="create-job", exit_on_error=False)
    async def send(self) -> None:
        """Write the job to the journal (in a thread), then hand it to the send monitor."""
        state = self.state
        outcome = self.query_one("#review-send-result", Static)
        self._result_for = state.fingerprint()
        problems = state.blocking_problems()
        if problems or state.report is None:
            outcome.update(Content.styled("✗ " + "; ".join(problems or ["no recipients"]), "$error"))
            return
        self.query_one("#review-send", Button).disabled = True
        outcome.update("Writing the job to the journal…")
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            # Called from the planning thread; a million recipients take about a second.
            now = time.monotonic()
            if now - shown[0] >= PROGRESS_EVERY_S or done >= total:
                shown[0] = now
                text = f"Writing the job to the journal… {done:,} of {total:,} recipients planned"
                self.app.call_from_thread(outcome.update, text)

        try:
            client = await self.cams.connection.client()
            job_id = await asyncio.to_thread(
                create_job,
                state,
                data_dir=self.cams.data_dir,
                endpoint=client.endpoint,
                placement=client.placement,
                max_query_length=client.max_query_length,
                profile=self.cams.connection.context.profile_name,
                campaign=str(self.cams.campaign_path) if self.cams.campaign_path else None,
                canary_threshold=self.cams.connection.context.profile.canary_threshold,
                progress=progress,
            )
        except Exception as exc:  # noqa: BLE001 - shown beside the button
            outcome.update(Content.styled(f"✗ the job could not be created: {explain(exc)}", "$error"))
            self._update_send_button()
            return
        state.mark_sent(job_id, time.time())
        self._result_for = state.fingerprint()
        # Worded to stay true once the send has ended: this line outlives it.
        outcome.update(f"Job {job_id} written to the journal and handed to the send monitor.")
        self.query_one("#review-confirm", Input).value = ""
        self.cams.start_job(job_id)
        self.changed()


def canary_spec_ok(text: str) -> bool:
    """Whether ``text`` is a canary size: a whole number above 0, or a share above 0 up to 100 %."""
    number = text[:-1] if text.endswith("%") else text
    try:
        value = float(number)
    except ValueError:
        return False
    if text.endswith("%"):
        return 0 < value <= 100
    return number.isdigit() and value > 0


def _option_rows(options: OptionsForm) -> list[tuple[str, str]]:
    """Review's lines for the fallback SMS and the delivery options."""
    fallback = "none"
    if options.fallback_id or options.fallback_rule:
        wait = options.seconds("fallback_duration")
        fallback = f"{options.fallback_rule or 'default rule'}, policy {options.fallback_id or '—'}"
        fallback += f", after {format_duration(wait)}" if wait else ""
    ttl = options.seconds("ttl")
    extras = [f"TTL {format_duration(ttl)}" if ttl else "TTL default"]
    extras += [
        f"{name} {value}"
        for name, value in (
            ("label", options.label),
            ("tag", options.tag),
            ("task", options.task_id),
            ("space", options.cust_space_id),
        )
        if value
    ]
    return [("Fallback", fallback), ("Delivery", " · ".join(extras))]


def _shown(row: ParamRow, recipients: int) -> str:
    """A param's value as the summary shows it: what recipients actually get."""
    if row.missing_for:
        return f"(missing for {row.missing_for:,})" if recipients else "(missing)"
    value = row.value if len(row.value) <= 40 else row.value[:39] + "…"
    if not row.value:
        return "(column)"
    if recipients and row.from_column >= recipients:
        return "(column; the global value is not used)"
    if row.from_column:
        return f"(column, else {value!r} for {recipients - row.from_column:,})"
    return value
