"""The first screen: every school, searchable."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from backend.services.directory import SchoolSummary, school_summaries
from screens.widgets import OpenTable
from screens.work import JobRunner


class SchoolsScreen(JobRunner, Screen[None]):
    """List schools; type to search, Enter opens one."""

    CSS_PATH = "schools.tcss"
    TITLE = "Schools"
    HELP = """
Every school the console manages. Type in the search box to filter by slug or
name; press Down to move into the list and Enter to open a school, where its
communities, SSO state and share link are.
"""
    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("down", "focus_table", "List", show=False),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
        Binding("u", "students", "Students"),
        Binding("l", "audit", "Audit log"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.schools: list[SchoolSummary] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search schools by slug or name", id="search")
        yield OpenTable(id="schools")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#schools", DataTable)
        table.add_columns("Slug", "Name", "Communities")
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        search = self.query_one("#search", Input).value.strip()
        self.run_in_session(
            "Loading schools",
            school_summaries,
            search,
            done=self.show_schools,
            exclusive=True,
            group="schools",
        )

    def show_schools(self, schools: list[SchoolSummary]) -> None:
        self.schools = schools
        table = self.query_one("#schools", DataTable)
        table.clear()
        for school in schools:
            table.add_row(
                school.slug, school.name, str(school.community_count), key=school.slug
            )
        status = self.query_one("#status", Static)
        if schools:
            status.update(f"{len(schools)} schools")
        else:
            status.update("No school matches; clear the search or load the demo")

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.action_refresh()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one("#schools", DataTable).focus()

    @on(DataTable.RowSelected, "#schools")
    def row_selected(self) -> None:
        self.action_open()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def selected_slug(self) -> str | None:
        table = self.query_one("#schools", DataTable)
        if not self.schools or table.cursor_row >= len(self.schools):
            return None
        return self.schools[table.cursor_row].slug

    def action_open(self) -> None:
        slug = self.selected_slug()
        if slug is None:
            self.notify("No school selected", severity="warning")
            return
        from screens.school import SchoolScreen

        self.app.push_screen(SchoolScreen(school_slug=slug))

    def action_students(self) -> None:
        from screens.students import StudentsScreen

        self.app.push_screen(StudentsScreen(school_slug=self.selected_slug()))

    def action_audit(self) -> None:
        from screens.audit import AuditScreen

        self.app.push_screen(AuditScreen(school_slug=self.selected_slug()))

    def action_focus_table(self) -> None:
        self.query_one("#schools", DataTable).focus()
