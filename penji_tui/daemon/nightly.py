"""The nightly sync worker: runs the sync once a day and catches up a missed run.

The schedule library wakes the worker. The slot itself (time of day in a named
zone, whatever the machine's zone) and the decision whether a slot is due come
from backend.sync.timing and the stored schedule state, with a clock that tests
control.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import schedule
from sqlalchemy.orm import Session, sessionmaker

from backend import leases
from backend.db import transaction
from backend.sync import state
from backend.sync.run import RunRequest, sync_all
from backend.sync.timing import Clock, SystemClock, box_local_time_of_day
from penji_tui.daemon.config import DaemonConfig

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 60.0


class NightlySync:
    """Worker that runs the sync of every configured community once a night."""

    name = "nightly-sync"

    def __init__(
        self,
        factory: sessionmaker[Session],
        config: DaemonConfig,
        clock: Clock | None = None,
    ) -> None:
        self.factory = factory
        self.config = config
        self.clock = clock or SystemClock()
        self.scheduler = schedule.Scheduler()
        self.stop = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.stop = stop
        self.catch_up()
        self.arm()
        while not stop.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            wait = (
                MAX_SLEEP_SECONDS
                if idle is None
                else min(max(idle, 0.0), MAX_SLEEP_SECONDS)
            )
            stop.wait(wait)

    def _save(self, covered: datetime | None) -> None:
        next_run = self.config.slot.next_after(self.clock.now())
        with transaction(self.factory) as session:
            state.save_schedule(
                session,
                covered=covered,
                next_run_at=next_run,
                time_of_day=f"{self.config.slot.time_of_day:%H:%M}",
                time_zone=self.config.slot.zone.key,
                holder=leases.this_holder(),
            )

    def catch_up(self) -> None:
        """Run the newest missed slot once, if one passed while the daemon was down.

        On the very first start nothing counts as missed: the daemon covers from
        that moment on.
        """
        now = self.clock.now()
        with self.factory() as session:
            covered = state.covered_until(session)
        if covered is None:
            log.info("first start: nightly runs count from %s", now.isoformat())
            self._save(now)
            return
        due = self.config.slot.latest_due(now)
        if due <= covered:
            return
        if not self.config.catch_up:
            log.warning("missed the run of %s; catch_up is off", due.isoformat())
            self._save(due)
            return
        log.info("catching up the missed run of %s", due.isoformat())
        self.run_slot(due, "catch_up")

    def run_slot(self, slot: datetime, trigger: str) -> None:
        """Sync every community for ``slot``; mark it covered unless stopped."""
        request = RunRequest(trigger, slot, self.stop, self.clock)
        sync_all(self.factory, self.config.sync, request)
        self._save(None if self.stop.is_set() else slot)

    def on_due(self) -> type[schedule.CancelJob]:
        """Run the slot that is due now, then arm the next one."""
        now = self.clock.now()
        due = self.config.slot.latest_due(now)
        with self.factory() as session:
            covered = state.covered_until(session)
        if covered is not None and due <= covered:
            log.info(
                "woke at %s but the run of %s is done", now.isoformat(), due.isoformat()
            )
        else:
            self.run_slot(due, "schedule")
        self.arm()
        return schedule.CancelJob

    def arm(self) -> datetime:
        """Register the next slot with the scheduler, in the machine's local time."""
        self.scheduler.clear()
        next_run = self.config.slot.next_after(self.clock.now())
        self.scheduler.every().day.at(box_local_time_of_day(next_run)).do(self.on_due)
        self._save(None)
        log.info(
            "next nightly sync at %s (%s)",
            next_run.isoformat(),
            self.config.slot.describe(),
        )
        return next_run
