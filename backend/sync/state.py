"""The nightly schedule state and the records of past runs, for status views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Community, SyncRun, SyncSchedule, utcnow

SCHEDULE_NAME = "nightly"


def get_schedule(session: Session) -> SyncSchedule | None:
    return session.get(SyncSchedule, SCHEDULE_NAME)


def covered_until(session: Session) -> datetime | None:
    row = get_schedule(session)
    return row.covered_until if row is not None else None


def save_schedule(
    session: Session,
    *,
    covered: datetime | None,
    next_run_at: datetime | None,
    time_of_day: str,
    time_zone: str,
    holder: str | None,
) -> SyncSchedule:
    """Store what the daemon covered and plans; ``covered=None`` keeps the old mark."""
    row = get_schedule(session)
    if row is None:
        row = SyncSchedule(
            name=SCHEDULE_NAME,
            covered_until=covered or utcnow(),
            time_of_day=time_of_day,
            time_zone=time_zone,
        )
        session.add(row)
    elif covered is not None:
        row.covered_until = covered
    row.next_run_at = next_run_at
    row.time_of_day = time_of_day
    row.time_zone = time_zone
    row.holder = holder
    row.updated_at = utcnow()
    return row


@dataclass(frozen=True)
class RunSummary:
    """One community's sync run as status views list it."""

    run: SyncRun
    community_slug: str
    school_slug: str


def recent_runs(
    session: Session, community_slug: str | None = None, limit: int = 20
) -> list[RunSummary]:
    """Return sync runs newest first, optionally of one community."""
    query = (
        select(SyncRun, Community)
        .join(Community, Community.id == SyncRun.community_id)
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    if community_slug is not None:
        query = query.where(Community.slug == community_slug)
    return [
        RunSummary(run, community.slug, community.school.slug)
        for run, community in session.execute(query)
    ]


@dataclass(frozen=True)
class RunRow:
    """A sync run as plain values, for views that outlive the session."""

    id: int
    community_slug: str
    school_slug: str
    trigger: str
    status: str
    started_at: datetime
    duration_seconds: float | None
    files_seen: int
    imported: int
    held: int
    rejected: int
    skipped: int
    files_left: int
    exports_written: int
    errors: tuple[str, ...]
    files: tuple[dict[str, object], ...]


@dataclass(frozen=True)
class StatusView:
    """The next scheduled run and the last runs, as the console shows them."""

    next_run_at: datetime | None
    schedule_text: str
    daemon: str | None
    daemon_seen_at: datetime | None
    runs: tuple[RunRow, ...]


def status_view(
    session: Session,
    community_slug: str | None = None,
    school_slug: str | None = None,
    limit: int = 50,
) -> StatusView:
    """Collect the schedule and the last runs, of one community, school or all."""
    query = (
        select(SyncRun, Community)
        .join(Community, Community.id == SyncRun.community_id)
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    if community_slug is not None:
        query = query.where(Community.slug == community_slug)
    rows = []
    for run, community in session.execute(query):
        if school_slug is not None and community.school.slug != school_slug:
            continue
        rows.append(
            RunRow(
                id=run.id,
                community_slug=community.slug,
                school_slug=community.school.slug,
                trigger=run.trigger,
                status=run.status,
                started_at=run.started_at,
                duration_seconds=run.duration_seconds,
                files_seen=run.files_seen,
                imported=run.imported,
                held=run.held,
                rejected=run.rejected,
                skipped=run.skipped,
                files_left=run.files_left,
                exports_written=run.exports_written,
                errors=tuple(run.errors or ()),
                files=tuple(run.files or ()),
            )
        )
    schedule = get_schedule(session)
    if schedule is None:
        return StatusView(None, "no daemon has started yet", None, None, tuple(rows))
    return StatusView(
        schedule.next_run_at,
        f"daily at {schedule.time_of_day} {schedule.time_zone}",
        schedule.holder,
        schedule.updated_at,
        tuple(rows),
    )
