"""Searching students of both sources, a profile, and filtering the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import DataTable, Input, Static

from backend.services.students import search_students
from penji_tui.app import PenjiApp
from screens.audit import AuditScreen
from screens.students import ProfileScreen, StudentsScreen
from tests.console.pilot import settle
from tests.helpers import STUDENT_HEADER, csv_bytes, run_import, student_rows


def load_students(factory: sessionmaker[Session]) -> None:
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(30)))
    custom = student_rows(2, last_name="Custom", start=500)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, custom), source="custom")
    grades = csv_bytes(
        "Student ID,Course Code,Term,Grade", ["000003,CHEM1301,2026FA,B+"]
    )
    run_import(factory, "course_grades", grades)


def test_search_covers_both_sources(school_factory: sessionmaker[Session]) -> None:
    load_students(school_factory)
    with school_factory() as session:
        rows = search_students(session, community_slug="lc")
    assert {r.source for r in rows} == {"custom", "sftp"}
    assert len(rows) == 32


def test_search_needs_every_word(school_factory: sessionmaker[Session]) -> None:
    load_students(school_factory)
    with school_factory() as session:
        rows = search_students(session, community_slug="lc", text="first1 doe")
    assert sorted(r.first_name or "" for r in rows) == [
        "First1",
        *[f"First{i}" for i in range(10, 20)],
    ]


async def test_search_students_screen(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    load_students(school_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(StudentsScreen(community_slug="lc"))
        await settle(pilot)
        await pilot.press(*"custom")
        await settle(pilot)
        table = app.screen.query_one("#students", DataTable)
        assert table.row_count == 2
        assert table.get_row_at(0)[3] == "custom"


async def test_profile_shows_grades(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    load_students(school_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(StudentsScreen(community_slug="lc"))
        await settle(pilot)
        await pilot.press(*"s3@", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        text = str(app.screen.query_one("#profile", Static).render())
    assert "CHEM1301" in text
    assert "B+" in text


async def test_audit_filter_by_kind(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.push_screen(AuditScreen(community_slug="lc"))
        await settle(pilot)
        table = app.screen.query_one("#events", DataTable)
        everything = table.row_count
        app.screen.query_one("#kind", Input).value = "courses"
        await settle(pilot)
        kinds = {table.get_row_at(i)[3] for i in range(table.row_count)}
    assert everything > table.row_count
    assert kinds == {"courses"}


async def test_audit_filter_by_unknown_user(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.push_screen(AuditScreen())
        await settle(pilot)
        app.screen.query_one("#os_user", Input).value = "nobody-here"
        await settle(pilot)
        assert app.screen.query_one("#events", DataTable).row_count == 0


async def test_slash_in_empty_search_types_nothing(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(StudentsScreen(community_slug="lc"))
        await settle(pilot)
        search = app.screen.query_one("#search", Input)
        await pilot.press("slash")
        assert search.has_focus
        await pilot.press("slash")
        assert search.value == ""
        await pilot.press(*"a/b")
        assert search.value == "a/b"


async def test_escape_clears_search_first(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = StudentsScreen(community_slug="lc")
        await app.push_screen(screen)
        await settle(pilot)
        await pilot.press("slash", *"first")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#search", Input).value == ""
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen


async def test_inactive_students_hint_and_toggle(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    run_import(school_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(20)))
    run_import(school_factory, "students", csv_bytes(STUDENT_HEADER, student_rows(19)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(StudentsScreen(community_slug="lc"))
        await settle(pilot)
        table = app.screen.query_one("#students", DataTable)
        status = app.screen.query_one("#status", Static)
        assert table.row_count == 19
        assert "inactive students hidden" in str(status.render())
        app.screen.query_one("#students", DataTable).focus()
        await pilot.press("i")
        await settle(pilot)
        assert table.row_count == 20
        assert "hidden" not in str(status.render())
