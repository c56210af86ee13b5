"""Switching integrations, their options and community settings in the console."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import Checkbox, DataTable, Input

from backend.models import AuditEvent, Community, Course, IntegrationSetting
from penji_tui.app import PenjiApp
from screens.community import CommunityScreen
from screens.dialogs import ConfirmModal
from screens.forms import OptionsModal, SettingsModal
from tests.console.pilot import settle
from tests.helpers import csv_bytes, make_community, run_import


def setting(factory: sessionmaker[Session], kind: str) -> IntegrationSetting:
    with factory() as session:
        return session.scalars(
            select(IntegrationSetting).where(IntegrationSetting.kind == kind)
        ).one()


def audit_actions(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent.action)))


async def open_community(app: PenjiApp, pilot: object, row: int) -> CommunityScreen:
    await settle(pilot)  # type: ignore[arg-type]
    screen = CommunityScreen(community_slug="lc")
    await app.push_screen(screen)
    await settle(pilot)  # type: ignore[arg-type]
    screen.query_one("#integrations", DataTable).move_cursor(row=row)
    return screen


async def test_toggle_card_readers_on(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=7)
        await pilot.press("space")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    assert setting(school_factory, "card_readers").enabled is True
    assert "integration.on" in audit_actions(school_factory)


async def test_toggle_declined_changes_nothing(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=0)
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
    assert setting(school_factory, "students").enabled is True


async def test_courses_on_lists_replaced_courses(
    sqlite_factory: sessionmaker[Session],
) -> None:
    make_community(sqlite_factory, integrations_on=())
    courses = csv_bytes(
        "Course Code,Course Name,Term", ["CHEM1301,Chemistry,2026FA", "BIOL110,Bio,"]
    )
    run_import(sqlite_factory, "courses", courses, source="custom")
    app = PenjiApp(sqlite_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=1)
        await pilot.press("space")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "CHEM1301" in modal.body
        assert "BIOL110" in modal.body
        await pilot.press("y")
        await settle(pilot)
    with sqlite_factory() as session:
        active = session.scalars(select(Course).where(Course.active.is_(True))).all()
    assert active == []
    assert setting(sqlite_factory, "courses").enabled is True


async def test_enrollment_lock_option_saved(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=2)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OptionsModal)
        app.screen.query_one("#opt-lock_to_enrolled", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
    options = setting(school_factory, "course_enrollment").options
    assert options["lock_to_enrolled"] is True
    assert "integration.options" in audit_actions(school_factory)


async def test_settings_change_saved(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=0)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, SettingsModal)
        app.screen.query_one("#provider_term", Input).value = "Coaches"
        app.screen.query_one("#remove_guard_percent", Input).value = "25"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with school_factory() as session:
        community = session.scalars(select(Community)).one()
    assert community.provider_term == "Coaches"
    assert community.remove_guard_percent == 25.0


async def test_invalid_setting_shows_message(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=0)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#change_guard_percent", Input).value = "150"
        await pilot.press("ctrl+s")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    assert any("from 0 to 100" in m for m in messages)


async def test_copy_gives_community_link(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(app, pilot, row=0)
        await pilot.press("y")
        await settle(pilot)
        first = app.clipboard
        await pilot.press("y")
        await settle(pilot)
        second = app.clipboard
    assert first.startswith("https://web.penjiapp.com/c/")
    assert second == first
    assert "link.create" in audit_actions(school_factory)
