"""A durable local queue of swipes, for when the database cannot be reached.

Every swipe is written here first and removed once the database has recorded
it, so none is lost if the database is down or the box loses power. The queue
is a small SQLite file in WAL mode with ``synchronous=FULL``: each append is
fsynced before ``append`` returns. Entries are delivered in the order they were
appended. Delivery is idempotent through the swipe's UUID, so an entry recorded
just before a crash and delivered again is recorded once.

NOTE: entries hold the raw swipe, which can include the name on track 1; the
file is created readable by its owner only and entries go once delivered.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from backend.cards.service import SwipeEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS swipes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    swipe_uuid TEXT NOT NULL UNIQUE,
    community_slug TEXT NOT NULL,
    reader TEXT NOT NULL,
    method TEXT NOT NULL,
    data TEXT NOT NULL,
    read_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    rejected_at TEXT
)
"""


@dataclass(frozen=True)
class QueuedSwipe:
    """A swipe waiting in the queue, with its position and delivery attempts."""

    seq: int
    event: SwipeEvent
    attempts: int
    last_error: str | None


class SwipeQueue:
    """The local swipe queue in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            descriptor = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(descriptor)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=15
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def append(self, event: SwipeEvent) -> int:
        """Store ``event`` durably and return its position in the queue."""
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO swipes (swipe_uuid, community_slug, reader, method, data,"
                " read_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    event.swipe_uuid,
                    event.community_slug,
                    event.reader,
                    event.method,
                    event.data,
                    event.read_at.isoformat(),
                ),
            )
            return int(cursor.lastrowid or 0)

    def pending(self, limit: int = 100) -> list[QueuedSwipe]:
        """Return the oldest undelivered swipes, oldest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT seq, swipe_uuid, community_slug, reader, method, data, read_at,"
                " attempts, last_error FROM swipes WHERE rejected_at IS NULL"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            QueuedSwipe(
                seq=row[0],
                event=SwipeEvent(
                    swipe_uuid=row[1],
                    community_slug=row[2],
                    reader=row[3],
                    data=row[5],
                    read_at=datetime.fromisoformat(row[6]),
                    method=row[4],
                ),
                attempts=row[7],
                last_error=row[8],
            )
            for row in rows
        ]

    def count(self) -> int:
        """Return how many swipes wait for delivery."""
        with self._lock:
            row = self._connection.execute(
                "SELECT count(*) FROM swipes WHERE rejected_at IS NULL"
            ).fetchone()
        return int(row[0])

    def rejected(self) -> list[tuple[int, str, str]]:
        """Return (seq, swipe UUID, error) of swipes the database rejected."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT seq, swipe_uuid, last_error FROM swipes"
                " WHERE rejected_at IS NOT NULL ORDER BY seq"
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def remove(self, seq: int) -> None:
        """Drop a delivered swipe."""
        with self._lock:
            self._connection.execute("DELETE FROM swipes WHERE seq = ?", (seq,))

    def note_failure(self, seq: int, error: str) -> None:
        """Count a failed delivery attempt; the swipe stays first in line."""
        with self._lock:
            self._connection.execute(
                "UPDATE swipes SET attempts = attempts + 1, last_error = ?"
                " WHERE seq = ?",
                (error[:1000], seq),
            )

    def reject(self, seq: int, error: str, now: datetime) -> None:
        """Set aside a swipe that can never be recorded, such as one for a
        community that no longer exists. It is kept for staff and not retried."""
        with self._lock:
            self._connection.execute(
                "UPDATE swipes SET rejected_at = ?, last_error = ? WHERE seq = ?",
                (now.isoformat(), error[:1000], seq),
            )
