"""Writing a diff to the roster tables, and restoring the state it replaced.

Both run inside the caller's transaction, so a failure leaves every row as it
was. The before-state is zlib-compressed JSON; rollback needs nothing else.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, update
from sqlalchemy.orm import Session

from backend.formats.kinds import KindSpec
from backend.formats.parse import ParsedFile
from backend.imports.diff import Diff
from backend.imports.rows import ExistingRows, Row, column_values, table_of
from backend.models import utcnow

CHUNK = 1000


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _row_params(
    spec: KindSpec, fields: Sequence[str], values: Row, extra: dict[str, Any]
) -> dict[str, Any]:
    return {**column_values(spec, fields, values), **extra}


def _update_by_id(
    session: Session, spec: KindSpec, params: list[dict[str, Any]]
) -> None:
    if not params:
        return
    table = table_of(spec)
    session.execute(update(table).where(table.c.id == bindparam("row_id")), params)


def apply_diff(
    session: Session,
    spec: KindSpec,
    scope: tuple[int, str],
    run_id: int,
    parsed: ParsedFile,
    diff: Diff,
    existing: ExistingRows,
    replaced: ExistingRows | None,
) -> bytes:
    """Write ``diff`` to the table of ``spec`` and return the before-state."""
    community_id, source = scope
    table = table_of(spec)
    fields = diff.fields
    now = utcnow()
    stamp = {"run_id": run_id, "updated_at": now}
    new_rows = parsed.rows
    stored = existing.rows

    inserts = [
        {
            "community_id": community_id,
            "source": source,
            "key": key,
            "active": True,
            **_row_params(spec, fields, new_rows[key], stamp),
        }
        for key in diff.added
        if key not in diff.reactivated
    ]
    if inserts:
        session.execute(insert(table), inserts)

    updates = [
        {
            "row_id": stored[key].id,
            "active": True,
            **_row_params(spec, fields, new_rows[key], stamp),
        }
        for key in (*diff.changed, *diff.reactivated)
    ]
    _update_by_id(session, spec, updates)

    removed_ids = [stored[key].id for key in diff.removed]
    if spec.soft_delete:
        _update_by_id(
            session,
            spec,
            [{"row_id": row_id, "active": False, **stamp} for row_id in removed_ids],
        )
    else:
        for chunk in _chunks(removed_ids):
            session.execute(delete(table).where(table.c.id.in_(chunk)))

    if replaced is not None and diff.replaced:
        replaced_ids = [replaced.rows[key].id for key in diff.replaced]
        for chunk in _chunks(replaced_ids):
            session.execute(delete(table).where(table.c.id.in_(chunk)))

    before = {
        "fields": list(fields),
        "added": [key for key in diff.added if key not in diff.reactivated],
        "reactivated": [[key, stored[key].values] for key in diff.reactivated],
        "changed": [[key, stored[key].values] for key in diff.changed],
        "removed": [[key, stored[key].values] for key in diff.removed],
        "replaced": [[key, values] for key, values in diff.replaced.items()],
    }
    return zlib.compress(json.dumps(before).encode(), 6)


def _by_key(table: Any, scope: tuple[int, str]) -> Any:
    community_id, source = scope
    return and_(
        table.c.community_id == community_id,
        table.c.source == source,
        table.c.key == bindparam("row_key"),
    )


def restore_before_state(
    session: Session,
    spec: KindSpec,
    scope: tuple[int, str],
    other_source: str,
    before_state: bytes,
) -> dict[str, int]:
    """Undo an applied run from its before-state and count the rows restored."""
    before = json.loads(zlib.decompress(before_state))
    fields: list[str] = before["fields"]
    table = table_of(spec)
    community_id, source = scope
    now = utcnow()

    # Rows the run added are deleted, except students and courses: check-ins
    # and sessions may refer to them by now, so they become inactive and keep
    # that history, as removed students and courses always do.
    added: list[str] = before["added"]
    for chunk in _chunks(added):
        in_scope = (
            table.c.community_id == community_id,
            table.c.source == source,
            table.c.key.in_(chunk),
        )
        if spec.soft_delete:
            session.execute(
                update(table).where(*in_scope).values(active=False, updated_at=now)
            )
        else:
            session.execute(delete(table).where(*in_scope))

    def restore(pairs: Iterable[list[Any]], active: bool) -> list[dict[str, Any]]:
        return [
            {
                "row_key": key,
                "active": active,
                "updated_at": now,
                **column_values(spec, fields, tuple(values)),
            }
            for key, values in pairs
        ]

    reactivated = restore(before["reactivated"], active=False)
    changed = restore(before["changed"], active=True)
    statement = update(table).where(_by_key(table, scope))
    for params in (reactivated, changed):
        if params:
            session.execute(statement, params)

    removed = before["removed"]
    if spec.soft_delete and removed:
        session.execute(statement, restore(removed, active=True))
    elif removed:
        session.execute(insert(table), _inserts(spec, fields, scope, removed, now))

    replaced = before["replaced"]
    if replaced:
        other_scope = (community_id, other_source)
        session.execute(
            insert(table), _inserts(spec, fields, other_scope, replaced, now)
        )
    return {
        "deleted": len(added),
        "restored": len(changed) + len(removed) + len(reactivated),
        "replaced_restored": len(replaced),
    }


def _inserts(
    spec: KindSpec,
    fields: Sequence[str],
    scope: tuple[int, str],
    pairs: Iterable[list[Any]],
    now: Any,
) -> list[dict[str, Any]]:
    community_id, source = scope
    return [
        {
            "community_id": community_id,
            "source": source,
            "key": key,
            "active": True,
            "updated_at": now,
            **column_values(spec, fields, tuple(values)),
        }
        for key, values in pairs
    ]
