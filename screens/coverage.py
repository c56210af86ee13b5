"""Provider coverage of a community's courses, and stale certifications."""

from __future__ import annotations

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
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

from backend.services.certifications import Coverage, community_coverage
from backend.services.schools import get_community
from screens.work import JobRunner


def load_coverage(session: Session, community_slug: str) -> Coverage:
    return community_coverage(session, get_community(session, community_slug))


def matches(text: str, *values: str) -> bool:
    needle = text.strip().lower()
    return not needle or any(needle in value.lower() for value in values)


class CoverageScreen(JobRunner, Screen[None]):
    """Courses with their providers, providers with their courses, stale ones."""

    CSS_PATH = "coverage.tcss"
    AUTO_FOCUS = "#courses"
    HELP = """
Provider certifications resolved against the community's current course list.
By course: who covers each course, uncovered courses first. By
provider: what each certification list covers. Stale: certifications that
match no current course, for instance after the Courses integration renamed
the codes, with the closest current codes to use instead. Type in the filter
box to narrow every tab; Enter on a row shows its detail below. [ and ]
switch to the previous and next tab; Left and Right scroll the table.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("left_square_bracket", "switch_tab(-1)", "Prev tab", key_display="["),
        Binding("right_square_bracket", "switch_tab(1)", "Next tab", key_display="]"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.coverage: Coverage | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Filter by course code or email", id="filter", compact=True
        )
        with TabbedContent(id="tabs"):
            with TabPane("By course", id="course-tab"):
                yield DataTable(id="courses", cursor_type="row")
            with TabPane("By provider", id="provider-tab"):
                yield DataTable(id="providers", cursor_type="row")
            with TabPane("Stale", id="stale-tab"):
                yield DataTable(id="stale", cursor_type="row")
        yield Static(id="detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Coverage: {self.community_slug}"
        self.query_one("#courses", DataTable).add_columns("Course", "Providers", "Who")
        self.query_one("#providers", DataTable).add_columns(
            "Provider", "Courses", "Certified in"
        )
        self.query_one("#stale", DataTable).add_columns(
            "Provider", "Certification", "Closest current codes"
        )
        self.action_refresh()

    def action_refresh(self) -> None:
        self.run_in_session(
            "Resolving certifications",
            load_coverage,
            self.community_slug,
            done=self.show_coverage,
            exclusive=True,
        )

    def show_coverage(self, coverage: Coverage) -> None:
        self.coverage = coverage
        stale = len(coverage.stale)
        self.query_one("#tabs", TabbedContent).get_tab(
            "stale-tab"
        ).label = f"Stale ({stale})"
        self.fill_tables()

    def fill_tables(self) -> None:
        if self.coverage is None:
            return
        text = self.query_one("#filter", Input).value
        coverage = self.coverage

        courses = self.query_one("#courses", DataTable)
        courses.clear()
        ordered = sorted(coverage.by_course.items(), key=lambda i: (bool(i[1]), i[0]))
        for code, emails in ordered:
            if matches(text, code, *emails):
                count = str(len(emails)) if emails else "[b red]none[/]"
                courses.add_row(code, count, ", ".join(emails), key=code)

        providers = self.query_one("#providers", DataTable)
        providers.clear()
        for email, codes in coverage.by_provider.items():
            patterns = coverage.patterns[email]
            if matches(text, email, *patterns, *codes):
                providers.add_row(
                    email, str(len(codes)), " | ".join(patterns), key=email
                )

        stale = self.query_one("#stale", DataTable)
        stale.clear()
        for number, item in enumerate(coverage.stale):
            if matches(text, item.provider_email, item.pattern):
                suggestions = ", ".join(item.suggestions) or "no close course"
                stale.add_row(
                    item.provider_email, item.pattern, suggestions, key=str(number)
                )

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.fill_tables()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one("#tabs", TabbedContent).active_pane.query_one(DataTable).focus()  # type: ignore[union-attr]

    def action_switch_tab(self, step: int) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        panes = ["course-tab", "provider-tab", "stale-tab"]
        index = panes.index(tabs.active) if tabs.active in panes else 0
        tabs.active = panes[(index + step) % len(panes)]
        pane = tabs.active_pane
        if pane is not None:
            pane.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(DataTable.RowSelected, "#courses")
    def course_selected(self, event: DataTable.RowSelected) -> None:
        assert self.coverage is not None
        code = str(event.row_key.value)
        emails = self.coverage.by_course[code]
        who = "\n".join(emails) if emails else "No provider covers this course."
        self.query_one("#detail", Static).update(f"{code}\n{who}")

    @on(DataTable.RowSelected, "#providers")
    def provider_selected(self, event: DataTable.RowSelected) -> None:
        assert self.coverage is not None
        email = str(event.row_key.value)
        codes = self.coverage.by_provider[email]
        listed = ", ".join(codes) if codes else "no current course"
        self.query_one("#detail", Static).update(f"{email} covers: {listed}")
