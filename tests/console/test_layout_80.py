"""Footers, key lines and tables that must fit a terminal of 80 columns."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from penji_tui.app import PenjiApp
from screens.audit import AuditScreen
from screens.community import CommunityScreen
from screens.coverage import CoverageScreen
from screens.importing import ImportScreen
from screens.runs import RunsScreen
from screens.school import SchoolScreen
from screens.sso import SsoScreen
from screens.students import StudentsScreen
from screens.widgets import KeyHints
from tests.console.pilot import settle
from tests.helpers import STUDENT_HEADER, csv_bytes, run_import, student_rows

SCREENS: dict[str, Callable[[], Screen[None]]] = {
    "school": lambda: SchoolScreen(school_slug="uni"),
    "community": lambda: CommunityScreen(community_slug="lc"),
    "sso": lambda: SsoScreen(school_slug="uni"),
    "runs": lambda: RunsScreen(community_slug="lc"),
    "students": lambda: StudentsScreen(community_slug="lc"),
    "audit": lambda: AuditScreen(school_slug="uni"),
    "import": lambda: ImportScreen(community_slug="lc", path="/tmp/"),
    "coverage": lambda: CoverageScreen(community_slug="lc"),
}


@pytest.mark.parametrize("name", list(SCREENS))
async def test_footer_fits_80_columns(app: PenjiApp, name: str) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(SCREENS[name]())
        await settle(pilot)
        keys = list(app.screen.query(FooterKey))
        palette = [k for k in keys if k.has_class("-command-palette")]
        others = [k for k in keys if not k.has_class("-command-palette")]
        limit = palette[0].region.x if palette else 80
        cut = [k.description for k in others if k.region.right > limit]
    assert cut == []


def test_key_hints_wrap_between_entries() -> None:
    hints = KeyHints(CommunityScreen.HINTS)
    lines = hints.hint_lines(78)
    widths = [sum(len(k) + 1 + len(label) for k, label in line) for line in lines]
    assert len(lines) == 2
    assert all(
        w + 2 * (len(line) - 1) <= 78 for w, line in zip(widths, lines, strict=True)
    )
    assert [entry for line in lines for entry in line] == CommunityScreen.HINTS


async def test_runs_time_and_file_fit(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    rows = csv_bytes(STUDENT_HEADER, student_rows(1000))
    run_import(school_factory, "students", rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(RunsScreen(community_slug="lc"))
        await settle(pilot)
        table = app.screen.query_one("#runs", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        widths = [c.get_render_width(table) for c in table.columns.values()]
        reason = str(app.screen.query_one("#reason", Static).render())
    assert "File" in labels
    assert sum(widths[: labels.index("Time") + 1]) <= 78
    assert "students.csv" in reason


async def test_audit_kind_column_fits(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    run_import(school_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(5)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(AuditScreen(school_slug="uni"))
        await settle(pilot)
        table = app.screen.query_one("#events", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        widths = [c.get_render_width(table) for c in table.columns.values()]
        detail = str(app.screen.query_one("#detail", Static).render())
    assert sum(widths[: labels.index("Kind") + 1]) <= 78
    assert "lc" in detail
