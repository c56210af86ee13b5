"""One sync run: for each configured community, imports then exports over SFTP.

Communities run one after another. A community is synced by one process at a
time, under the lease ``sync:<community id>``, which expires if its holder dies.
A failure in one community is recorded and never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import paramiko
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import audit, leases
from backend.db import transaction
from backend.errors import PenjiError
from backend.models import Community, SyncRun, utcnow
from backend.services.integrations import is_enabled
from backend.sync import sftp
from backend.sync.archive import prune_archive
from backend.sync.exports import EXPORT_FILES, build_export
from backend.sync.inbound import FileOutcome, InboundContext, process_inbound
from backend.sync.remote import OUTBOUND, RemoteFolder
from backend.sync.settings import CommunitySync, SyncSettings
from backend.sync.timing import Clock, SystemClock, parse_zone

log = logging.getLogger(__name__)

FINISHED_STATUSES = ("ok", "partial", "failed")


@dataclass
class RunRequest:
    """A request to sync: its trigger, nightly slot, stop signal and clock."""

    trigger: str
    slot: datetime | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Clock = field(default_factory=SystemClock)


def lease_name(community_id: int) -> str:
    return f"sync:{community_id}"


def export_cutoff(now: datetime, zone_name: str) -> datetime:
    """Return the end of the export day: the next midnight in the schedule's zone."""
    zone = parse_zone(zone_name)
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=zone)


@dataclass
class _Progress:
    exports: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    connected: bool = False
    finished: bool = False


def sync_all(
    factory: sessionmaker[Session],
    settings: SyncSettings,
    request: RunRequest,
    only: str | None = None,
) -> list[SyncRun]:
    """Sync every configured community, or only the one named ``only``."""
    targets = [c for c in settings.communities if only is None or c.slug == only]
    log.info("sync run started (%s): %d communities", request.trigger, len(targets))
    started = time.monotonic()
    records = []
    for target in targets:
        if request.stop.is_set():
            log.info("sync run stopping before %s", target.slug)
            break
        try:
            record = sync_community(factory, settings, target, request)
        except Exception:
            log.exception("unexpected failure syncing community %s", target.slug)
            continue
        if record is not None:
            records.append(record)
    log.info(
        "sync run finished (%s) in %.1fs: %d communities synced",
        request.trigger,
        time.monotonic() - started,
        len(records),
    )
    return records


def _label(community: Community) -> str:
    return f"{community.school.slug}/{community.slug}"


def sync_community(
    factory: sessionmaker[Session],
    settings: SyncSettings,
    target: CommunitySync,
    request: RunRequest,
) -> SyncRun | None:
    """Sync one community under its lease; return its record, or None if skipped."""
    with factory() as session:
        community = session.scalars(
            select(Community).where(Community.slug == target.slug)
        ).first()
        if community is None:
            log.error(
                "community %s in the configuration not found in the database",
                target.slug,
            )
            return None
        community_id, label = community.id, _label(community)

    ttl = timedelta(seconds=settings.community_deadline + 300)
    try:
        holder = leases.acquire(factory, lease_name(community_id), ttl)
    except leases.LeaseHeld as held:
        log.info("%s: skipped, %s is syncing it", label, held.holder)
        return None
    try:
        if request.slot is not None and _slot_done(factory, community_id, request.slot):
            log.info("%s: slot %s already synced", label, request.slot.isoformat())
            return None
        return _run_locked(
            factory, settings, target, request, community_id, label, holder
        )
    finally:
        leases.release(factory, lease_name(community_id), holder)


def _slot_done(
    factory: sessionmaker[Session], community_id: int, slot: datetime
) -> bool:
    with factory() as session:
        return (
            session.scalars(
                select(SyncRun.id).where(
                    SyncRun.community_id == community_id,
                    SyncRun.scheduled_for == slot,
                    SyncRun.status.in_(FINISHED_STATUSES),
                )
            ).first()
            is not None
        )


def _run_locked(
    factory: sessionmaker[Session],
    settings: SyncSettings,
    target: CommunitySync,
    request: RunRequest,
    community_id: int,
    label: str,
    holder: str,
) -> SyncRun:
    started_at = request.clock.now()
    with transaction(factory) as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.community_id == community_id, SyncRun.status == "running")
            .values(status="interrupted", finished_at=utcnow())
        )
        record = SyncRun(
            community_id=community_id,
            trigger=request.trigger,
            scheduled_for=request.slot,
            holder=holder,
            status="running",
            started_at=started_at,
        )
        session.add(record)
        session.flush()
        record_id = record.id
    log.info("%s: sync started (run %d)", label, record_id)

    inbound = InboundContext(
        factory, settings, community_id, target.slug, label, request.stop, started_at
    )
    progress = _Progress()
    clock_start = time.monotonic()
    try:
        _with_retries(factory, settings, target, request, inbound, progress, label)
    except PenjiError as error:
        progress.errors.append(str(error))
        log.error("%s: %s", label, error)
    except Exception as error:
        progress.errors.append(f"unexpected failure: {type(error).__name__}: {error}")
        log.exception("%s: unexpected failure", label)
    prune_archive(
        settings.archive_dir, target.slug, settings.archive_keep_days, started_at
    )
    return _finish(
        factory, record_id, inbound, progress, time.monotonic() - clock_start, label
    )


