"""Previewing, applying, holding, approving and rolling back imports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import (
    DataTable,
    DirectoryTree,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
)
from textual_fastdatatable import DataTable as FastTable

from backend.db import open_database
from backend.imports import service
from backend.models import AuditEvent, ImportRun
from penji_tui.app import PenjiApp
from screens.dialogs import ConfirmModal
from screens.importing import ImportScreen, preview_file, tree_root
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
        # Apply and hold are not offered for a rejected file.
        actions = {item.binding.action for item in screen.active_bindings.values()}
        assert "apply" not in actions
        assert "hold" not in actions
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen
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


def reject_reasons(factory: sessionmaker[Session]) -> list[object]:
    with factory() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import.reject")
        )
        return [event.detail.get("reason") for event in events]


async def test_cancel_rejects_run(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(101))
    async with app.run_test(size=(80, 24)) as pilot:
        await preview(app, pilot, path)
        await pilot.press("escape")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    assert statuses(students_factory)[-1] == "rejected"
    assert reject_reasons(students_factory) == ["cancelled in the console"]
    assert any(m.startswith("Preview cancelled") for m in messages)


async def test_escape_while_reading_rejects_run(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(3000))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ImportScreen(community_slug="lc", path=str(path))
        await app.push_screen(screen)
        screen.query_one("#source", Select).value = "sftp"
        await pilot.press("ctrl+o", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, (ImportScreen, PreviewScreen))
    assert statuses(students_factory)[-1] == "rejected"
    assert reject_reasons(students_factory) == ["cancelled in the console"]


def test_preview_file_cancelled_rejects_run(
    students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(101))
    cancelled = threading.Event()
    cancelled.set()
    ready = preview_file(students_factory, "lc", "students", "sftp", path, cancelled)
    assert ready is None
    assert statuses(students_factory)[-1] == "rejected"
    assert reject_reasons(students_factory) == ["cancelled in the console"]


async def test_hold_then_approve(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(50))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        assert screen.preview.hold_reason is not None
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert statuses(students_factory)[-1] == "previewed"
        await pilot.press("y")
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
        assert "4 rows it added or brought back become inactive" in modal.body
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
    assert any("roll back run 2 first" in m for m in messages)
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


async def test_preview_search_enter_focuses_table(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = student_rows(98) + student_rows(3, start=100)
    path = write_students(tmp_path, rows)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        await pilot.press("slash", "s", "1", "0", "1", "enter")
        await settle(pilot)
        assert change_rows(screen) == 1
        assert isinstance(app.focused, FastTable)


async def test_preview_search_escape_focuses_table(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(101))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        await pilot.press("slash", "x")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert isinstance(app.focused, FastTable)


async def test_approved_run_detail_drops_held(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(50))
    async with app.run_test(size=(80, 24)) as pilot:
        await preview(app, pilot, path)
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await app.push_screen(RunsScreen(community_slug="lc"))
        await settle(pilot)
        reason = app.screen.query_one("#reason", Static)
        assert "Held:" in str(reason.render())
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Held:" not in str(reason.render())


async def test_apply_texts_are_plain(
    app: PenjiApp, students_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = student_rows(98) + student_rows(3, start=100)
    rows[0] = rows[0].replace("First0", "Renamed")
    path = write_students(tmp_path, rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await preview(app, pilot, path)
        await pilot.press("a")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "[green]" not in modal.body
        assert "3 added, 1 changed, 2 removed, 97 unchanged" in modal.body
        await pilot.press("y")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    assert any(
        m.endswith("applied: 3 added, 1 changed, 2 removed, 97 unchanged")
        for m in messages
    )


async def test_rejected_header_singular_error(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, ["not-an-email,A,B,,"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        summary = str(screen.query_one("#summary", Static).render())
    assert "Rejected: 1 error." in summary


async def test_problem_detail_shows_full_message(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, ["not-an-email,A,B,,"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preview(app, pilot, path)
        message = screen.preview.parsed.errors.items[0].message
        detail = str(screen.query_one("#problem-detail", Static).render())
    assert detail.startswith("error at line 2")
    assert detail.endswith(message)


def test_tree_root_follows_typed_path(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    assert tree_root(f"{folder}/") == folder
    assert tree_root(str(folder / "students.csv")) == folder
    assert tree_root(str(folder / "gone" / "deeper" / "x.csv")) == folder
    assert tree_root("") == Path.home()


async def test_file_tree_goes_up(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(ImportScreen(community_slug="lc", path=f"{folder}/"))
        # The tree's loader worker runs until the tree is removed, so this
        # test pauses instead of waiting for every worker.
        await pilot.press("ctrl+t")
        await pilot.pause()
        tree = app.screen.query_one("#tree", DirectoryTree)
        assert Path(tree.path) == folder
        await pilot.press("backspace")
        await pilot.pause()
        assert Path(tree.path) == tmp_path


async def test_preview_stages_fill_the_bar(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ImportScreen(community_slug="lc", path=str(tmp_path / "s.csv"))
        await app.push_screen(screen)
        screen.set_busy("Reading s.csv and computing the diff...")
        screen.preview_cancelled = threading.Event()
        bar = screen.query_one("#progress", ProgressBar)
        stage = screen.query_one("#stage", Static)

        screen.report_stage(service.STAGE_READ, 0.4)
        await settle(pilot)
        assert bar.total == 100
        assert bar.progress == 40
        assert "Reading the file: 40%" in str(stage.render())

        screen.report_stage(service.STAGE_COMPARE, None)
        await settle(pilot)
        assert bar.total is None
        assert "Comparing with the stored rows" in str(stage.render())

        # Stages that arrive after the preview ended change nothing.
        screen.preview_cancelled = None
        screen.set_busy(None)
        screen.report_stage(service.STAGE_READ, 0.9)
        await settle(pilot)
        assert bar.total is None
        assert not bar.display


async def test_preview_key_ignored_while_one_runs(
    app: PenjiApp, school_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_students(tmp_path, student_rows(3))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = ImportScreen(community_slug="lc", path=str(path))
        await app.push_screen(screen)
        # A preview is running: a second Ctrl+O must not read the file again.
        screen.preview_cancelled = threading.Event()
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen is screen
    assert statuses(school_factory) == []
