"""Held and past imports of a community: approve, reject, roll back."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from backend.imports import service
from backend.imports.review import (
    RollbackPlan,
    RunSummary,
    rollback_plan,
    run_summaries,
)
from backend.models import ImportRun
from screens.dialogs import ConfirmModal
from screens.text import plural
from screens.widgets import KeyHints
from screens.work import JobRunner

STATUS_STYLES = {
    "held": "b yellow",
    "previewed": "cyan",
    "applied": "green",
    "rejected": "dim",
    "rolled_back": "magenta",
}


# Short labels keep the Time column inside 80 columns; the line below the
# table shows the whole file name, user and date of the selected run.
KIND_LABELS = {
    "course_enrollment": "enrollment",
    "student_metadata": "metadata",
    "course_grades": "grades",
}
SOURCE_LABELS = {"custom": "custom", "sftp": "IT"}
FILE_WIDTH = 16


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def counts_cell(counts: dict[str, int]) -> str:
    if not counts:
        return "-"
    return (
        f"+{counts.get('added', 0):,} ~{counts.get('changed', 0):,} "
        f"-{counts.get('removed', 0):,}"
    )


def plan_text(plan: RollbackPlan) -> str:
    def one(count: int, singular: str, plural_form: str) -> str:
        return singular if count == 1 else plural_form

    restored = plural(plan.restored, "changed or removed row")
    gets = one(plan.restored, "gets its", "get their")
    lines = [
        f"Roll back run {plan.run_id} ({plan.kind}, {plan.file_name})? This restores "
        "the rows as they were before it:",
        f"  {restored} {gets} old values back",
    ]
    if plan.deleted:
        verb = one(plan.deleted, "is", "are")
        lines.append(f"  {plural(plan.deleted, 'row')} it added {verb} deleted")
    if plan.deactivated:
        verb = one(plan.deactivated, "becomes", "become")
        lines.append(
            f"  {plural(plan.deactivated, 'row')} it added or brought back "
            f"{verb} inactive"
        )
    if plan.replaced:
        verb = one(plan.replaced, "comes", "come")
        lines.append(
            f"  {plural(plan.replaced, 'row')} of the other source it replaced "
            f"{verb} back"
        )
    if plan.sample_keys:
        lines.append("For example: " + ", ".join(plan.sample_keys))
    return "\n".join(lines)


class RunsScreen(JobRunner, Screen[None]):
    """Every import run of a community, newest first."""

    CSS_PATH = "runs.tcss"
    HELP = """
The imports of this community, newest first, with status, counts (+ added,
~ changed, - removed), the OS user who ran them and when. A held run waits
for someone to approve (apply past its guard) or reject it. Only the newest
applied run of a kind and source can be rolled back, since later runs were
computed against its rows; the confirmation lists what comes back.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "approve", "Approve"),
        Binding("r", "reject", "Reject"),
        Binding("b", "rollback", "Roll back"),
        Binding("f", "held_only", "Held only"),
        Binding("y", "copy", "Copy ID", show=False),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]
    # Keys that do not fit in the footer at 80 columns, shown above it.
    HINTS = [("y", "Copy ID"), ("^r", "Refresh")]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.runs: list[RunSummary] = []
        self.shown: list[RunSummary] = []
        self.held_only = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="reason")
        yield KeyHints(self.HINTS, id="hints")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = f"Imports of {self.community_slug}"
        table = self.query_one("#runs", DataTable)
        table.add_columns(
            "Run", "Kind", "Src", "Status", "Counts", "Time", "File", "User"
        )
        self.action_refresh()

    def action_refresh(self) -> None:
        self.run_in_session(
            "Loading imports",
            run_summaries,
            self.community_slug,
            done=self.show_runs,
            exclusive=True,
        )

    def show_runs(self, runs: list[RunSummary]) -> None:
        self.runs = runs
        self.shown = [r for r in runs if r.status == "held" or not self.held_only]
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row
        table.clear()
        for run in self.shown:
            style = STATUS_STYLES.get(run.status, "")
            table.add_row(
                str(run.id),
                KIND_LABELS.get(run.kind, run.kind),
                SOURCE_LABELS.get(run.source, run.source),
                f"[{style}]{run.status.replace('_', ' ')}[/]",
                counts_cell(run.counts),
                f"{run.created_at:%m-%d %H:%M}",
                shorten(run.file_name, FILE_WIDTH),
                run.os_user,
                key=str(run.id),
            )
        if self.shown:
            table.move_cursor(row=min(row, len(self.shown) - 1))
        self.show_detail()
        table.focus()

    @on(DataTable.RowHighlighted, "#runs")
    def show_detail(self) -> None:
        reason = self.query_one("#reason", Static)
        run = self.selected()
        if run is None:
            reason.update("No import matches.")
            return
        text = (
            f"{escape(run.file_name)}: {run.kind} ({run.source}) by "
            f"{escape(run.os_user)} at {run.created_at:%Y-%m-%d %H:%M}"
        )
        if run.status == "held" and run.hold_reason:
            text += f"\n[b yellow]Held:[/] {escape(run.hold_reason)}"
        reason.update(text)

    def selected(self) -> RunSummary | None:
        table = self.query_one("#runs", DataTable)
        if not self.shown or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def action_held_only(self) -> None:
        self.held_only = not self.held_only
        self.show_runs(self.runs)

    def action_copy(self) -> None:
        run = self.selected()
        if run is not None:
            self.app.copy_to_clipboard(str(run.id))
            self.notify(f"Copied run ID {run.id}")

    def finished(self, run: ImportRun) -> None:
        self.notify(f"Run {run.id} is now {run.status.replace('_', ' ')}")
        self.action_refresh()

    def ask(self, title: str, body: str, job: object, run: RunSummary) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_job(
                    title,
                    job,  # type: ignore[arg-type]
                    self.app.factory,  # type: ignore[attr-defined]
                    run.id,
                    done=self.finished,
                    exclusive=True,
                )

        self.app.push_screen(ConfirmModal(title, body), answered)

    def action_approve(self) -> None:
        run = self.selected()
        if run is None or run.status != "held":
            self.notify("Only a held run can be approved", severity="warning")
            return
        reason = run.hold_reason or "No guard held it."
        body = (
            f"Apply run {run.id} ({run.kind}, {run.file_name}) now: "
            f"{counts_cell(run.counts)}.\n\n{reason}"
        )
        self.ask(f"Approve run {run.id}", body, service.approve_run, run)

    def action_reject(self) -> None:
        run = self.selected()
        if run is None or run.status not in ("held", "previewed"):
            self.notify(
                "Only a held or previewed run can be rejected", severity="warning"
            )
            return
        body = f"Reject run {run.id} ({run.kind}, {run.file_name})? Nothing is applied."
        self.ask(f"Reject run {run.id}", body, service.reject_run, run)

    def action_rollback(self) -> None:
        run = self.selected()
        if run is None or run.status != "applied":
            self.notify("Only an applied run can be rolled back", severity="warning")
            return
        self.run_in_session(
            "Reading what the rollback restores",
            rollback_plan,
            run.id,
            done=lambda plan: self.confirm_rollback(plan, run),
        )

    def confirm_rollback(self, plan: RollbackPlan, run: RunSummary) -> None:
        if not plan.newest:
            newer = f"run {plan.newest_id}" if plan.newest_id else "the newer one"
            self.notify(
                f"Run {run.id} is not the {run.kind} run applied last; roll back "
                f"{newer} first",
                severity="warning",
            )
            return
        self.ask(f"Roll back run {run.id}", plan_text(plan), service.rollback_run, run)
