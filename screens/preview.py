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
from screens.text import plural
from screens.work import JobRunner

# The audit detail of a run rejected because staff cancelled its preview.
CANCEL_REASON = "cancelled in the console"

FILTERS = {"all": None, "added": "added", "changed": "changed", "removed": "removed"}


def counts_plain(counts: dict[str, int]) -> str:
    """Return counts as words without markup: "15 added, 25 changed, ..."."""
    parts = [
        f"{counts.get('added', 0):,} added",
        f"{counts.get('changed', 0):,} changed",
        f"{counts.get('removed', 0):,} removed",
        f"{counts.get('unchanged', 0):,} unchanged",
    ]
    if counts.get("replaced"):
        parts.append(f"{counts['replaced']:,} replaced from the other source")
    return ", ".join(parts)


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
        errors = plural(parsed.errors.total, "error")
        lines.append(
            f"[b red]Rejected: {errors}.[/] Nothing will be written; fix the file "
            "and import it again (see Problems)."
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
imports list. Cancel marks the run rejected (the audit log says "cancelled in
the console"); nothing is written.
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
                yield Static("", id="problem-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Import preview"
        self.query_one("#search").display = False
        self.fill_problems()
        self.refilter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A rejected file can be neither applied nor held, so the keys are not
        # offered at all.
        return not (action in ("apply", "hold") and self.preview.status == "rejected")

    def fill_problems(self) -> None:
        parsed = self.preview.parsed
        table = self.query_one("#problem-table", DataTable)
        table.add_columns("Type", "Line", "Column", "Message")
        # The full text of each row, shown below the table where the Message
        # column is cut at narrow widths.
        self.problem_texts: list[str] = []
        for title, problems in (("error", parsed.errors), ("warning", parsed.warnings)):
            style = "b red" if title == "error" else "yellow"
            for p in problems.items:
                table.add_row(
                    f"[{style}]{title}[/]", str(p.line or "-"), p.column, p.message
                )
                where = f"line {p.line}" if p.line else "file"
                column = f", column {p.column}" if p.column else ""
                self.problem_texts.append(f"{title} at {where}{column}: {p.message}")
            if problems.omitted:
                more = f"... and {problems.omitted:,} more"
                table.add_row(title, "", "", more)
                self.problem_texts.append(f"{title}: {more}")
        self.show_problem(0)

    @on(DataTable.RowHighlighted, "#problem-table")
    def problem_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_problem(event.cursor_row)

    def show_problem(self, row: int) -> None:
        detail = self.query_one("#problem-detail", Static)
        if 0 <= row < len(self.problem_texts):
            detail.update(self.problem_texts[row])
        else:
            detail.update("No problem found in the file.")

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
        self.focus_changes()

    def focus_changes(self) -> None:
        """Focus the change table, or the screen itself while it is rebuilt."""
        tables = self.query("#change-table")
        if tables:
            tables.first().focus()
        else:
            self.set_focus(None)

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
                f"to {preview.community_slug}: {counts_plain(preview.counts)}. "
                "It can be rolled back from the imports list."
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
            self.notify(f"Run {run.id} applied: {counts_plain(run.counts)}")
        self.app.pop_screen()

    def action_hold(self) -> None:
        preview = self.preview
        body = (
            f"Hold {preview.spec.label.lower()} from {preview.parsed.file_name} for "
            f"{preview.community_slug}: {counts_plain(preview.counts)}. Nothing is "
            "written until someone approves it in the imports list."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_job(
                    "Holding the import",
                    hold_run,
                    self.app.factory,  # type: ignore[attr-defined]
                    preview.run_id,
                    done=self.held,
                    exclusive=True,
                )

        self.app.push_screen(
            ConfirmModal("Hold the import?", body, confirm="Hold"), answered
        )

    def held(self, run: ImportRun) -> None:
        self.finished = True
        self.notify(f"Run {run.id} held; approve or reject it in the imports list")
        self.app.pop_screen()

    def action_cancel(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            search.display = bool(search.value)
            self.focus_changes()
            return
        if self.preview.status == "rejected" or self.finished:
            self.app.pop_screen()
            return
        self.run_job(
            "Cancelling the import",
            service.reject_run,
            self.app.factory,  # type: ignore[attr-defined]
            self.preview.run_id,
            CANCEL_REASON,
            done=self.cancelled,
            exclusive=True,
        )

    def cancelled(self, run: ImportRun) -> None:
        self.finished = True
        self.notify(f"Preview cancelled: run {run.id} is rejected; nothing was written")
        self.app.pop_screen()
