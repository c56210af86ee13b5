"""The kiosk screen driven by the pilot, as a keyboard-mode reader types."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.widgets import Static

from backend.cards import service
from backend.db import open_database, transaction
from backend.models import CardSwipe, DropInCheckIn
from backend.services import schools
from screens.kiosk import IDLE_TITLE, KioskApp
from tests.cards.helpers import card_community
from tests.conftest import new_postgres_database
from tests.services.postgres import PostgresServer

ADA = "%B1^LOVELACE/ADA^?;000123=25?"
WAIT_SECONDS = 20


def shown(app: KioskApp) -> tuple[str, str]:
    screen = app.screen
    title = str(screen.query_one("#title", Static).render())
    detail = str(screen.query_one("#detail", Static).render())
    return title, detail


async def swipe_keys(pilot: Pilot[None], data: str) -> None:
    await pilot.press(*data, "enter")


async def wait_for_title(pilot: Pilot[None], app: KioskApp, title: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while shown(app)[0] != title:
        if time.monotonic() > deadline:
            raise AssertionError(f"kiosk shows {shown(app)}, not {title!r}")
        await pilot.pause(0.05)


async def wait_for_swipes(
    pilot: Pilot[None], factory: sessionmaker[Session], count: int
) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with factory() as session:
            if len(session.scalars(select(CardSwipe.id)).all()) >= count:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} swipes recorded")
        await pilot.pause(0.05)


def kiosk(factory: sessionmaker[Session], tmp_path: Path) -> KioskApp:
    card_community(factory)
    return KioskApp(factory, "lc", tmp_path / "queue.sqlite3")


async def test_kiosk_checks_in_and_out(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = kiosk(sqlite_factory, tmp_path)
    with transaction(sqlite_factory) as session:
        community = schools.get_community(session, "lc")
        service.save_settings(session, community, repeat_seconds=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_title(pilot, app, IDLE_TITLE)
        app.screen.reset_seconds = 60
        await swipe_keys(pilot, ADA)
        await wait_for_title(pilot, app, "Checked in")
        assert shown(app)[1] == "Welcome, Ada!"
        assert app.screen.query_one("#answer").has_class("-in")

        await swipe_keys(pilot, ADA)
        await wait_for_title(pilot, app, "Checked out")
        assert shown(app)[1] == "Goodbye, Ada!"
        assert app.screen.query_one("#answer").has_class("-out")


async def test_kiosk_ignores_double_swipe(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = kiosk(sqlite_factory, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.reset_seconds = 60
        await swipe_keys(pilot, ADA)
        await wait_for_title(pilot, app, "Checked in")
        await swipe_keys(pilot, ADA)
        await wait_for_swipes(pilot, sqlite_factory, 2)
        assert shown(app)[0] == "Checked in"
    with sqlite_factory() as session:
        visit = session.scalars(select(DropInCheckIn)).one()
    assert visit.checked_out_at is None


async def test_kiosk_unknown_card(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = kiosk(sqlite_factory, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await swipe_keys(pilot, ";999999=25?")
        await wait_for_title(pilot, app, "Card not recognised")
        assert app.screen.query_one("#answer").has_class("-unknown")
    with sqlite_factory() as session:
        visit = session.scalars(select(DropInCheckIn)).one()
    assert visit.student_row_id is None


async def test_kiosk_failed_read(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = kiosk(sqlite_factory, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await swipe_keys(pilot, "%E?;E?")
        await wait_for_title(pilot, app, "Card not read")
        assert app.screen.query_one("#answer").has_class("-failed")


async def test_kiosk_resets(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = kiosk(sqlite_factory, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.reset_seconds = 0.1
        await swipe_keys(pilot, ADA)
        await wait_for_title(pilot, app, "Checked in")
        await wait_for_title(pilot, app, IDLE_TITLE)


@pytest.mark.postgres
async def test_kiosk_saves_swipe_while_database_down(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    factory = open_database(new_postgres_database(postgres_server))
    app = kiosk(factory, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.reset_seconds = 60
        await wait_for_title(pilot, app, IDLE_TITLE)
        postgres_server.stop_server()
        try:
            await swipe_keys(pilot, ADA)
            await wait_for_title(pilot, app, "Swipe saved")
        finally:
            postgres_server.start_server()
        await wait_for_swipes(pilot, factory, 1)
    with factory() as session:
        visit = session.scalars(select(DropInCheckIn)).one()
    assert visit.first_name == "Ada"
    factory.kw["bind"].dispose()


async def test_kiosk_unknown_community(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    card_community(sqlite_factory)
    app = KioskApp(sqlite_factory, "nope", tmp_path / "queue.sqlite3")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_title(pilot, app, "Kiosk not ready")
        assert "community 'nope' not found" in shown(app)[1]


async def test_kiosk_enter_per_track(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = kiosk(sqlite_factory, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.reset_seconds = 60
        await pilot.press(*"%B1^LOVELACE/ADA^?", "enter", *";000123=25?", "enter")
        await wait_for_title(pilot, app, "Checked in")
        await wait_for_swipes(pilot, sqlite_factory, 1)
    with sqlite_factory() as session:
        outcomes = session.scalars(select(CardSwipe.outcome)).all()
    assert outcomes == ["checked_in"]
