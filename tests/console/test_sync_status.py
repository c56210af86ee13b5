"""The sync status screen: next run, last runs and each run's files."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from textual.app import App
from textual.widgets import DataTable, Static

from backend.db import transaction
from backend.models import SyncRun
from backend.services import schools
from backend.sync import state
from penji_tui.app import PenjiApp
from screens.community import CommunityScreen
from screens.sync_status import SyncStatusScreen
from tests.helpers import make_community


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _add_runs(factory: sessionmaker[Session]) -> None:
    make_community(factory, "wc", "uni")
    with transaction(factory) as session:
        for slug, status in (("lc", "ok"), ("wc", "failed"), ("lc", "partial")):
            community = schools.get_community(session, slug)
            session.add(
                SyncRun(
                    community_id=community.id,
                    trigger="schedule",
                    holder="box:1",
                    status=status,
                    started_at=datetime(2026, 12, 4, tzinfo=UTC),
                    duration_seconds=2.5,
                    files_seen=1,
                    held=1 if status == "partial" else 0,
                    files=[
                        {
                            "name": "students.csv",
                            "kind": "students",
                            "action": "held",
                            "reason": "would remove 50 of 100 students",
                            "run_id": 7,
                            "sha256": None,
                        }
                    ],
                    errors=["cannot connect"] if status == "failed" else [],
                )
            )
        state.save_schedule(
            session,
            covered=datetime(2026, 12, 4, tzinfo=UTC),
            next_run_at=datetime(2026, 12, 5, tzinfo=UTC),
            time_of_day="00:00",
            time_zone="UTC",
            holder="box:1",
        )


class StatusApp(App[None]):
    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__()
        self.factory = factory

    def on_mount(self) -> None:
        self.push_screen(SyncStatusScreen(self.factory))


async def test_status_lists_all_runs(school_factory: sessionmaker[Session]) -> None:
    _add_runs(school_factory)
    app = StatusApp(school_factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        assert screen.query_one("#sync-runs", DataTable).row_count == 3
        schedule = str(screen.query_one("#schedule", Static).render())
        assert "2026-12-05 00:00 UTC" in schedule
        detail = str(screen.query_one("#detail", Static).render())
        assert "students.csv: held" in detail


async def test_status_from_community_screen(app: PenjiApp) -> None:
    _add_runs(app.factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CommunityScreen)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        assert screen.query_one("#sync-runs", DataTable).row_count == 2
        await pilot.press("a")
        await settle(pilot)
        assert screen.query_one("#sync-runs", DataTable).row_count == 3
        await pilot.press("escape")
        assert isinstance(app.screen, CommunityScreen)


async def test_status_without_daemon(school_factory: sessionmaker[Session]) -> None:
    app = StatusApp(school_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        schedule = str(app.screen.query_one("#schedule", Static).render())
        assert "no daemon has started yet" in schedule
