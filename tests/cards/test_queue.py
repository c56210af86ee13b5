"""The local swipe queue and its delivery, without a serial port."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.cards.delivery import SwipeDelivery
from backend.cards.queue import SwipeQueue
from backend.cards.service import record_swipe
from backend.db import open_database
from backend.models import CardSwipe, DropInCheckIn
from tests.cards.helpers import card_community, swipe
from tests.services._process import pick_free_port


def test_queue_keeps_order_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    queue = SwipeQueue(path)
    events = [swipe(f";{n}=1?", seconds=n) for n in range(5)]
    for event in events:
        queue.append(event)
    queue.close()

    reopened = SwipeQueue(path)
    pending = reopened.pending()
    reopened.close()
    assert [entry.event for entry in pending] == events


def test_queue_file_private(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    SwipeQueue(path).close()
    assert path.stat().st_mode & 0o077 == 0


def test_delivery_after_crash_records_once(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    card_community(sqlite_factory)
    event = swipe(";456=1?")
    # The database committed the swipe, but the process died before the queue
    # entry was removed.
    record_swipe(sqlite_factory, event)
    queue = SwipeQueue(tmp_path / "queue.sqlite3")
    queue.append(event)

    assert SwipeDelivery(queue, lambda: sqlite_factory).deliver_pending()
    assert queue.count() == 0
    with sqlite_factory() as session:
        assert len(session.scalars(select(DropInCheckIn.id)).all()) == 1
        assert len(session.scalars(select(CardSwipe.id)).all()) == 1
    queue.close()


def test_unknown_community_set_aside(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    card_community(sqlite_factory)
    queue = SwipeQueue(tmp_path / "queue.sqlite3")
    ghost = swipe(";456=1?", slug="ghost")
    queue.append(ghost)
    queue.append(swipe(";456=1?"))

    assert SwipeDelivery(queue, lambda: sqlite_factory).deliver_pending()
    rejected = queue.rejected()
    assert [row[1] for row in rejected] == [ghost.swipe_uuid]
    assert "community 'ghost' not found" in rejected[0][2]
    assert queue.count() == 0
    with sqlite_factory() as session:
        assert len(session.scalars(select(DropInCheckIn.id)).all()) == 1
    queue.close()


def test_delivery_keeps_swipes_when_unreachable(tmp_path: Path) -> None:
    queue = SwipeQueue(tmp_path / "queue.sqlite3")
    queue.append(swipe(";456=1?"))
    # Nothing listens on this loopback port, so every connection is refused.
    url = f"postgresql+psycopg://postgres@127.0.0.1:{pick_free_port()}/penji"

    delivered = SwipeDelivery(queue, lambda: open_database(url)).deliver_pending()
    assert not delivered
    assert queue.count() == 1
    assert queue.pending()[0].attempts == 1
    queue.close()
