"""The engagement-by-GPA report of one community, as a table with bars."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select, Static

from backend.services import engagement
from backend.services.schools import get_community
from screens.work import JobRunner

BAR_WIDTH = 10


@dataclass(frozen=True)
class TermReport:
    """The report of one term and the terms staff can switch to."""

    terms: list[str]
    report: engagement.EngagementReport


def load_report(session: Session, community_slug: str, term: str | None) -> TermReport:
    community = get_community(session, community_slug)
    terms = engagement.list_terms(session, community)
    chosen = term or engagement.latest_term(session, community)
    if chosen is None:
        return TermReport(terms, engagement.EngagementReport(community_slug, ""))
    return TermReport(terms, engagement.engagement_by_gpa(session, community, chosen))


def bar(value: float, maximum: float, width: int = BAR_WIDTH) -> str:
    """Draw ``value`` out of ``maximum`` as a bar of block characters."""
    if maximum <= 0:
        return " " * width
    eighths = round(width * 8 * min(value, maximum) / maximum)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest] if rest else ""
    return ("█" * full + partial).ljust(width)


class EngagementScreen(JobRunner, Screen[None]):
    """Students grouped into GPA bands, with how many used tutoring and how often."""

    CSS_PATH = "engagement.tcss"
    HELP = """
Engagement by GPA for one term: the term's graded students grouped by GPA,
with how many used tutoring (a completed session or a drop-in check-in) and
how many visits each user made. The term GPA is the mean of the term's grade
points. Terms carry no dates in the import files, so all of the community's
sessions and check-ins count; the command line's --from and --to limit them.
x writes the report as CSV to the current folder.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "export", "Export CSV"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.current: TermReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Select[str]([], prompt="Term", id="term", compact=True)
        yield DataTable(id="bands", cursor_type="row", zebra_stripes=True)
        yield Static(id="summary", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Engagement by GPA: {self.community_slug}"
        table = self.query_one("#bands", DataTable)
        table.add_columns("GPA", "Students", "Used tutoring", "Visits/user", "Visits")
        self.load(None)

    def load(self, term: str | None) -> None:
        self.run_in_session(
            "Building the report",
            load_report,
            self.community_slug,
            term,
            done=self.show_report,
            exclusive=True,
        )

    def action_refresh(self) -> None:
        self.load(self.current.report.term if self.current else None)

    def show_report(self, result: TermReport) -> None:
        self.current = result
        report = result.report
        select = self.query_one("#term", Select)
        with self.prevent(Select.Changed):
            select.set_options((term, term) for term in result.terms)
            if report.term:
                select.value = report.term

        table = self.query_one("#bands", DataTable)
        table.clear()
        top_rate = max((band.used_percent for band in report.bands), default=0.0)
        top_visits = max((band.visits_per_user for band in report.bands), default=0.0)
        for band in report.bands:
            table.add_row(
                band.label,
                str(band.students),
                f"{bar(band.used_percent, top_rate)} {band.used_percent:5.1f}% "
                f"({band.users})",
                f"{bar(band.visits_per_user, top_visits, 8)} "
                f"{band.visits_per_user:4.1f}",
                f"{band.sessions} s + {band.check_ins} c",
                key=band.label,
            )
        self.query_one("#summary", Static).update(self.summary(report))

    def summary(self, report: engagement.EngagementReport) -> str:
        if not report.term:
            return "No course grades yet: import a Course Grades file first."
        text = (
            f"Term {report.term}: {report.students} graded students, "
            f"{report.users} used tutoring. s = sessions, c = drop-in check-ins."
        )
        if report.ungraded_users:
            text += f" {report.ungraded_users} users have no grades this term."
        return text

    @on(Select.Changed, "#term")
    def term_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.load(event.value)

    def action_export(self) -> None:
        if self.current is None or not self.current.report.term:
            self.notify("No report to export", severity="warning")
            return
        report = self.current.report
        path = Path.cwd() / f"engagement-{report.community_slug}-{report.term}.csv"
        try:
            path.write_text(engagement.report_csv(report), encoding="utf-8", newline="")
        except OSError as error:
            self.notify(f"Cannot write {path}: {error.strerror}", severity="error")
            return
        self.notify(f"Wrote {path}")
