"""Where a sending command's events go: JSON Lines on stdout (``--json``), or a progress
line and notes on stderr."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

from cams_tui.api.errors import Outcome
from cams_tui.cli.plan_wording import duration_text, plan_text, shared_by
from cams_tui.demo import command
from cams_tui.engine.events import (
    BatchEvent,
    CanaryEvent,
    DoneEvent,
    Event,
    LimiterEvent,
    LookupEvent,
    PlanEvent,
    ProgressEvent,
    RateEvent,
    ScheduleEvent,
    event_to_json,
)
from cams_tui.engine.grouping import describe_group, window_summary
from cams_tui.schedule import DeliveryWindow, JobSchedule, countdown
from cams_tui.wording import counted

if TYPE_CHECKING:
    from cams_tui.engine.canary import CanaryVerdict
    from cams_tui.engine.new_job import JobPlan
    from cams_tui.engine.reconcile import ReconcileReport
    from cams_tui.engine.repeats import RepeatReport

_PROGRESS_EVERY_S = 0.25
"""How often a terminal's progress line is redrawn, at most."""
_PROGRESS_EVERY_S_NO_TTY = 5.0


class Output:
    """Where events go: JSON Lines on stdout, or a progress line and notes on stderr."""

    def __init__(self, *, as_json: bool, demo: bool = False) -> None:
        self.as_json = as_json
        self.demo = demo
        """Whether the job is the demo's: the commands suggested say ``--demo``."""
        self._tty = sys.stderr.isatty()
        self._last_progress = 0.0
        self._progress_shown = False
        self._schedule_shown = False
        self._window_at: float | None = None
        self.plan_shown = False
        """Whether the plan was printed (by the confirmation): the run's own is then not."""

    def _json(self, data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A message for the operator, on stderr."""
        self._clear_progress()
        print(f"cams-tui: {text}", file=sys.stderr)

    def plan(self, plan: PlanEvent, *, dry_run: bool = False, schedule: JobSchedule | None = None) -> None:
        """The plan, before anything is sent (once: a plan already confirmed is not repeated)."""
        if self.as_json:
            extra: dict[str, Any] = {"dry_run": True} if dry_run else {}
            if schedule is not None:
                extra["scheduled_at"] = schedule.local().isoformat(timespec="seconds")
            self._json({**event_to_json(plan), **extra})
            return
        if self.plan_shown:
            return
        self.plan_shown = True
        prefix = "dry run, nothing sent: " if dry_run else ""
        when = f"; scheduled for {schedule.describe()}" if schedule is not None else ""
        print(f"{prefix}{plan_text(plan)}{when}", file=sys.stderr)

    def groups(self, plan: JobPlan, now: float, window: DeliveryWindow | None) -> None:
        """The plan's groups (per language, per delivery window), when it has several."""
        if not plan.groups:
            return
        if self.as_json:
            self._json({"event": "groups", "groups": [g.to_json() for g in plan.groups],
                        "sendable_now": plan.sendable_now(now), "plan_rejected": len(plan.rejects)})
            return
        lines = [describe_group(group, now) for group in plan.groups]
        summary = window_summary(plan.groups, now)
        if window is not None:
            lines.insert(0, f"delivery window {window.describe()} in each recipient's local time")
        if summary:
            lines.append(summary)
        if plan.rejects:
            first = plan.rejects[0]
            more = f" and {len(plan.rejects) - 1:,} more" if len(plan.rejects) > 1 else ""
            lines.append(f"{first.input}{more} rejected: {first.reason}")
        for line in lines:
            self.note(line)

    def scheduled(self, event: ScheduleEvent) -> None:
        """A scheduled job's wait: one line when it begins, then the time left on the
        progress line (a terminal) or about once a minute (a log)."""
        if event.waiting_for == "window" and not self.as_json:
            self._window_wait(event)
            return
        if self.as_json:
            now = time.monotonic()
            if event.stage == "waiting" and self._schedule_shown and now - self._last_progress < 60:
                return
            self._last_progress = now
            self._schedule_shown = True
            data = event_to_json(event)
            data.pop("job_id")
            self._json(data)
            return
        if event.stage == "starting":
            self.note(f"job {event.job_id}: its time has come ({event.at_text}): sending")
            return
        if event.stage == "cancelled":
            self.note(f"job {event.job_id} cancelled before its time ({event.at_text}): nothing was sent")
            return
        if not self._schedule_shown:
            self._schedule_shown = True
            resume = command(f"resume {event.job_id}", demo=self.demo)
            self.note(
                f"job {event.job_id} is scheduled for {event.at_text}: waiting {countdown(event.remaining_s)} "
                f"(Ctrl-C cancels it, nothing is sent; `{resume}` waits again)"
            )
            self._last_progress = time.monotonic()
            return
        self._waiting_line(f"scheduled for {event.at_text}: starts in {countdown(event.remaining_s)}")

    def _window_wait(self, event: ScheduleEvent) -> None:
        """A job waiting for its delivery window: a line when each wait begins, then the
        time left like a scheduled start's."""
        if event.stage == "starting":
            self.note(f"job {event.job_id}: a delivery window opened ({event.at_text}): sending")
            self._window_at = None
            return
        if event.stage == "cancelled":
            self.note(f"job {event.job_id} stopped while waiting for a delivery window: the rest stays planned")
            return
        if self._window_at != event.at:
            self._window_at = event.at
            self.note(
                f"job {event.job_id}: {event.recipients:,} recipients wait for their delivery window, the next "
                f"opening at {event.at_text} (in {countdown(event.remaining_s)}; Ctrl-C stops, "
                f"`{command(f'resume {event.job_id}', demo=self.demo)}` waits again)"
            )
            self._last_progress = time.monotonic()
            return
        self._waiting_line(f"next delivery window at {event.at_text}: in {countdown(event.remaining_s)}")

    def _waiting_line(self, line: str) -> None:
        """The time left of a wait: on a terminal's progress line, in a log about once a minute."""
        now = time.monotonic()
        if now - self._last_progress < (_PROGRESS_EVERY_S if self._tty else 60.0):
            return
        self._last_progress = now
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + line)
            self._progress_shown = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def event(self, event: Event) -> None:
        """A subscriber to the sender's events."""
        if isinstance(event, PlanEvent):
            self.plan(event)
        elif isinstance(event, BatchEvent):
            if self.as_json:
                data = event_to_json(event)
                data.pop("job_id")
                self._json(data)
            elif event.outcome not in (Outcome.OK.value, Outcome.THROTTLED.value):
                self.note(
                    f"batch {event.index} ({event.size:,} recipients): {event.outcome}"
                    f" {event.code or ''} {event.message or ''}".rstrip()
                )
        elif isinstance(event, LimiterEvent):
            if self.as_json:
                data = event_to_json(event)
                data.pop("job_id")
                self._json(data)
            elif event.state != "sharing":
                self.note(f"limiter ({event.limiter}): {event.reason}")
        elif isinstance(event, RateEvent) and not self.as_json:
            self.note(f"rate {event.previous:g} → {event.rate:g} calls/s ({event.reason})")
        elif isinstance(event, ProgressEvent) and not self.as_json:
            self._progress(event)
        elif isinstance(event, ScheduleEvent):
            self.scheduled(event)
        elif isinstance(event, DoneEvent):
            self.finish(event)
        elif (
            isinstance(event, (CanaryEvent, LookupEvent))
            and not self.as_json
            # The verdict and the lookup's totals have their own lines (canary, reconciled).
            and event.stage not in ("healthy", "failed", "done")
        ):
            self.note(event.text)

    def _progress(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if now - self._last_progress < (_PROGRESS_EVERY_S if self._tty else _PROGRESS_EVERY_S_NO_TTY):
            return
        self._last_progress = now
        eta = duration_text(event.eta_s) if event.eta_s is not None else "–"
        line = (
            f"{event.settled:,}/{event.total:,} recipients · {event.calls_per_s:.1f} calls/s "
            f"(limit {event.rate:g}{shared_by(event.senders)}) · ok {event.ok:,} failed {event.failed:,} "
            f"unknown {event.unknown:,} · ETA {eta}"
        )
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + line)
            self._progress_shown = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def _clear_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\r\x1b[2K")
            self._progress_shown = False

    def reconciled(self, report: ReconcileReport) -> None:
        """What the lookups of unknown batches concluded."""
        if self.as_json:
            for r in report.resolutions:
                self._json(
                    {
                        "event": "resolution",
                        "index": r.index,
                        "size": r.size,
                        "state": r.state,
                        "reason": r.reason,
                        "lookups": r.lookups,
                        "evidence": r.evidence,
                    }
                )
            self._json(
                {
                    "event": "reconciled",
                    "job_id": report.job_id,
                    "batches": len(report.resolutions),
                    "ok": report.count("ok"),
                    "not_sent_verified": report.count("not_sent_verified"),
                    "unknown": report.count("unknown"),
                    "lookups": report.lookups,
                    "elapsed_s": report.elapsed_s,
                }
            )
            return
        if report.resolutions:
            self.note(
                f"looked up {len(report.resolutions):,} unknown batches in {report.elapsed_s:.1f} s "
                f"({report.lookups:,} lookups): {report.count('ok'):,} accepted, "
                f"{report.count('not_sent_verified'):,} verified not sent, {report.count('unknown'):,} still unknown"
            )

    def repeats(self, report: RepeatReport) -> None:
        """Earlier jobs that sent this template to some of the same numbers recently."""
        if self.as_json:
            self._json(
                {
                    "event": "repeat",
                    "numbers": report.numbers,
                    "window_h": report.window_h,
                    "jobs": [
                        {"job_id": r.job_id, "created_at": r.created_at, "numbers": r.numbers} for r in report.repeats
                    ],
                }
            )
            return
        self.note(report.describe())

    def canary(self, verdict: CanaryVerdict) -> None:
        """The canary's funnel and verdict."""
        if self.as_json:
            self._json({"event": "canary", **verdict.to_json()})
            return
        f = verdict.funnel
        self.note(
            f"canary: {verdict.recipients:,} recipients, {verdict.refused:,} refused, {f.delivered:,} delivered, "
            f"{f.read:,} read, {f.failed:,} failed, {f.not_reported:,} not listed: "
            f"{'healthy' if verdict.healthy else 'NOT healthy'}: {verdict.reason}"
        )

    def finish(self, done: DoneEvent) -> None:
        """The final totals (and, after a fatal error, what to do about it)."""

        if self.as_json:
            data = event_to_json(done)
            self._json(data)
            return
        self._clear_progress()
        print(
            f"job {done.job_id} {done.state}: {done.ok:,} ok, {done.failed:,} failed, {done.unknown:,} unknown, "
            f"{done.pending:,} pending of {done.total:,} ({counted(done.calls, 'request')}, "
            f"{done.throttled:,} throttled, "
            f"{duration_text(done.elapsed_s)})",
            file=sys.stderr,
        )
        if done.state == "stopped":
            print(f"stopped by {done.code}: {done.message}", file=sys.stderr)
            if done.advice:
                print(done.advice, file=sys.stderr)
        if done.pending or done.unknown:
            # Plain resume first looks unknown batches up; --retry-unknown would skip that.
            print(f"resume with: {command(f'resume {done.job_id}', demo=self.demo)}", file=sys.stderr)
        if done.unknown:
            print(
                f"{done.unknown:,} recipients are unknown (the request may have been accepted): "
                f"see `{command(f'export {done.job_id}', demo=self.demo)}`",
                file=sys.stderr,
            )
