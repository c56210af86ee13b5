"""The audit log, filtered by school, community, user and kind."""

from __future__ import annotations

import json

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from backend.services.audit_log import AUDIT_LIMIT, AuditFilter, AuditRow, search_audit
from screens.work import JobRunner

FILTER_FIELDS = (
    ("school_slug", "school"),
    ("community_slug", "community"),
    ("os_user", "user"),
    ("kind", "kind"),
)


def detail_text(detail: dict[str, object]) -> str:
    return json.dumps(detail, sort_keys=True, default=str)


class AuditScreen(JobRunner, Screen[None]):
    """Audit events, newest first; each filter field narrows the list."""

    CSS_PATH = "audit.tcss"
    HELP = """
Every change made through the console, the command line or the daemon, newest
first, with the OS user and SSH client that made it. Type in the filter
fields (school slug, community slug, OS user, integration or import kind);
an empty field matches everything. The line below the table shows the full
detail of the selected event.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("slash", "filters", "Filter"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]

    def __init__(
        self, school_slug: str | None = None, community_slug: str | None = None
    ) -> None:
        super().__init__()
        self.initial = {
            "school_slug": school_slug or "",
            "community_slug": community_slug or "",
        }
        self.events: list[AuditRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            for name, label in FILTER_FIELDS:
                yield Input(
                    self.initial.get(name, ""),
                    placeholder=label,
                    id=name,
                    compact=True,
                )
        yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Audit log"
        table = self.query_one("#events", DataTable)
        table.add_columns("Time (UTC)", "User", "Community", "Action", "Kind")
        self.action_refresh()
        table.focus()

    def current_filter(self) -> AuditFilter:
        values = {
            name: self.query_one(f"#{name}", Input).value.strip()
            for name, _label in FILTER_FIELDS
        }
        return AuditFilter(**values)

    def action_refresh(self) -> None:
        self.run_in_session(
            "Loading the audit log",
            search_audit,
            self.current_filter(),
            done=self.show_events,
            exclusive=True,
            group="audit",
        )

    def show_events(self, events: list[AuditRow]) -> None:
        self.events = events
        table = self.query_one("#events", DataTable)
        table.clear()
        for e in events:
            table.add_row(
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.os_user,
                e.community_slug or e.school_slug or "-",
                e.action,
                e.kind or "",
                key=str(e.id),
            )
        if not events:
            self.query_one("#detail", Static).update("No event matches the filters.")
        elif len(events) >= AUDIT_LIMIT:
            self.notify(f"Showing the newest {AUDIT_LIMIT} events; filter to narrow")

    @on(Input.Changed)
    def filter_changed(self) -> None:
        self.action_refresh()

    @on(Input.Submitted)
    def filter_done(self) -> None:
        self.query_one("#events", DataTable).focus()

    def action_filters(self) -> None:
        self.query_one("#school_slug", Input).focus()

    @on(DataTable.RowHighlighted, "#events")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.events):
            return
        e = self.events[event.cursor_row]
        client = f" from {e.ssh_client}" if e.ssh_client else ""
        self.query_one("#detail", Static).update(
            f"{e.os_user}{client}: {detail_text(e.detail)}"
        )
