"""Preview, apply, hold, approve, reject and roll back imports.

The command line, the console and the daemon all import through these
functions, so every import gets the same checks, guards and audit events.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import audit, leases
from backend.bulk import gc_paused
from backend.db import transaction
from backend.errors import Conflict, InvalidValue, NotFound
from backend.formats.kinds import KindSpec, get_kind
from backend.formats.parse import ParsedFile, decode_file, parse_bytes, parse_text
from backend.imports.apply import apply_diff, restore_before_state
from backend.imports.baseline import (
    BaselineRead,
    read_against_baseline,
    record_baseline,
)
from backend.imports.diff import Diff, compute_diff
from backend.imports.guards import hold_reason
from backend.imports.references import warn_unknown_courses
from backend.imports.rows import (
    ExistingRows,
    Row,
    load_existing,
    stored_extra_fields,
    table_of,
)
from backend.models import SOURCES, Community, ImportRun, utcnow
from backend.services.integrations import get_setting, is_enabled
from backend.services.schools import get_community

log = logging.getLogger(__name__)

# Import kinds that an integration controls; others are admin uploads only.
INTEGRATION_OF_KIND = {
    "students": "students",
    "courses": "courses",
    "course_enrollment": "course_enrollment",
    "student_metadata": "student_metadata",
    "course_grades": "course_grades",
}


@dataclass(frozen=True)
class ScopeState:
    """The stored rows a preview's diff was computed from, and their fingerprint.

    Apply reuses the diff when the scope's fingerprint is unchanged, which
    saves loading and comparing every stored row a second time.
    """

    existing: ExistingRows
    replaced: ExistingRows | None
    diff: Diff
    fingerprint: tuple[Any, ...]
    active_count: int


def scope_fingerprint(
    session: Session, spec: KindSpec, community_id: int, source: str
) -> tuple[Any, ...]:
    """Summarise the rows an import of this scope reads.

    Every write to a roster row sets its ``updated_at``, and deletes lower the
    count and the sum of ids, so any change since the fingerprint was taken
    changes it. The newest write time is looked up per source, so that it
    comes from the scope's index rather than from every row.
    """
    # TODO: on PostgreSQL right after a bulk load, the count and sum read the
    # table (about 100 ms for 350,000 rows), most of why a next-night
    # enrollment preview there is 4.3 times the bare csv read, not 3
    # (docs/benchmarks.md).
    table = table_of(spec)
    sources = [source]
    if spec.name == "course_enrollment" and source == "sftp":
        sources.append("custom")
    fingerprint: list[Any] = []
    for name in sources:
        scope = (table.c.community_id == community_id, table.c.source == name)
        count, ids = session.execute(
            select(func.count(), func.sum(table.c.id)).where(*scope)
        ).one()
        newest = session.scalar(select(func.max(table.c.updated_at)).where(*scope))
        fingerprint += [count, ids, newest]
    return tuple(fingerprint)


@dataclass
class Preview:
    """A previewed import: the parsed file, its diff and whether a guard would hold it.

    ``old`` contains the stored values of the changed and removed rows, and of the
    rows the import replaces, for showing them beside the new values.
    """

    run_id: int
    status: str
    spec: KindSpec
    source: str
    community_id: int
    community_slug: str
    parsed: ParsedFile
    diff: Diff | None
    hold_reason: str | None
    sha256: str
    old: dict[str, Row] = field(default_factory=dict)
    scope_state: ScopeState | None = field(default=None, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        if self.diff is None:
            return {
                "added": 0,
                "changed": 0,
                "removed": 0,
                "unchanged": 0,
                "replaced": 0,
            }
        return self.diff.counts()


def other_source(source: str) -> str:
    return "custom" if source == "sftp" else "sftp"


def _check_source(
    session: Session, community: Community, kind: str, source: str
) -> None:
    if source not in SOURCES:
        raise InvalidValue(f"invalid source {source!r}; use custom or sftp")
    if source != "sftp":
        return
    integration = INTEGRATION_OF_KIND.get(kind)
    if integration is None:
        raise InvalidValue(
            f"{kind} are uploaded by admins only; import them with --source custom"
        )
    if not is_enabled(session, community, integration):
        raise InvalidValue(
            f"the {integration} integration is off for community {community.slug!r}; "
            f"turn it on with 'penji-tui integration set {community.slug} "
            f"{integration} on' first"
        )


def _keep_fields(
    session: Session, community: Community, spec: KindSpec
) -> list[str] | None:
    if not spec.open_fields:
        return None
    keep = get_setting(session, community, "student_metadata").options.get(
        "keep_fields"
    )
    return list(keep) if keep else None


def _load_state(
    session: Session, spec: KindSpec, community_id: int, source: str, parsed: ParsedFile
) -> tuple[ExistingRows, ExistingRows | None]:
    fields = parsed.fields
    extra = stored_extra_fields(session, spec, community_id, source)
    fields = fields + tuple(name for name in extra if name not in fields)
    caches = parsed.value_caches
    existing = load_existing(session, spec, community_id, source, fields, caches)
    return existing, _load_replaced(session, spec, community_id, source, existing)


def _load_replaced(
    session: Session,
    spec: KindSpec,
    community_id: int,
    source: str,
    existing: ExistingRows,
) -> ExistingRows | None:
    """Load the manually uploaded enrollments that an SFTP enrollment replaces."""
    if spec.name != "course_enrollment" or source != "sftp":
        return None
    return load_existing(session, spec, community_id, "custom", existing.fields)


def _problems(parsed: ParsedFile) -> dict[str, Any]:
    return {
        "errors": [p.as_dict() for p in parsed.errors.items],
        "warnings": [p.as_dict() for p in parsed.warnings.items],
        "errors_omitted": parsed.errors.omitted,
        "warnings_omitted": parsed.warnings.omitted,
        "dropped_columns": list(parsed.dropped_columns),
    }


def _warn_same_file(session: Session, parsed: ParsedFile, run: ImportRun) -> None:
    # Only the columns needed: the run may keep its whole file.
    previous = session.execute(
        select(ImportRun.id, ImportRun.sha256, ImportRun.finished_at)
        .where(
            ImportRun.community_id == run.community_id,
            ImportRun.kind == run.kind,
            ImportRun.source == run.source,
            ImportRun.status == "applied",
        )
        .order_by(ImportRun.id.desc())
        .limit(1)
    ).first()
    if previous is not None and previous.sha256 == run.sha256:
        parsed.warnings.add(
            0,
            "",
            f"this file is identical to run {previous.id}, applied "
            f"{previous.finished_at:%Y-%m-%d %H:%M} UTC",
        )


def preview_import(
    factory: sessionmaker[Session],
    community_slug: str,
    kind: str,
    source: str,
    data: bytes,
    file_name: str,
    baseline: bool = True,
    progress: PreviewProgress | None = None,
) -> Preview:
    """Parse and diff a file, record the run, and write no roster row.

    With ``baseline`` a nightly file is read against the last applied one when
    it can be (backend/imports/baseline.py); without it the whole file is read.
    ``progress`` is called with each stage's name and, while the whole file is
    read, the share of its lines read so far.
    """
    # A file name that is not valid UTF-8 reaches Python with surrogates, which
    # no database accepts; its bad bytes are shown as U+FFFD instead.
    file_name = file_name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        spec = get_kind(kind)
    except KeyError as error:
        raise InvalidValue(str(error.args[0])) from None
    # hashlib and zlib release the GIL on large buffers, so the digest and the
    # stored copy are made on another core while the file is parsed.
    with gc_paused(), ThreadPoolExecutor(max_workers=1) as pool:
        stored_copy = pool.submit(_digest_and_compress, data)
        return _preview(
            factory,
            community_slug,
            spec,
            source,
            (data, file_name),
            stored_copy,
            baseline,
            progress or _no_progress,
        )


# Stages a preview reports, in the order they run.
STAGE_BASELINE = "Comparing with the last applied file"
STAGE_READ = "Reading the file"
STAGE_COMPARE = "Comparing with the stored rows"

PreviewProgress = Callable[[str, float | None], None]


def _no_progress(stage: str, share: float | None) -> None:
    pass


def _digest_and_compress(data: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(data).hexdigest(), zlib.compress(data, 1)


def _preview(
    factory: sessionmaker[Session],
    community_slug: str,
    spec: KindSpec,
    source: str,
    file: tuple[bytes, str],
    stored_copy: Future[tuple[str, bytes]],
    use_baseline: bool,
    progress: PreviewProgress,
) -> Preview:
    kind = spec.name
    data, file_name = file
    with transaction(factory) as session:
        community = get_community(session, community_slug)
        _check_source(session, community, kind, source)
        keep = _keep_fields(session, community, spec)
        # Taken before any stored row is read: a write after it makes apply
        # compute the diff again rather than reuse this one.
        fingerprint = scope_fingerprint(session, spec, community.id, source)
        parsed, text = decode_file(spec, data, file_name)
        read: BaselineRead | None = None
        if text is not None and use_baseline:
            progress(STAGE_BASELINE, None)
            read = read_against_baseline(
                session,
                spec,
                (community.id, source),
                text,
                file_name,
                keep,
                fingerprint,
                parsed.warnings,
            )
        if read is not None:
            parsed = read.parsed
        elif text is not None:
            parsed = parse_text(
                spec,
                text,
                file_name,
                keep,
                parsed,
                lambda share: progress(STAGE_READ, share),
            )
        diff = None
        reason = None
        scope_state = None
        old: dict[str, Row] = {}
        if parsed.ok:
            progress(STAGE_COMPARE, None)
            warn_unknown_courses(session, community.id, parsed)
            scope_state = _compare(
                session, community, source, (parsed, read), fingerprint
            )
            diff = scope_state.diff
            reason = hold_reason(spec, diff, scope_state.active_count, community)
            for key in (*diff.changed, *diff.removed):
                old[key] = scope_state.existing.rows[key].values
            old.update(diff.replaced)
        log.debug(
            "%s preview of %s read %s",
            kind,
            file_name,
            f"against run {read.run_id}" if read else "the whole file",
        )

        sha256, compressed = stored_copy.result()
        actor = audit.current_actor()
        run = ImportRun(
            community_id=community.id,
            kind=kind,
            source=source,
            file_name=file_name,
            sha256=sha256,
            status="previewed" if parsed.ok else "rejected",
            counts=diff.counts() if diff else {},
            hold_reason=reason,
            os_user=actor.os_user,
            ssh_client=actor.ssh_client,
            file_data=compressed if parsed.ok else None,
        )
        _warn_same_file(session, parsed, run)
        run.errors = _problems(parsed)
        if not parsed.ok:
            run.finished_at = utcnow()
            audit.record(
                session,
                "import.reject",
                community=community,
                kind=kind,
                actor=actor,
                file=file_name,
                errors=parsed.errors.total,
            )
        session.add(run)
        session.flush()
        if parsed.ok:
            audit.record(
                session,
                "import.preview",
                community=community,
                kind=kind,
                actor=actor,
                file=file_name,
                run_id=run.id,
                counts=run.counts,
            )
        log.info(
            "previewed %s import %s for %s: %s",
            kind,
            file_name,
            community.slug,
            run.status,
        )
        return Preview(
            run_id=run.id,
            status=run.status,
            spec=spec,
            source=source,
            community_id=community.id,
            community_slug=community.slug,
            parsed=parsed,
            diff=diff,
            hold_reason=reason,
            sha256=sha256,
            old=old,
            scope_state=scope_state,
        )


def _compare(
    session: Session,
    community: Community,
    source: str,
    file: tuple[ParsedFile, BaselineRead | None],
    fingerprint: tuple[Any, ...],
) -> ScopeState:
    """Diff a parsed file with the stored rows it would replace.

    After a read against the baseline only the stored rows of the changed
    lines' keys are compared, and the rows of the lines both files share count
    as unchanged.
    """
    parsed, read = file
    spec = parsed.spec
    if read is not None:
        existing = read.existing
        replaced = _load_replaced(session, spec, community.id, source, existing)
        count = read.active_count
    else:
        existing, replaced = _load_state(session, spec, community.id, source, parsed)
        count = existing.active_count
    diff = compute_diff(parsed, existing, replaced)
    if read is not None:
        diff.unchanged += read.unchanged
    return ScopeState(existing, replaced, diff, fingerprint, count)


def _lease_name(community_id: int, kind: str) -> str:
    return f"import:{community_id}:{kind}"


def apply_preview(
    factory: sessionmaker[Session], preview: Preview, force: bool = False
) -> ImportRun:
    """Apply a previewed run in one transaction, or hold it if a guard trips.

    The preview's diff is reused when the scope's stored rows are unchanged
    since the preview; otherwise it is computed again inside the transaction,
    so rows changed meanwhile are taken into account. ``force`` applies past a
    guard.
    """
    if preview.status == "rejected":
        raise Conflict(
            f"run {preview.run_id} was rejected; fix the file and import again"
        )
    return _apply(
        factory,
        preview.run_id,
        preview.parsed,
        force,
        action="import.apply",
        reuse=preview.scope_state,
    )


def _apply(
    factory: sessionmaker[Session],
    run_id: int,
    parsed: ParsedFile,
    force: bool,
    action: str,
    reuse: ScopeState | None = None,
) -> ImportRun:
    with factory() as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise NotFound(f"import run {run_id} not found")
        community_id, kind = run.community_id, run.kind
    try:
        holder = leases.acquire(factory, _lease_name(community_id, kind))
    except leases.LeaseHeld as held:
        raise Conflict(
            f"another {kind} import for this community is already running "
            f"({held.holder}); wait for it to finish and try again"
        ) from None
    try:
        with transaction(factory) as session:
            return _apply_locked(session, run_id, parsed, force, action, reuse)
    finally:
        leases.release(factory, _lease_name(community_id, kind), holder)


def _apply_locked(
    session: Session,
    run_id: int,
    parsed: ParsedFile,
    force: bool,
    action: str,
    reuse: ScopeState | None,
) -> ImportRun:
    run = session.get(ImportRun, run_id, with_for_update=True)
    assert run is not None
    if run.status not in ("previewed", "held"):
        raise Conflict(
            f"run {run.id} is {run.status}; only a previewed or held run applies"
        )
    _reject_older_file(session, run)
    community = session.get(Community, run.community_id)
    assert community is not None
    spec = get_kind(run.kind)
    # Only reading and comparing are paused: the writes go through SQLAlchemy
    # and the driver, whose objects may form cycles.
    with gc_paused():
        if reuse is not None and reuse.fingerprint == scope_fingerprint(
            session, spec, community.id, run.source
        ):
            existing, replaced, diff = reuse.existing, reuse.replaced, reuse.diff
            count = reuse.active_count
        else:
            if parsed.partial:
                # The rows changed since the preview read only the changed
                # lines, so the whole file is read again.
                parsed = _parse_stored(session, run)
                if not parsed.ok:
                    raise Conflict(
                        f"run {run.id}'s file no longer passes its checks; "
                        "import it again"
                    )
            existing, replaced = _load_state(
                session, spec, community.id, run.source, parsed
            )
            diff = compute_diff(parsed, existing, replaced)
            count = existing.active_count
    run.counts = diff.counts()

    reason = hold_reason(spec, diff, count, community)
    if reason and not force:
        run.status = "held"
        run.hold_reason = reason
        audit.record(
            session,
            "import.hold",
            community=community,
            kind=run.kind,
            run_id=run.id,
            file=run.file_name,
            reason=reason,
            counts=run.counts,
        )
        log.warning(
            "held %s run %s for %s: %s", run.kind, run.id, community.slug, reason
        )
        return run

    run.before_state = apply_diff(
        session,
        spec,
        (community.id, run.source),
        run.id,
        parsed,
        diff,
        existing,
        replaced,
    )
    run.status = "applied"
    run.finished_at = utcnow()
    after = scope_fingerprint(session, spec, community.id, run.source)
    record_baseline(session, spec, run, parsed, after)
    audit.record(
        session,
        action,
        community=community,
        kind=run.kind,
        run_id=run.id,
        file=run.file_name,
        counts=run.counts,
        forced_past=reason if force else None,
    )
    log.info(
        "applied %s run %s for %s: %s", run.kind, run.id, community.slug, run.counts
    )
    return run


def _parse_stored(session: Session, run: ImportRun) -> ParsedFile:
    if run.file_data is None:
        raise Conflict(f"run {run.id} keeps no file; import the file again")
    community = session.get(Community, run.community_id)
    assert community is not None
    spec = get_kind(run.kind)
    data = zlib.decompress(run.file_data)
    return parse_bytes(
        spec, data, run.file_name, _keep_fields(session, community, spec)
    )


def get_run(session: Session, run_id: int) -> ImportRun:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(
            f"import run {run_id} not found; list runs with 'penji-tui imports list'"
        )
    return run


def approve_run(factory: sessionmaker[Session], run_id: int) -> ImportRun:
    """Apply a held run past its guard, from the file it kept.

    Only a held run can be approved: a run left previewed, by an interrupted
    or dry-run import, never had its guards decided, so it is imported again
    or rejected instead.
    """
    with factory() as session:
        run = get_run(session, run_id)
        if run.status != "held":
            raise Conflict(
                f"run {run_id} is {run.status}; only a held run can be approved. "
                "Import the file again to preview and apply it"
            )
        _reject_older_file(session, run)
        parsed = _parse_stored(session, run)
    if not parsed.ok:
        raise Conflict(
            f"run {run_id}'s file no longer passes its checks; import it again"
        )
    return _apply(factory, run_id, parsed, force=True, action="import.approve")


def reject_run(
    factory: sessionmaker[Session], run_id: int, reason: str | None = None
) -> ImportRun:
    """Mark a held or previewed run rejected; nothing is applied.

    ``reason``, when given, goes into the audit event's detail, so that a
    cancelled preview reads apart from a file rejected for its errors.
    """
    with transaction(factory) as session:
        run = get_run(session, run_id)
        if run.status not in ("held", "previewed"):
            raise Conflict(
                f"run {run_id} is {run.status}; only a held or previewed run "
                "can be rejected"
            )
        run.status = "rejected"
        run.finished_at = utcnow()
        community = session.get(Community, run.community_id)
        detail: dict[str, object] = {"run_id": run.id, "file": run.file_name}
        if reason is not None:
            detail["reason"] = reason
        audit.record(
            session, "import.reject", community=community, kind=run.kind, **detail
        )
        return run


def _reject_older_file(session: Session, run: ImportRun) -> None:
    """Raise Conflict for ``run`` once a file previewed after it is applied.

    Its diff was shown against older rows, and applying it would bring back
    older data over the newer file, such as students the newer file added.
    """
    newer = newest_applied_id(session, run)
    if newer is None or newer < run.id:
        return
    verb = "approving" if run.status == "held" else "applying"
    raise Conflict(
        f"run {newer}, a {run.kind} file previewed after run {run.id}, is already "
        f"applied, so {verb} run {run.id} would bring back older data; reject "
        f"run {run.id}, or import its file again to see a fresh preview"
    )


def newest_applied_id(session: Session, run: ImportRun) -> int | None:
    """Return the id of the newest file applied in the scope of ``run``.

    Newest is by id, the order in which files were previewed: approving a held
    run is refused once a later file is applied.
    """
    return session.scalar(select(func.max(ImportRun.id)).where(*_applied_in_scope(run)))


def last_applied_id(session: Session, run: ImportRun) -> int | None:
    """Return the id of the run applied last in the scope of ``run``.

    Two previews can be applied in the reverse order of their ids, so this is
    by the time of the apply. Only this run's before-state matches the rows.
    """
    return session.scalar(
        select(ImportRun.id)
        .where(*_applied_in_scope(run))
        .order_by(ImportRun.finished_at.desc(), ImportRun.id.desc())
        .limit(1)
    )


def _applied_in_scope(run: ImportRun) -> tuple[Any, ...]:
    return (
        ImportRun.community_id == run.community_id,
        ImportRun.kind == run.kind,
        ImportRun.source == run.source,
        ImportRun.status == "applied",
    )


def rollback_run(factory: sessionmaker[Session], run_id: int) -> ImportRun:
    """Restore the rows as they were before an applied run.

    Only the run applied last in its community, kind and source can be rolled
    back, since a later apply was computed against this run's rows.
    """
    with factory() as session:
        run = get_run(session, run_id)
        community_id, kind = run.community_id, run.kind
    holder = leases.acquire(factory, _lease_name(community_id, kind))
    try:
        with transaction(factory) as session:
            run = get_run(session, run_id)
            if run.status != "applied" or run.before_state is None:
                raise Conflict(
                    f"run {run_id} is {run.status}; only an applied run can be "
                    "rolled back"
                )
            newest = last_applied_id(session, run)
            if newest != run.id:
                raise Conflict(
                    f"run {run_id} is not the {run.kind} run applied last in its "
                    f"community; roll back run {newest} first"
                )
            spec = get_kind(run.kind)
            restored = restore_before_state(
                session,
                spec,
                (run.community_id, run.source),
                other_source(run.source),
                run.before_state,
            )
            run.status = "rolled_back"
            run.baseline = None
            run.file_data = None
            community = session.get(Community, run.community_id)
            audit.record(
                session,
                "import.rollback",
                community=community,
                kind=run.kind,
                run_id=run.id,
                file=run.file_name,
                restored=restored,
            )
            log.info("rolled back %s run %s: %s", run.kind, run.id, restored)
            return run
    finally:
        leases.release(factory, _lease_name(community_id, kind), holder)


def list_runs(
    session: Session,
    community: Community | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[ImportRun]:
    """Return runs newest first, optionally of one community or status."""
    query = select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)
    if community is not None:
        query = query.where(ImportRun.community_id == community.id)
    if status is not None:
        query = query.where(ImportRun.status == status)
    return list(session.scalars(query))
