"""Delivering queued swipes to the database, in order, retrying while it is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from backend.cards.queue import QueuedSwipe, SwipeQueue
from backend.cards.service import SwipeOutcome, record_swipe
from backend.db import DatabaseError
from backend.errors import PenjiError
from backend.models import utcnow

log = logging.getLogger(__name__)

# Errors that mean the database cannot be reached now; the swipe waits.
UNREACHABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    DatabaseError,
)
INITIAL_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0

OutcomeHandler = Callable[[QueuedSwipe, SwipeOutcome], None]


class SwipeDelivery:
    """Moves swipes from the local queue to the database, oldest first.

    ``open_factory`` opens the database; it is called again after a failure,
    so the process may start while the database is down. A swipe that can never
    be recorded (a PenjiError, such as an unknown community) is set aside in
    the queue and logged. Every other failure stops delivery, which retries
    with backoff, so the order is kept.
    """

    def __init__(
        self,
        queue: SwipeQueue,
        open_factory: Callable[[], sessionmaker[Session]],
        on_outcome: OutcomeHandler | None = None,
        initial_retry: float = INITIAL_RETRY_SECONDS,
        max_retry: float = MAX_RETRY_SECONDS,
    ) -> None:
        self.queue = queue
        self.open_factory = open_factory
        self.on_outcome = on_outcome
        self.initial_retry = initial_retry
        self.max_retry = max_retry
        self._factory: sessionmaker[Session] | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()

    def wake(self) -> None:
        """Ask the delivery loop to run now, after a new swipe was queued."""
        self._wake.set()

    def _deliver(self, entry: QueuedSwipe) -> SwipeOutcome:
        if self._factory is None:
            self._factory = self.open_factory()
        try:
            return record_swipe(self._factory, entry.event)
        except sa_exc.IntegrityError:
            # Another writer recorded the same swipe UUID first; the retry
            # finds it and returns its outcome.
            return record_swipe(self._factory, entry.event)

    def deliver_pending(self) -> bool:
        """Deliver queued swipes until the queue is empty or one fails.

        Returns True when the queue was emptied.
        """
        with self._lock:
            while True:
                batch = self.queue.pending()
                if not batch:
                    return True
                for entry in batch:
                    if not self._deliver_one(entry):
                        return False

    def _deliver_one(self, entry: QueuedSwipe) -> bool:
        try:
            outcome = self._deliver(entry)
        except UNREACHABLE as error:
            self.queue.note_failure(entry.seq, str(error))
            log.warning(
                "database unreachable; swipe %s stays queued (%d waiting): %s",
                entry.event.swipe_uuid,
                self.queue.count(),
                _first_line(error),
            )
            return False
        except PenjiError as error:
            self.queue.reject(entry.seq, str(error), utcnow())
            log.error(
                "swipe %s for %s set aside in the queue, it cannot be recorded: %s",
                entry.event.swipe_uuid,
                entry.event.community_slug,
                error,
            )
            return True
        except Exception as error:
            self.queue.note_failure(entry.seq, repr(error))
            log.exception(
                "unexpected failure recording swipe %s; it stays queued",
                entry.event.swipe_uuid,
            )
            return False
        self.queue.remove(entry.seq)
        if self.on_outcome is not None:
            self.on_outcome(entry, outcome)
        return True

    def run(self, stop_event: threading.Event) -> None:
        """Deliver swipes as they are queued until ``stop_event`` is set."""
        log.info("swipe delivery started from %s", self.queue.path)
        delay = self.initial_retry
        while not stop_event.is_set():
            self._wake.clear()
            if self.deliver_pending():
                delay = self.initial_retry
                self._wait(stop_event, None)
                continue
            log.info("retrying swipe delivery in %.1f s", delay)
            self._wait(stop_event, delay)
            delay = min(delay * 2, self.max_retry)
        log.info(
            "swipe delivery stopped; %d swipe(s) wait in the queue", self.queue.count()
        )

    def _wait(self, stop_event: threading.Event, timeout: float | None) -> None:
        """Sleep until woken, stopped or ``timeout`` passes."""
        step = 0.1
        waited = 0.0
        while not stop_event.is_set() and not self._wake.is_set():
            if timeout is not None and waited >= timeout:
                return
            self._wake.wait(step)
            waited += step


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
