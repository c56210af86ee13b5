"""Snapshots of each console screen at 80x24 and 120x40.

The data is fixed: a school "uni" with community "lc", 40 IT students and two
custom ones, timestamps set to one instant and the OS user set to "support".
Update them with ``pytest tests/console/test_snapshots.py --snapshot-update``
and look at the SVG files before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot

from backend.db import transaction
from backend.imports import service
from backend.models import AuditEvent, ImportRun
from penji_tui.app import PenjiApp
from screens.audit import AuditScreen
from screens.community import CommunityScreen
from screens.importing import ImportScreen
from screens.preview import PreviewScreen
from screens.runs import RunsScreen
from screens.school import SchoolScreen
from screens.students import StudentsScreen
from tests.console.pilot import settle
from tests.helpers import STUDENT_HEADER, csv_bytes, run_import, student_rows

FIXED_TIME = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def fixed_factory(
    school_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    """The test school with students, one held run and fixed timestamps."""
    monkeypatch.setenv("USER", "support")
    for name in ("SUDO_USER", "SSH_CLIENT", "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)
    run_import(school_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(40)))
    custom = student_rows(2, last_name="Custom", start=500)
    run_import(
        school_factory, "students", csv_bytes(STUDENT_HEADER, custom), source="custom"
    )
    run_import(school_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(20)))
    with transaction(school_factory) as session:
        session.execute(
            update(ImportRun).values(created_at=FIXED_TIME, finished_at=FIXED_TIME)
        )
        session.execute(update(ImportRun).values(os_user="support"))
        session.execute(update(AuditEvent).values(at=FIXED_TIME, os_user="support"))
    return school_factory


def changed_preview_screen(factory: sessionmaker[Session]) -> PreviewScreen:
    rows = student_rows(40)
    rows[2] = rows[2].replace("First2", "Renamed")
    rows = rows[:36] + student_rows(3, start=40)
    preview = service.preview_import(
        factory, "lc", "students", "sftp", csv_bytes(STUDENT_HEADER, rows), "s.csv"
    )
    return PreviewScreen(preview)


def opener(
    make: Callable[[sessionmaker[Session]], object], *keys: str
) -> Callable[[sessionmaker[Session]], Callable[[Pilot[object]], Awaitable[None]]]:
    def bind(
        factory: sessionmaker[Session],
    ) -> Callable[[Pilot[object]], Awaitable[None]]:
        async def run_before(pilot: Pilot[object]) -> None:
            await settle(pilot)
            screen = make(factory)
            if screen is not None:
                await pilot.app.push_screen(screen)  # type: ignore[arg-type]
                await settle(pilot)
            if keys:
                await pilot.press(*keys)
                await settle(pilot)

        return run_before

    return bind


SCREENS = {
    "schools": opener(lambda f: None),
    "school": opener(lambda f: SchoolScreen(school_slug="uni")),
    "community": opener(lambda f: CommunityScreen(community_slug="lc")),
    "confirm": opener(lambda f: CommunityScreen(community_slug="lc"), "space"),
    "import": opener(lambda f: ImportScreen(community_slug="lc", path="students.csv")),
    "preview": opener(changed_preview_screen),
    "preview_changed": opener(changed_preview_screen, "3"),
    "runs": opener(lambda f: RunsScreen(community_slug="lc")),
    "students": opener(lambda f: StudentsScreen(community_slug="lc")),
    "profile": opener(
        lambda f: StudentsScreen(community_slug="lc"), *"s3@", "enter", "enter"
    ),
    "audit": opener(lambda f: AuditScreen(school_slug="uni")),
    "help": opener(lambda f: CommunityScreen(community_slug="lc"), "f1"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_snapshot(
    snap_compare: Callable[..., bool],
    fixed_factory: sessionmaker[Session],
    name: str,
    size: tuple[int, int],
) -> None:
    app = PenjiApp(fixed_factory)
    assert snap_compare(
        app, terminal_size=size, run_before=SCREENS[name](fixed_factory)
    )
