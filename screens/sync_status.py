"""The nightly SFTP sync: the next scheduled run and the last runs."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from backend.db import transaction
from backend.sync.state import RunRow, StatusView, status_view
from screens.work import JobRunner

STATUS_STYLES = {
    "ok": "green",
    "partial": "b yellow",
    "failed": "b red",
    "stopped": "magenta",
    "interrupted": "magenta",
    "running": "cyan",
}


def schedule_text(view: StatusView) -> str:
    if view.next_run_at is None:
        return f"Next run: unknown ({view.schedule_text})"
    text = f"Next run: {view.next_run_at:%Y-%m-%d %H:%M} UTC, {view.schedule_text}"
    if view.daemon:
        seen = f"{view.daemon_seen_at:%Y-%m-%d %H:%M} UTC"
        text += f"\nDaemon {view.daemon}, last seen {seen}"
    return text


def detail_text(run: RunRow) -> str:
    took = f"{run.duration_seconds:.1f}s" if run.duration_seconds else "running"
    lines = [
        f"Run {run.id} of {run.school_slug}/{run.community_slug}: {run.status} "
        f"({took}), {run.files_seen} files seen, {run.exports_written} exports "
        "written"
    ]
    lines += [f"[b red]error[/]: {error}" for error in run.errors]
    for entry in run.files:
        reason = f" ({entry['reason']})" if entry.get("reason") else ""
        lines.append(f"{entry['name']}: {entry['action']}{reason}")
    return "\n".join(lines)


def load_status(
    factory: sessionmaker[Session],
    community_slug: str | None,
    school_slug: str | None,
) -> StatusView:
    with transaction(factory) as session:
        return status_view(session, community_slug, school_slug)


class SyncStatusScreen(JobRunner, Screen[None]):
    """The last sync runs of a community, of a school, or of all communities."""

    CSS_PATH = "sync_status.tcss"
    HELP = """
The nightly SFTP sync that `penji-tui daemon` runs: when it runs next and the
last runs, newest first. Each run lists files seen, imported, held (waiting
for approval in Imports), rejected, skipped (same file as the last import),
left on the server (switched off, still being written, or failed) and
exports written. Select a run to see each file and error. `a` switches
between this community or school and every community.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "toggle_all", "All / this"),
        Binding("ctrl+r", "refresh", "Refresh"),
    ]

    def __init__(
        self,
        factory: sessionmaker[Session] | None = None,
        community_slug: str | None = None,
        school_slug: str | None = None,
    ) -> None:
        super().__init__()
        self.factory = factory
        self.community_slug = community_slug
        self.school_slug = school_slug
        self.show_all = community_slug is None and school_slug is None
        self.view: StatusView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="schedule")
        yield DataTable(id="sync-runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#sync-runs", DataTable)
        table.add_columns(
            "Run", "Community", "Trigger", "Status", "Started",
            "Imp", "Held", "Rej", "Skip", "Left", "Exp",
        )  # fmt: skip
        self.action_refresh()

    def _scope(self) -> str:
        if self.show_all:
            return "all communities"
        return self.community_slug or f"school {self.school_slug}"

    def action_refresh(self) -> None:
        self.title = f"Sync of {self._scope()}"
        factory = self.factory or self.app.factory  # type: ignore[attr-defined]
        community = None if self.show_all else self.community_slug
        school = None if self.show_all else self.school_slug
        self.run_job(
            "Loading sync runs",
            load_status,
            factory,
            community,
            school,
            done=self.show_status,
            exclusive=True,
        )

    def action_toggle_all(self) -> None:
        if self.community_slug is None and self.school_slug is None:
            return
        self.show_all = not self.show_all
        self.action_refresh()

    def show_status(self, view: StatusView) -> None:
        self.view = view
        self.query_one("#schedule", Static).update(schedule_text(view))
        table = self.query_one("#sync-runs", DataTable)
        table.clear()
        for run in view.runs:
            style = STATUS_STYLES.get(run.status, "")
            table.add_row(
                str(run.id), run.community_slug, run.trigger,
                f"[{style}]{run.status}[/]", f"{run.started_at:%m-%d %H:%M}",
                str(run.imported), str(run.held), str(run.rejected),
                str(run.skipped), str(run.files_left), str(run.exports_written),
            )  # fmt: skip
        detail = self.query_one("#detail", Static)
        detail.update(detail_text(view.runs[0]) if view.runs else "No sync runs yet.")

    @on(DataTable.RowHighlighted, "#sync-runs")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        if self.view is None or not 0 <= event.cursor_row < len(self.view.runs):
            return
        run = self.view.runs[event.cursor_row]
        self.query_one("#detail", Static).update(detail_text(run))