def _with_retries(
    factory: sessionmaker[Session],
    settings: SyncSettings,
    target: CommunitySync,
    request: RunRequest,
    inbound: InboundContext,
    progress: _Progress,
    label: str,
) -> None:
    """Connect and sync, retrying a failed connection with doubling waits."""
    started = time.monotonic()
    for attempt in range(1, settings.connect_attempts + 1):
        remaining = settings.community_deadline - (time.monotonic() - started)
        deadline = sftp.Deadline(max(remaining, 1.0))
        try:
            with sftp.session(target.server, settings, deadline) as client:
                progress.connected = True
                _sync_folder(
                    factory, settings, target, request, inbound, progress, client, label
                )
            return
        except (sftp.HostKeyRejected, sftp.LoginFailed):
            raise
        except (sftp.ConnectFailed, OSError, EOFError, paramiko.SSHException) as error:
            if deadline.expired:
                raise sftp.SyncFailed(
                    f"the run passed its deadline of {settings.community_deadline:g}s "
                    "and was cut off; the rest is retried next run"
                ) from None
            if attempt == settings.connect_attempts or request.stop.is_set():
                raise sftp.ConnectFailed(
                    f"{error} (after {attempt} attempts); retried next run"
                ) from None
            wait = settings.retry_backoff * 2 ** (attempt - 1)
            log.warning(
                "%s: attempt %d of %d failed: %s; retrying in %gs",
                label,
                attempt,
                settings.connect_attempts,
                error,
                wait,
            )
            if request.stop.wait(wait):
                return


def _sync_folder(
    factory: sessionmaker[Session],
    settings: SyncSettings,
    target: CommunitySync,
    request: RunRequest,
    inbound: InboundContext,
    progress: _Progress,
    client: paramiko.SFTPClient,
    label: str,
) -> None:
    folder = RemoteFolder(client, target.remote_dir)
    folder.ensure_folders()
    folder.remove_stale_uploads(OUTBOUND)
    process_inbound(inbound, folder)
    if request.stop.is_set():
        return
    _write_exports(
        factory, settings, request, inbound.community_id, folder, progress, label
    )
    if not request.stop.is_set():
        progress.finished = True


def _write_exports(
    factory: sessionmaker[Session],
    settings: SyncSettings,
    request: RunRequest,
    community_id: int,
    folder: RemoteFolder,
    progress: _Progress,
    label: str,
) -> None:
    with factory() as session:
        community = session.get(Community, community_id)
        assert community is not None
        if not is_enabled(session, community, "data_exports"):
            return
    cutoff = export_cutoff(request.clock.now(), settings.schedule_zone)
    for name in EXPORT_FILES:
        if request.stop.is_set():
            return
        if name in progress.exports:
            continue
        with factory() as session:
            community = session.get(Community, community_id)
            assert community is not None
            data = build_export(session, community, name, cutoff)
        folder.replace(OUTBOUND, name, data)
        progress.exports.append(name)
        log.info("%s: wrote %s (%d bytes)", label, name, len(data))


def _status(inbound: InboundContext, progress: _Progress) -> str:
    errors = progress.errors or any(
        o.action == "error" for o in inbound.outcomes.values()
    )
    if not progress.finished and inbound.stop.is_set() and not progress.errors:
        return "stopped"
    if not errors:
        return "ok"
    return "partial" if progress.connected else "failed"


def _finish(
    factory: sessionmaker[Session],
    record_id: int,
    inbound: InboundContext,
    progress: _Progress,
    duration: float,
    label: str,
) -> SyncRun:
    outcomes = list(inbound.outcomes.values())
    errors = list(progress.errors)
    errors += [f"{o.name}: {o.reason}" for o in outcomes if o.action == "error"]

    def count(action: str) -> int:
        return sum(1 for o in outcomes if o.action == action)

    with transaction(factory) as session:
        record = session.get(SyncRun, record_id)
        assert record is not None
        record.status = _status(inbound, progress)
        record.finished_at = utcnow()
        record.duration_seconds = round(duration, 3)
        record.files_seen = len(outcomes)
        record.imported = count("imported")
        record.held = count("held")
        record.rejected = count("rejected")
        record.skipped = count("skipped")
        record.files_left = count("left") + count("error")
        record.exports_written = len(progress.exports)
        record.files = [o.as_dict() for o in outcomes]
        record.errors = errors
        community = session.get(Community, record.community_id)
        audit.record(
            session,
            "sync.run",
            community=community,
            sync_run_id=record.id,
            trigger=record.trigger,
            status=record.status,
            imported=record.imported,
            held=record.held,
            rejected=record.rejected,
            skipped=record.skipped,
            left=record.files_left,
            exports=record.exports_written,
        )
    log.info(
        "%s: sync %s in %.1fs: %d files seen, %d imported, %d held, %d rejected, "
        "%d skipped, %d left, %d exports, %d errors",
        label,
        record.status,
        duration,
        record.files_seen,
        record.imported,
        record.held,
        record.rejected,
        record.skipped,
        record.files_left,
        record.exports_written,
        len(errors),
    )
    return record


__all__ = ["FileOutcome", "RunRequest", "sync_all", "sync_community"]
