"""The nightly worker: catch-up after downtime, with a clock the test controls."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models import SyncRun
from backend.sync import state
from backend.sync.timing import DailySlot
from penji_tui.daemon.config import parse_config
from penji_tui.daemon.nightly import NightlySync
from tests.daemon.conftest import SettingsFactory
from tests.helpers import make_community


@dataclass
class FakeClock:
    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _worker(factory: sessionmaker[Session], settings, clock: FakeClock) -> NightlySync:
    config = replace(
        parse_config({}, None), sync=settings, slot=DailySlot.parse("00:00", "UTC")
    )
    return NightlySync(factory, config, clock)


def _runs(factory: sessionmaker[Session]) -> list[SyncRun]:
    with factory() as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def test_catch_up_after_downtime(
    sqlite_factory: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))

    _worker(sqlite_factory, settings, clock).catch_up()
    runs_after_first_start = _runs(sqlite_factory)
    clock.advance(days=2)
    _worker(sqlite_factory, settings, clock).catch_up()
    clock.advance(minutes=30)
    _worker(sqlite_factory, settings, clock).catch_up()

    assert runs_after_first_start == []
    runs = _runs(sqlite_factory)
    assert [(r.trigger, r.scheduled_for) for r in runs] == [
        ("catch_up", datetime(2026, 12, 3, tzinfo=UTC))
    ]
    with sqlite_factory() as session:
        assert state.covered_until(session) == datetime(2026, 12, 3, tzinfo=UTC)


def test_catch_up_off_skips_missed_run(
    sqlite_factory: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    worker = _worker(sqlite_factory, make_settings("lc"), clock)
    worker.config = replace(worker.config, catch_up=False)

    worker.catch_up()
    clock.advance(days=1)
    worker.catch_up()

    assert _runs(sqlite_factory) == []
    with sqlite_factory() as session:
        assert state.covered_until(session) == datetime(2026, 12, 2, tzinfo=UTC)


def test_due_slot_runs_once(
    sqlite_factory: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    clock = FakeClock(datetime(2026, 12, 1, 23, 59, tzinfo=UTC))
    worker = _worker(sqlite_factory, make_settings("lc"), clock)
    worker.catch_up()

    clock.advance(minutes=1)
    worker.on_due()
    worker.on_due()

    runs = _runs(sqlite_factory)
    assert [(r.trigger, r.scheduled_for) for r in runs] == [
        ("schedule", datetime(2026, 12, 2, tzinfo=UTC))
    ]


def test_next_run_stored_for_status(
    sqlite_factory: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    worker = _worker(sqlite_factory, make_settings(), clock)
    worker.catch_up()

    next_run = worker.arm()

    assert next_run == datetime(2026, 12, 2, tzinfo=UTC)
    with sqlite_factory() as session:
        row = state.get_schedule(session)
        assert row is not None
        assert row.next_run_at == next_run
    assert len(worker.scheduler.jobs) == 1


def test_schedule_job_in_box_local_time(
    box_zone: None,
    sqlite_factory: sessionmaker[Session],
    make_settings: SettingsFactory,
) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    worker = _worker(sqlite_factory, make_settings(), clock)

    worker.arm()

    [job] = worker.scheduler.jobs
    # 00:00 UTC in December is 13:00 in Auckland, the machine's zone here.
    assert job.at_time is not None
    assert job.at_time.strftime("%H:%M:%S") == "13:00:00"
