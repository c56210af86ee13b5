"""Holding a previewed import for review, and what a rollback would restore."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import audit
from backend.db import transaction
from backend.errors import Conflict
from backend.formats.kinds import get_kind
from backend.imports.service import get_run, last_applied_id
from backend.models import Community, ImportRun
from backend.services.schools import get_community


def hold_run(
    factory: sessionmaker[Session], run_id: int, reason: str = ""
) -> ImportRun:
    """Hold a previewed run so that it can be approved or rejected later."""
    with transaction(factory) as session:
        run = get_run(session, run_id)
        if run.status != "previewed":
            raise Conflict(
                f"run {run_id} is {run.status}; only a previewed run can be held"
            )
        actor = audit.current_actor()
        run.status = "held"
        run.hold_reason = run.hold_reason or (
            reason or f"Held for review by {actor.os_user}."
        )
        audit.record(
            session,
            "import.hold",
            community=session.get(Community, run.community_id),
            kind=run.kind,
            actor=actor,
            run_id=run.id,
            file=run.file_name,
            reason=run.hold_reason,
            counts=run.counts,
        )
        return run


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling back an applied run would do, for staff to confirm.

    Counts are of rows. ``deleted`` counts rows the run added, which are
    deleted. ``restored`` counts rows it changed or removed, which get their
    old values back. ``deactivated`` counts rows it brought back and, for
    students and courses, rows it added. ``replaced`` counts rows of the other
    source that the run had replaced.
    ``newest`` is False when a later applied run must be rolled back first;
    ``newest_id`` is the run applied last of the same kind and source.
    """

    run_id: int
    kind: str
    file_name: str
    deleted: int
    restored: int
    deactivated: int
    replaced: int
    sample_keys: list[str]
    newest: bool
    newest_id: int | None = None


SAMPLE_SIZE = 8


def rollback_plan(session: Session, run_id: int) -> RollbackPlan:
    """Describe the rollback of an applied run without changing anything."""
    run = get_run(session, run_id)
    if run.status != "applied" or run.before_state is None:
        raise Conflict(
            f"run {run_id} is {run.status}; only an applied run can be rolled back"
        )
    before = json.loads(zlib.decompress(run.before_state))
    restored = [key for key, _values in (*before["changed"], *before["removed"])]
    newest_id = last_applied_id(session, run)
    return RollbackPlan(
        run_id=run.id,
        kind=run.kind,
        file_name=run.file_name,
        deleted=0 if get_kind(run.kind).soft_delete else len(before["added"]),
        restored=len(restored),
        deactivated=len(before["reactivated"])
        + (len(before["added"]) if get_kind(run.kind).soft_delete else 0),
        replaced=len(before["replaced"]),
        sample_keys=(restored + before["added"])[:SAMPLE_SIZE],
        newest=newest_id == run.id,
        newest_id=newest_id,
    )


@dataclass(frozen=True)
class RunSummary:
    """One import run as the imports list shows it, without its stored file."""

    id: int
    kind: str
    source: str
    file_name: str
    status: str
    counts: dict[str, int]
    hold_reason: str | None
    os_user: str
    created_at: datetime
    finished_at: datetime | None


def run_summaries(
    session: Session, community_slug: str, limit: int = 200
) -> list[RunSummary]:
    """Return a community's runs, newest first, at most ``limit``."""
    community = get_community(session, community_slug)
    columns = (
        ImportRun.id,
        ImportRun.kind,
        ImportRun.source,
        ImportRun.file_name,
        ImportRun.status,
        ImportRun.counts,
        ImportRun.hold_reason,
        ImportRun.os_user,
        ImportRun.created_at,
        ImportRun.finished_at,
    )
    query = (
        select(*columns)
        .where(ImportRun.community_id == community.id)
        .order_by(ImportRun.id.desc())
        .limit(limit)
    )
    return [RunSummary(*row) for row in session.execute(query)]
