"""An import preview: counts, the changes in a virtual table, and problems."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Static,
    TabbedContent,
    TabPane,
)
from textual_fastdatatable import DataTable as FastTable

from backend.imports import service
from backend.imports.review import hold_run
from backend.imports.service import Preview
from backend.models import ImportRun
from screens.dialogs import ConfirmModal
from screens.preview_table import ChangeBackend, ChangeRows
from screens.work import JobRunner

FILTERS = {"all": None, "added": "added", "changed": "changed", "removed": "removed"}


def counts_text(preview: Preview) -> str:
    counts = preview.counts
    parts = [
        f"[green]+ {counts['added']:,} added[/]",
        f"[yellow]~ {counts['changed']:,} changed[/]",
        f"[red]- {counts['removed']:,} removed[/]",
        f"{counts['unchanged']:,} unchanged",
    ]
    if counts.get("replaced"):
        parts.append(f"[red]- {counts['replaced']:,} replaced from the other source[/]")
    return "  ".join(parts)


def header_text(preview: Preview) -> str:
    parsed = preview.parsed
    lines = [
        f"[b]{parsed.file_name}[/]: {preview.spec.label} ({preview.source}) for "
        f"{preview.community_slug}, run {preview.run_id}"
    ]
    if preview.status == "rejected":
        lines.append(
            f"[b red]Rejected: {parsed.errors.total:,} errors.[/] Nothing will be "
            "written; fix the file and import it again (see Problems)."
        )
        return "\n".join(lines)
    lines.append(counts_text(preview))
    if preview.hold_reason:
        lines.append(f"[b yellow]Applying will hold it:[/] {preview.hold_reason}")
    return "\n".join(lines)


class PreviewScreen(JobRunner, Screen[None]):
    """Review a previewed import, then apply, hold or cancel it."""

    CSS_PATH = "preview.tcss"
    HELP = """
The preview lists every row the import adds (+, green), changes (~, yellow,
each changed field shown old → new) and removes (-, red). F cycles the filter
through all, added, changed and removed rows (or press 1, 2, 3, 4), and /
searches keys and values. Problems lists the file's
errors and warnings by line and column.

