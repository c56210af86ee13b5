"""One school: its communities, SSO state and share link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from backend.services.directory import SchoolDetail, school_detail
from backend.services.schools import get_school
from screens.extensions import SCHOOL_FACTS, SCHOOL_SCREENS, Fact, find
from screens.widgets import KeyHints, OpenTable
from screens.work import JobRunner


@dataclass(frozen=True)
class SchoolPage:
    """Facts and communities of the school screen, loaded in one transaction."""

    detail: SchoolDetail
    facts: list[Fact]


def load_school_page(session: Session, slug: str) -> SchoolPage:
    detail = school_detail(session, slug)
    school = get_school(session, slug)
    facts = [fact for describe in SCHOOL_FACTS for fact in describe(session, school)]
    return SchoolPage(detail, facts)


class SchoolScreen(JobRunner, Screen[None]):
    """A school's communities, oldest first, with its school-wide facts above."""

    CSS_PATH = "school.tcss"
    HELP = """
A school and its communities, oldest first (the oldest joined community is
where a signed-out user lands after SSO). SSO is set per school; everything
else is set per community. Enter opens the selected community.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("y", "copy", "Copy link"),
        Binding("u", "students", "Students", show=False),
        Binding("l", "audit", "Audit log", show=False),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
        *[Binding(e.key, e.action, e.label, show=False) for e in SCHOOL_SCREENS],
    ]
    HINTS = [
        ("u", "Students"),
        ("l", "Audit log"),
        ("^r", "Refresh"),
        *[(e.key, e.label) for e in SCHOOL_SCREENS],
    ]

    def __init__(self, school_slug: str) -> None:
        super().__init__()
        self.school_slug = school_slug
        self.page: SchoolPage | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading...", id="facts")
        yield OpenTable(id="communities")
        yield KeyHints(self.HINTS, id="hints")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = self.school_slug
        table = self.query_one("#communities", DataTable)
        table.add_columns("Slug", "Name", "Visible", "Eligibility", "On", "Students")
        table.focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        # Screens opened from here, such as SSO, change the facts shown above.
        if self.page is not None:
            self.action_refresh()

    def action_refresh(self) -> None:
        self.run_in_session(
            "Loading the school",
            load_school_page,
            self.school_slug,
            done=self.show_page,
            exclusive=True,
        )

    def show_page(self, page: SchoolPage) -> None:
        self.page = page
        detail = page.detail
        self.title = detail.name
        self.sub_title = detail.slug
        width = max((len(f.label) for f in page.facts), default=0)
        lines = [f"{f.label:<{width}}  {f.value}" for f in page.facts]
        self.query_one("#facts", Static).update("\n".join(lines))
        table = self.query_one("#communities", DataTable)
        table.clear()
        for c in detail.communities:
            table.add_row(
                c.slug,
                c.name,
                "hidden" if c.hidden else "visible",
                "Use List" if c.eligibility == "use_list" else "Everyone",
                f"{c.enabled_count}/8",
                f"{c.student_count:,}",
                key=c.slug,
            )
        table.focus()

    def selected_community(self) -> str | None:
        table = self.query_one("#communities", DataTable)
        if self.page is None or not self.page.detail.communities:
            return None
        return self.page.detail.communities[table.cursor_row].slug

    @on(DataTable.RowSelected, "#communities")
    def row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        slug = self.selected_community()
        if slug is None:
            self.notify("This school has no community yet", severity="warning")
            return
        from screens.community import CommunityScreen

        self.app.push_screen(CommunityScreen(community_slug=slug))

    def action_copy(self) -> None:
        facts = self.page.facts if self.page else []
        link = next((f for f in facts if f.copy), None)
        if link is None:
            self.app.copy_to_clipboard(self.school_slug)
            self.notify(f"Copied the school slug {self.school_slug} (no share link)")
            return
        self.app.copy_to_clipboard(link.value)
        self.notify(f"Copied {link.label}: {link.value}")

    def action_open_extension(self, key: str) -> None:
        screen = find(SCHOOL_SCREENS, key).load()
        self.app.push_screen(screen(school_slug=self.school_slug))  # type: ignore[call-arg]

    def action_students(self) -> None:
        from screens.students import StudentsScreen

        self.app.push_screen(StudentsScreen(school_slug=self.school_slug))

    def action_audit(self) -> None:
        from screens.audit import AuditScreen

        self.app.push_screen(AuditScreen(school_slug=self.school_slug))
