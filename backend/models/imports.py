"""Import runs, the audit log and leases that keep two writers apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow

RUN_STATUSES = ("previewed", "held", "applied", "rejected", "rolled_back")


class ImportRun(Base):
    """One CSV import: its file, diff counts, status and the state it replaced.

    ``file_data`` is the zlib-compressed file, kept so that a held or previewed run
    can be applied later. ``before_state`` is the zlib-compressed JSON of every row
    the run added, changed or removed, as it was before; rollback restores it.

    The newest applied run of a scope keeps its file too, with ``baseline``
    describing the stored rows it left (backend/imports/baseline.py), so that
    the next preview reads only the lines that differ from it.
    """

    __tablename__ = "import_runs"
    __table_args__ = (
        Index("ix_import_runs_scope", "community_id", "kind", "source", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    os_user: Mapped[str] = mapped_column(String(100))
    ssh_client: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Deferred: lists of runs read neither, and each can be megabytes.
    file_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    before_state: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    baseline: Mapped[dict[str, Any] | None]


class AuditEvent(Base):
    """One change made through the console, the command line or the daemon."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_scope", "school_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    os_user: Mapped[str] = mapped_column(String(100))
    ssh_client: Mapped[str | None] = mapped_column(String(64))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    action: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Lease(Base):
    """A named lock that expires, so that a crashed holder cannot block forever."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
