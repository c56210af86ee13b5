"""Records of the nightly SFTP sync: one row per community and run, and the schedule.

The daemon and ``penji-tui sync --now`` write these rows; ``penji-tui sync
status`` and the console's sync screen read them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow

SYNC_TRIGGERS = ("schedule", "catch_up", "manual")
SYNC_STATUSES = ("running", "ok", "partial", "failed", "stopped", "interrupted")


class SyncRun(Base):
    """One community's part of a sync run: what was seen, imported and exported.

    ``files`` lists one entry per inbound file with its name, kind, outcome and
    reason; ``errors`` lists the failures in words. ``scheduled_for`` is the
    nightly slot the run covers, or ``None`` for a run started by hand.
    """

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_community_run", "community_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    trigger: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[datetime | None]
    holder: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_seconds: Mapped[float | None]
    files_seen: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    files_left: Mapped[int] = mapped_column(default=0)
    exports_written: Mapped[int] = mapped_column(default=0)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)


class SyncSchedule(Base):
    """The nightly schedule state that the running daemon stores.

    ``covered_until`` is the newest nightly slot that has run, or the moment the
    daemon first started; a slot after it that is already due was missed and is
    caught up once. ``next_run_at`` is what the status command and console show.
    """

    __tablename__ = "sync_schedule"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    covered_until: Mapped[datetime]
    next_run_at: Mapped[datetime | None]
    time_of_day: Mapped[str] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
