"""Previewing, applying, holding, approving and rolling back imports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import DataTable, Select, TabbedContent
from textual_fastdatatable import DataTable as FastTable

from backend.db import open_database
from backend.models import ImportRun
from penji_tui.app import PenjiApp
from screens.dialogs import ConfirmModal
from screens.importing import ImportScreen
from screens.preview import PreviewScreen
from screens.runs import RunsScreen
from tests.conftest import new_postgres_database
from tests.console.pilot import settle
from tests.helpers import (
    STUDENT_HEADER,
    csv_bytes,
    make_community,
    run_import,
    student_rows,
)
from tests.services.postgres import PostgresServer


def write_students(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes(STUDENT_HEADER, rows))
    return path


def statuses(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(ImportRun.status).order_by(ImportRun.id)))


async def preview(app: PenjiApp, pilot: object, path: Path) -> PreviewScreen:
    await settle(pilot)  # type: ignore[arg-type]
    screen = ImportScreen(community_slug="lc", path=str(path))
    await app.push_screen(screen)
    screen.query_one("#source", Select).value = "sftp"
    await pilot.press("ctrl+o")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, PreviewScreen)
    return app.screen


def change_rows(screen: PreviewScreen) -> int:
    return screen.query_one("#change-table", FastTable).row_count


@pytest.fixture
def students_factory(school_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The school with 100 IT students applied."""
    run_import(school_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(100)))
    return school_factory


async def test_preview_then_apply(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = student_rows(98) + student_rows(3, start=100)
    rows[0] = rows[0].replace("First0", "Renamed")
    path = write_students(tmp_path, rows)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        assert change_rows(screen) == 6
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    assert statuses(students_factory)[-1] == "applied"


async def test_preview_filters_and_search(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = student_rows(98) + student_rows(3, start=100)
    rows[0] = rows[0].replace("First0", "Renamed")
    path = write_students(tmp_path, rows)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        await pilot.press("2")
        await settle(pilot)
        assert change_rows(screen) == 3
        await pilot.press("3")
        await settle(pilot)
        assert change_rows(screen) == 1
        await pilot.press("4")
        await settle(pilot)
        assert change_rows(screen) == 2
        await pilot.press("1", "slash", *"s101@")
        await settle(pilot)
        assert change_rows(screen) == 1


async def test_changed_row_shows_old_and_new(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = student_rows(100)
    rows[5] = rows[5].replace("First5", "Renamed")
    path = write_students(tmp_path, rows)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        cells = screen.query_one("#change-table", FastTable).get_row_at(0)
    assert any("First5" in str(c) and "Renamed" in str(c) for c in cells)


async def test_rejected_file_shows_problems(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, ["not-an-email,A,B,,"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        assert screen.query_one("#tabs", TabbedContent).active == "problems"
        problems = screen.query_one("#problem-table", DataTable)
        assert problems.row_count >= 1
        assert problems.get_row_at(0)[1] == "2"
    assert statuses(school_factory) == ["rejected"]


async def test_missing_file_shows_message(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ImportScreen(community_slug="lc", path=str(tmp_path / "gone.csv"))
        await app.push_screen(screen)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        messages = [n.message for n in app._notifications]
    assert any("not found" in m for m in messages)


async def test_cancel_rejects_run(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(101))
    async with app.run_test(size=(80, 24)) as pilot:
        await preview(app, pilot, path)
        await pilot.press("escape")
        await settle(pilot)
    assert statuses(students_factory)[-1] == "rejected"


async def test_hold_then_approve(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(50))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        assert screen.preview.hold_reason is not None
        await pilot.press("h")
        await settle(pilot)
        assert statuses(students_factory)[-1] == "held"
        await app.push_screen(RunsScreen(community_slug="lc"))
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "50 of 100 students" in modal.body
        await pilot.press("y")
        await settle(pilot)
    assert statuses(students_factory)[-1] == "applied"


async def test_apply_past_guard_after_confirm(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(50))
    async with app.run_test(size=(80, 24)) as pilot:
        await preview(app, pilot, path)
        await pilot.press("a")
        await settle(pilot)
        assert "limit of 10%" in app.screen.body  # type: ignore[attr-defined]
        await pilot.press("y")
        await settle(pilot)
    assert statuses(students_factory)[-1] == "applied"


async def test_rollback_newest_run(
    app: PenjiApp, students_factory: sessionmaker[Session]
) -> None:
    run_import(
        students_factory,
        "students",
        csv_bytes(STUDENT_HEADER, student_rows(100) + student_rows(4, start=100)),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(RunsScreen(community_slug="lc"))
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "4 rows it added are deleted" in modal.body
        await pilot.press("y")
        await settle(pilot)
    assert statuses(students_factory)[-1] == "rolled_back"


async def test_rollback_of_older_run_refused(
    app: PenjiApp, students_factory: sessionmaker[Session]
) -> None:
    run_import(
        students_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(101))
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(RunsScreen(community_slug="lc"))
        await settle(pilot)
        await pilot.press("down", "b")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        messages = [n.message for n in app._notifications]
    assert any("roll back the newer one first" in m for m in messages)
    assert statuses(students_factory) == ["applied", "applied"]


@pytest.fixture
def postgres_factory(
    postgres_server: PostgresServer,
) -> Iterator[sessionmaker[Session]]:
    factory = open_database(new_postgres_database(postgres_server))
    make_community(factory)
    yield factory
    factory.kw["bind"].dispose()


@pytest.mark.postgres
async def test_preview_apply_on_postgres(
    postgres_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(20))
    app = PenjiApp(postgres_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        assert change_rows(screen) == 20
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert statuses(postgres_factory) == ["applied"]
