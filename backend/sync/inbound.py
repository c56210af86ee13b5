"""Importing a community's inbound files through the import engine.

A file is imported only when its kind is switched on for the community, it has
stopped changing, and its SHA-256 differs from the last file applied or held.
It is archived locally right after download, and leaves inbound/ only after its
import committed, or was recorded as held or rejected.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import PenjiError
from backend.imports import service
from backend.models import Community, ImportRun
from backend.services.integrations import is_enabled
from backend.sync.archive import archive_file
from backend.sync.remote import (
    INBOUND,
    RemoteFile,
    RemoteFolder,
    has_control_characters,
)
from backend.sync.settings import SyncSettings

log = logging.getLogger(__name__)

# File names IT drops, in the order they are imported: courses and students
# before the kinds that refer to them.
INBOUND_KINDS = {
    "students.csv": "students",
    "courses.csv": "courses",
    "course_enrollment.csv": "course_enrollment",
    "student_metadata.csv": "student_metadata",
    "course_grades.csv": "course_grades",
}
IN_PROGRESS_SUFFIXES = (".part", ".tmp")


@dataclass
class FileOutcome:
    """The outcome of one inbound file in this run."""

    name: str
    action: str
    kind: str | None = None
    reason: str = ""
    run_id: int | None = None
    sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "action": self.action,
            "reason": self.reason,
            "run_id": self.run_id,
            "sha256": self.sha256,
        }


@dataclass
class InboundContext:
    """The community, settings and stop signal of the inbound step."""

    factory: sessionmaker[Session]
    settings: SyncSettings
    community_id: int
    slug: str
    label: str
    stop: threading.Event
    started_at: datetime
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)

    def note(self, outcome: FileOutcome) -> None:
        self.outcomes[outcome.name] = outcome
        level = logging.WARNING if outcome.action == "error" else logging.INFO
        # The name is shown with repr() only when it contains control characters,
        # so a file name cannot forge a log line.
        name = outcome.name
        if has_control_characters(name):
            name = repr(name)
        log.log(
            level,
            "%s: %s %s%s",
            self.label,
            name,
            outcome.action,
            f" ({outcome.reason})" if outcome.reason else "",
        )


def _enabled_kinds(ctx: InboundContext) -> set[str]:
    with ctx.factory() as session:
        community = session.get(Community, ctx.community_id)
        assert community is not None
        return {
            kind
            for kind in INBOUND_KINDS.values()
            if is_enabled(session, community, kind)
        }


def _candidates(ctx: InboundContext, listing: dict[str, RemoteFile]) -> list[str]:
    """Note the files left alone, and return the importable names in import order."""
    enabled = _enabled_kinds(ctx)
    for name in sorted(listing):
        kind = INBOUND_KINDS.get(name)
        if name.endswith(IN_PROGRESS_SUFFIXES):
            ctx.note(FileOutcome(name, "left", None, "still being uploaded"))
        elif kind is None:
            ctx.note(FileOutcome(name, "left", None, "not an import file name"))
        elif kind not in enabled:
            ctx.note(
                FileOutcome(
                    name,
                    "left",
                    kind,
                    f"the {kind} integration is off for this community",
                )
            )
    return [
        name
        for name in INBOUND_KINDS
        if name in listing and INBOUND_KINDS[name] in enabled
    ]


def _last_sha(session: Session, community_id: int, kind: str) -> tuple[str, int] | None:
    run = session.scalars(
        select(ImportRun)
        .where(
            ImportRun.community_id == community_id,
            ImportRun.kind == kind,
            ImportRun.source == "sftp",
            ImportRun.status.in_(("applied", "held")),
        )
        .order_by(ImportRun.id.desc())
        .limit(1)
    ).first()
    return (run.sha256, run.id) if run is not None else None


def process_inbound(ctx: InboundContext, folder: RemoteFolder) -> None:
    """Import every ready inbound file, looking twice to skip files still growing."""
    first = folder.list_files(INBOUND)
    names = _candidates(ctx, first)
    if not names:
        return
    if ctx.stop.wait(ctx.settings.settle_seconds):
        return
    second = folder.list_files(INBOUND)
    for name in names:
        if ctx.stop.is_set():
            return
        seen = second.get(name)
        if seen is None:
            continue
        if seen != first[name]:
            kind = INBOUND_KINDS[name]
            ctx.note(
                FileOutcome(
                    name, "left", kind, "still being written: size or time changed"
                )
            )
            continue
        _process_file(ctx, folder, seen)


def _process_file(ctx: InboundContext, folder: RemoteFolder, seen: RemoteFile) -> None:
    name, kind = seen.name, INBOUND_KINDS[seen.name]
    data = folder.read(INBOUND, name)
    # SFTP gives whole-second times. A write after the second listing comes at
    # least settle_seconds after the time that listing saw, so with one second
    # or more it always changes the time looked at here. NOTE: with less, a
    # rewrite in place within that same second could still go unseen.
    if folder.look(INBOUND, name) != seen:
        ctx.note(
            FileOutcome(
                name, "left", kind, "still being written: changed during download"
            )
        )
        return
    if len(data) != seen.size:
        # The file is as listed, so the transfer itself fell short: a failure
        # the run retries, never a file taken for one still being written.
        raise EOFError(
            f"download of {name} ended after {len(data):,} of {seen.size:,} bytes"
        )
    sha256 = hashlib.sha256(data).hexdigest()
    archive_file(ctx.settings.archive_dir, ctx.slug, name, data, sha256, ctx.started_at)

    with ctx.factory() as session:
        previous = _last_sha(session, ctx.community_id, kind)
    if previous is not None and previous[0] == sha256:
        outcome = FileOutcome(
            name,
            "skipped",
            kind,
            f"same file as import run {previous[1]}",
            previous[1],
            sha256,
        )
    else:
        outcome = _import(ctx, name, kind, data, sha256)
        if outcome.action == "error":
            ctx.note(outcome)
            return
    _remove_from_inbound(ctx, folder, seen, outcome)


def _import(
    ctx: InboundContext, name: str, kind: str, data: bytes, sha256: str
) -> FileOutcome:
    try:
        preview = service.preview_import(
            ctx.factory, ctx.slug, kind, "sftp", data, name
        )
        if preview.status == "rejected":
            errors = preview.parsed.errors.total
            return FileOutcome(
                name,
                "rejected",
                kind,
                f"{errors} errors; see import run {preview.run_id}",
                preview.run_id,
                sha256,
            )
        run = service.apply_preview(ctx.factory, preview)
    except PenjiError as error:
        return FileOutcome(
            name, "error", kind, f"{error}; left for the next run", None, sha256
        )
    except OperationalError as error:
        # The database went away mid-import (a restart, a lost connection): the
        # transaction rolled back, so the file stays for the next run.
        return FileOutcome(
            name,
            "error",
            kind,
            f"the database failed during the import ({error.orig}); left for the "
            "next run",
            None,
            sha256,
        )
    if run.status == "held":
        return FileOutcome(name, "held", kind, run.hold_reason or "", run.id, sha256)
    return FileOutcome(name, "imported", kind, _counts(run.counts), run.id, sha256)


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(
        f"{key} {counts.get(key, 0)}" for key in ("added", "changed", "removed")
    )


def _remove_from_inbound(
    ctx: InboundContext, folder: RemoteFolder, seen: RemoteFile, outcome: FileOutcome
) -> None:
    # NOTE: a file that IT replaces between this look and the rename below is
    # moved to archive/ unread, or deleted unread when remote_archive is off.
    now = folder.look(INBOUND, seen.name)
    if now is not None and now != seen:
        outcome.reason += (
            "; a newer file arrived meanwhile and is left for the next run"
        )
        ctx.note(outcome)
        return
    archived = f"{ctx.started_at:%Y%m%dT%H%M%SZ}-{seen.name}"
    folder.archive_or_remove(seen.name, archived, keep=ctx.settings.remote_archive)
    ctx.note(outcome)
