"""Students of both sources, searchable, and a student's profile."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from backend.services.students import (
    SEARCH_LIMIT,
    StudentProfile,
    StudentRow,
    search_students,
    student_profile,
)
from screens.text import plural
from screens.widgets import OpenTable
from screens.work import JobRunner

SOURCE_LABELS = {"custom": "custom", "sftp": "IT"}


class StudentsScreen(JobRunner, Screen[None]):
    """Search students by name, email, student ID or SSO ID."""

    CSS_PATH = "students.tcss"
    HELP = """
A community's students are the union of custom rows (an admin's CSV upload)
and IT rows (the SFTP import); the Source column says which. A student in
both lists shows twice. Type words to search names, emails, student IDs and
SSO IDs; every word must match. Escape clears the search, then goes back.
Inactive students (dropped by a later import) are hidden until you press i.
Enter opens the student's profile.
"""
    BINDINGS = [
        Binding("escape", "back", "Back"),
        # A priority binding, so that / moves to an empty search box without
        # typing itself; check_action lets it through to a box with text.
        Binding("slash", "search", "Search", priority=True),
        Binding("down", "focus_table", "List", show=False),
        Binding("i", "toggle_inactive", "Inactive"),
        Binding("y", "copy", "Copy ID"),
    ]

    def __init__(
        self, community_slug: str | None = None, school_slug: str | None = None
    ) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.school_slug = None if community_slug else school_slug
        self.students: list[StudentRow] = []
        self.include_inactive = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search name, email, student ID or SSO ID", id="search")
        yield OpenTable(id="students")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        scope = self.community_slug or self.school_slug or "every school"
        self.title = f"Students of {scope}"
        table = self.query_one("#students", DataTable)
        table.add_columns("Name", "Email", "Student ID", "Source")
        if self.community_slug is None:
            table.add_column("Community")
        self.refresh_list()

    def refresh_list(self) -> None:
        self.run_in_session(
            "Searching students",
            lambda session, text: search_students(
                session,
                community_slug=self.community_slug,
                school_slug=self.school_slug,
                text=text,
                include_inactive=self.include_inactive,
            ),
            self.query_one("#search", Input).value,
            done=self.show_students,
            exclusive=True,
            group="search",
        )

    def show_students(self, students: list[StudentRow]) -> None:
        self.students = students
        table = self.query_one("#students", DataTable)
        table.clear()
        for s in students:
            source = SOURCE_LABELS.get(s.source, s.source)
            cells = [
                s.name,
                s.email or "",
                s.student_id or "",
                source if s.active else f"{source}, inactive",
            ]
            if self.community_slug is None:
                cells.append(s.community_slug)
            table.add_row(*cells, key=str(s.id))
        more = (
            " (first results only; type more to narrow)"
            if len(students) >= SEARCH_LIMIT
            else ""
        )
        hidden = "" if self.include_inactive else "; inactive students hidden (i)"
        self.query_one("#status", Static).update(
            f"{plural(len(students), 'student')}{more}{hidden}"
        )

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.refresh_list()

    @on(Input.Submitted, "#search")
    def action_focus_table(self) -> None:
        self.query_one("#students", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":
            search = self.query_one("#search", Input)
            return not (search.has_focus and search.value)
        return True

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
            return
        self.app.pop_screen()

    def action_toggle_inactive(self) -> None:
        self.include_inactive = not self.include_inactive
        self.refresh_list()

    def selected(self) -> StudentRow | None:
        table = self.query_one("#students", DataTable)
        if not self.students or table.cursor_row >= len(self.students):
            return None
        return self.students[table.cursor_row]

    @on(DataTable.RowSelected, "#students")
    def open_profile(self) -> None:
        student = self.selected()
        if student is not None:
            self.app.push_screen(ProfileScreen(student.id))

    def action_copy(self) -> None:
        student = self.selected()
        if student is None:
            return
        value = student.student_id or student.email or student.key
        self.app.copy_to_clipboard(value)
        self.notify(f"Copied {value}")


def profile_text(profile: StudentProfile) -> str:
    s = profile.student
    lines = [
        f"[b]{s.name or s.key}[/]",
        f"Email       {s.email or '-'}",
        f"Student ID  {s.student_id or '-'}",
        f"SSO ID      {s.sso_id or '-'}",
        f"Source      {SOURCE_LABELS.get(s.source, s.source)} in {s.community_slug}"
        + ("" if s.active else " (inactive)"),
        "",
        "[b]Metadata[/]",
    ]
    if profile.metadata:
        width = max(len(name) for name in profile.metadata)
        lines += [f"  {k:<{width}}  {v}" for k, v in sorted(profile.metadata.items())]
    else:
        lines.append("  none")
    lines += ["", "[b]Enrollments[/]"]
    for e in profile.enrollments:
        when = " ".join(p for p in (e["meeting_days"], e["meeting_time"]) if p)
        lines.append(f"  {e['course_code']:<16} {e['term'] or '':<12} {when}")
    if not profile.enrollments:
        lines.append("  none")
    lines += ["", "[b]Grades[/]"]
    for g in profile.grades:
        points = g["grade_points"] or ""
        lines.append(
            f"  {g['course_code']:<16} {g['term']:<12} {g['grade']:<3} {points}"
        )
    if not profile.grades:
        lines.append("  none")
    return "\n".join(lines)


class ProfileScreen(JobRunner, Screen[None]):
    """One student's roster row, metadata, enrollments and grades."""

    HELP = """
One student's row as stored, with the metadata, enrollments and grades of the
same community that refer to the student by student ID or email, from either
source.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("y", "copy", "Copy ID"),
    ]

    def __init__(self, student_row_id: int) -> None:
        super().__init__()
        self.student_row_id = student_row_id
        self.profile: StudentProfile | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("Loading...", id="profile")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Student"
        self.run_in_session(
            "Loading the student",
            student_profile,
            self.student_row_id,
            done=self.show_profile,
        )

    def show_profile(self, profile: StudentProfile) -> None:
        self.profile = profile
        self.title = profile.student.name or profile.student.key
        self.query_one("#profile", Static).update(profile_text(profile))

    def action_copy(self) -> None:
        if self.profile is None:
            return
        s = self.profile.student
        value = s.student_id or s.email or s.key
        self.app.copy_to_clipboard(value)
        self.notify(f"Copied {value}")