Apply writes the changes in one transaction; if the change is larger than the
community's guard limits, the run is held for review instead, unless you
confirm applying past the guard. Hold keeps the run for approval later in the
imports list. Cancel marks the run rejected; nothing is written.
"""
    BINDINGS = [
        Binding("a", "apply", "Apply"),
        Binding("h", "hold", "Hold"),
        Binding("escape", "cancel", "Cancel"),
        Binding("slash", "search", "Search"),
        Binding("f", "next_filter", "Filter"),
        Binding("1", "filter('all')", "Show all changes", show=False),
        Binding("2", "filter('added')", "Show added rows", show=False),
        Binding("3", "filter('changed')", "Show changed rows", show=False),
        Binding("4", "filter('removed')", "Show removed rows", show=False),
        Binding("t", "switch_tab", "Problems"),
    ]

    def __init__(self, preview: Preview, rows: ChangeRows | None = None) -> None:
        super().__init__()
        self.preview = preview
        self.rows = rows or ChangeRows(preview)
        self.change_filter = "all"
        self.finished = False

    def compose(self) -> ComposeResult:
        parsed = self.preview.parsed
        problems = parsed.errors.total + parsed.warnings.total
        yield Header()
        yield Static(header_text(self.preview), id="summary")
        first_tab = "problems" if self.preview.status == "rejected" else "changes"
        with TabbedContent(id="tabs", initial=first_tab):
            with TabPane(f"Changes ({len(self.rows.entries):,})", id="changes"):
                yield Static("", id="filter")
                yield Input(placeholder="search keys and values", id="search")
                yield Vertical(id="table-box")
            with TabPane(f"Problems ({problems:,})", id="problems"):
                yield DataTable(id="problem-table", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Import preview"
        self.query_one("#search").display = False
        self.fill_problems()
        self.refilter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("apply", "hold") and self.preview.status == "rejected":
            return None
        return True

    def fill_problems(self) -> None:
        parsed = self.preview.parsed
        table = self.query_one("#problem-table", DataTable)
        table.add_columns("Type", "Line", "Column", "Message")
        for title, problems in (("error", parsed.errors), ("warning", parsed.warnings)):
            style = "b red" if title == "error" else "yellow"
            for p in problems.items:
                table.add_row(
                    f"[{style}]{title}[/]", str(p.line or "-"), p.column, p.message
                )
            if problems.omitted:
                table.add_row(title, "", "", f"... and {problems.omitted:,} more")

    def refilter(self) -> None:
        search = self.query_one("#search", Input).value
        self.run_job(
            "Filtering changes",
            self.filtered_backend,
            FILTERS[self.change_filter],
            search,
            done=self.show_table,
            exclusive=True,
            group="filter",
        )

    def filtered_backend(self, change: str | None, search: str) -> ChangeBackend:
        return ChangeBackend(self.rows, self.rows.select(change, search))

    async def show_table(self, backend: ChangeBackend) -> None:
        box = self.query_one("#table-box", Vertical)
        await box.remove_children()
        table = FastTable(
            backend=backend,
            cursor_type="row",
            show_row_labels=False,
            max_column_content_width=40,
            id="change-table",
        )
        await box.mount(table)
        search = self.query_one("#search", Input).value.strip()
        shown = f"{backend.row_count:,} of {len(self.rows.entries):,} changes"
        where = f', matching "{search}"' if search else ""
        self.query_one("#filter", Static).update(
            f"Showing {self.change_filter}: {shown}{where}"
        )
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active == "changes" and not self.query_one("#search", Input).has_focus:
            table.focus()

    def action_next_filter(self) -> None:
        names = list(FILTERS)
        self.action_filter(names[(names.index(self.change_filter) + 1) % len(names)])

    def action_filter(self, name: str) -> None:
        self.change_filter = name
        self.refilter()

    def action_search(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "changes"
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.refilter()

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        self.query_one("#table-box").focus_next()

    def action_switch_tab(self) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = "problems" if tabs.active == "changes" else "changes"

    def action_apply(self) -> None:
        preview = self.preview
        if preview.hold_reason:
            title = "Apply past the guard?"
            body = (
                f"{preview.hold_reason}\n\nYes applies the import now anyway. "
                "No leaves it; press h to hold it for someone to approve."
            )
        else:
            title = "Apply the import?"
            body = (
                f"Apply {preview.spec.label.lower()} from {preview.parsed.file_name} "
                f"to {preview.community_slug}: {counts_text(preview)}. It can be "
                "rolled back from the imports list."
            )
        force = bool(preview.hold_reason)

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_job(
                    "Applying the import",
                    service.apply_preview,
                    self.app.factory,  # type: ignore[attr-defined]
                    preview,
                    force,
                    done=self.applied,
                    exclusive=True,
                )

        self.app.push_screen(ConfirmModal(title, body, confirm="Apply"), answered)

    def applied(self, run: ImportRun) -> None:
        self.finished = True
        if run.status == "held":
            self.notify(f"Run {run.id} held: {run.hold_reason}", severity="warning")
        else:
            self.notify(f"Run {run.id} applied: {run.counts}")
        self.app.pop_screen()

    def action_hold(self) -> None:
        self.run_job(
            "Holding the import",
            hold_run,
            self.app.factory,  # type: ignore[attr-defined]
            self.preview.run_id,
            done=self.held,
            exclusive=True,
        )

    def held(self, run: ImportRun) -> None:
        self.finished = True
        self.notify(f"Run {run.id} held; approve or reject it in the imports list")
        self.app.pop_screen()

    def action_cancel(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            search.display = bool(search.value)
            self.query_one("#table-box").focus_next()
            return
        if self.preview.status == "rejected" or self.finished:
            self.app.pop_screen()
            return
        self.run_job(
            "Cancelling the import",
            service.reject_run,
            self.app.factory,  # type: ignore[attr-defined]
            self.preview.run_id,
            done=self.cancelled,
            exclusive=True,
        )

    def cancelled(self, run: ImportRun) -> None:
        self.finished = True
        self.notify(f"Run {run.id} cancelled; nothing was written")
        self.app.pop_screen()
