"""The nightly worker when the clock jumps forward across midnight and back.

The worker reads time from a clock the test sets, so each jump is exact.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models import SyncRun
from backend.sync import state
from tests.daemon.conftest import SettingsFactory
from tests.daemon.test_nightly import FakeClock, _worker
from tests.helpers import make_community


def _slots(factory: sessionmaker[Session]) -> list[datetime]:
    with factory() as session:
        return list(session.scalars(select(SyncRun.scheduled_for).order_by(SyncRun.id)))


def test_jump_forward_then_back(
    sqlite_factory: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    clock = FakeClock(datetime(2026, 12, 1, 23, 50, tzinfo=UTC))
    worker = _worker(sqlite_factory, make_settings("lc"), clock)
    worker.catch_up()

    clock.current = datetime(2026, 12, 3, 0, 10, tzinfo=UTC)
    worker.on_due()
    after_forward = _slots(sqlite_factory)
    clock.current = datetime(2026, 12, 2, 23, 55, tzinfo=UTC)
    worker.on_due()
    next_after_back = worker.arm()
    clock.current = datetime(2026, 12, 3, 0, 5, tzinfo=UTC)
    worker.on_due()
    after_back = _slots(sqlite_factory)
    clock.current = datetime(2026, 12, 4, 0, 1, tzinfo=UTC)
    worker.on_due()

    assert after_forward == [datetime(2026, 12, 3, tzinfo=UTC)]
    assert after_back == after_forward
    assert next_after_back == datetime(2026, 12, 3, tzinfo=UTC)
    assert _slots(sqlite_factory) == [
        datetime(2026, 12, 3, tzinfo=UTC),
        datetime(2026, 12, 4, tzinfo=UTC),
    ]
    with sqlite_factory() as session:
        assert state.covered_until(session) == datetime(2026, 12, 4, tzinfo=UTC)


def test_restart_after_jump_back_runs_nothing(
    sqlite_factory: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    clock = FakeClock(datetime(2026, 12, 1, 23, 50, tzinfo=UTC))
    _worker(sqlite_factory, settings, clock).catch_up()
    clock.current = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
    _worker(sqlite_factory, settings, clock).catch_up()

    clock.current = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    _worker(sqlite_factory, settings, clock).catch_up()

    assert _slots(sqlite_factory) == [datetime(2026, 12, 2, tzinfo=UTC)]
    with sqlite_factory() as session:
        assert state.covered_until(session) == datetime(2026, 12, 2, tzinfo=UTC)
