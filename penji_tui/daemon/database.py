"""Opening the database for the daemon, which must start even while it is down.

A kiosk box reads swipes into its local queue whether or not the database is
reachable, so the daemon opens the database lazily: each worker asks for it
when it needs it, and the nightly sync waits with backoff until it opens.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.db import DatabaseError, open_database
from backend.sync.timing import Clock
from penji_tui.daemon.config import DaemonConfig
from penji_tui.daemon.nightly import NightlySync

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0


class LazyDatabase:
    """Opens and migrates the database on first use, then returns the same factory.

    Safe to call from several worker threads. A failed open raises
    ``DatabaseError`` and is tried again on the next call.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._factory: sessionmaker[Session] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> sessionmaker[Session]:
        with self._lock:
            if self._factory is None:
                self._factory = open_database(self.url)
            return self._factory


class SyncWhenReachable:
    """Worker that waits until the database opens, then runs the nightly sync."""

    name = "nightly-sync"

    def __init__(
        self,
        open_factory: LazyDatabase,
        config: DaemonConfig,
        clock: Clock | None = None,
    ) -> None:
        self.open_factory = open_factory
        self.config = config
        self.clock = clock

    def run(self, stop: threading.Event) -> None:
        delay = FIRST_RETRY_SECONDS
        while not stop.is_set():
            try:
                factory = self.open_factory()
            except (DatabaseError, OperationalError) as error:
                log.warning(
                    "database not reachable, nightly sync retries in %.0f s: %s",
                    delay,
                    error,
                )
                stop.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            log.info("database opened; nightly sync scheduled")
            NightlySync(factory, self.config, self.clock).run(stop)
            return
