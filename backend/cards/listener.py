"""A serial card reader wired to the local queue and the database.

Each swipe read is appended to the durable queue first, then delivered by a
second thread, so reading never waits for the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from backend.cards.delivery import OutcomeHandler, SwipeDelivery
from backend.cards.queue import QueuedSwipe, SwipeQueue
from backend.cards.serial_reader import PortSettings, SerialCardReader
from backend.cards.service import SwipeEvent, SwipeOutcome

log = logging.getLogger(__name__)


def _log_outcome(entry: QueuedSwipe, outcome: SwipeOutcome) -> None:
    if outcome.outcome in ("failed_read", "no_id"):
        log.warning(
            "swipe %s on %s gave no ID: %s",
            entry.event.swipe_uuid,
            entry.event.reader,
            outcome.reason,
        )


class CardListener:
    """Reads one port for one community until stopped; see ``run``.

    It has the ``name`` and ``run(stop)`` of a daemon worker.
    """

    def __init__(
        self,
        community_slug: str,
        settings: PortSettings,
        queue_path: Path,
        open_factory: Callable[[], sessionmaker[Session]],
        on_outcome: OutcomeHandler | None = None,
        name: str | None = None,
    ) -> None:
        self.name = f"card-reader-{name or community_slug}"
        self.community_slug = community_slug
        self.queue = SwipeQueue(queue_path)
        # NOTE: framing uses the port settings only. A layout's suffixes and
        # one-line-per-swipe barcodes still end a swipe, after the silence.
        self.reader = SerialCardReader(settings, self._queue_swipe)
        self.delivery = SwipeDelivery(
            self.queue, open_factory, on_outcome or _log_outcome
        )

    def _queue_swipe(self, data: str, read_at: datetime) -> None:
        event = SwipeEvent.new(
            self.community_slug, f"serial:{self.reader.settings.port}", data, read_at
        )
        seq = self.queue.append(event)
        log.info("swipe %s queued as %d", event.swipe_uuid, seq)
        self.delivery.wake()

    def run(self, stop_event: threading.Event) -> None:
        """Read and deliver swipes until ``stop_event`` is set.

        Swipes left in the queue by an earlier run are delivered first.
        """
        delivery = threading.Thread(
            target=self.delivery.run,
            args=(stop_event,),
            name=f"card-delivery-{self.community_slug}",
            daemon=True,
        )
        delivery.start()
        try:
            self.reader.run(stop_event)
        finally:
            stop_event.set()
            self.delivery.wake()
            delivery.join(timeout=30)
            self.queue.close()
