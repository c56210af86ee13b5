"""Reading and writing roster rows as plain tuples, in the order of a kind's fields.

Empty values are stored as NULL and read back as ``""``, so that a file's empty
cell and a stored NULL compare equal. Open-fields kinds keep every field but
``student_key`` in the JSON column ``fields``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

from backend.db import fetch_batches, fetch_tuples, in_values
from backend.formats.kinds import KindSpec

Row = tuple[str, ...]


class StoredRow(NamedTuple):
    """A row as stored: its id, values in the diff's field order, and whether active."""

    id: int
    values: Row
    active: bool


@dataclass
class ExistingRows:
    """The stored rows of one community, kind and source, keyed like the file."""

    fields: tuple[str, ...]
    rows: dict[str, StoredRow] = field(default_factory=dict)

    @property
    def active_count(self) -> int:
        return sum(map(attrgetter("active"), self.rows.values()))


def table_of(spec: KindSpec) -> Table:
    return spec.model.__table__  # type: ignore[attr-defined,no-any-return]


def stored_extra_fields(
    session: Session, spec: KindSpec, community_id: int, source: str
) -> list[str]:
    """Return the free-form field names stored for an open-fields kind."""
    if not spec.open_fields:
        return []
    table = table_of(spec)
    names: set[str] = set()
    query = select(table.c.fields).where(
        table.c.community_id == community_id,
        table.c.source == source,
        table.c.active.is_(True),
    )
    for (fields,) in session.execute(query):
        names.update(fields or {})
    return sorted(names)


def load_existing(
    session: Session,
    spec: KindSpec,
    community_id: int,
    source: str,
    fields: tuple[str, ...],
    value_caches: Sequence[dict[str, str] | None] | None = None,
    keys: Collection[str] | None = None,
) -> ExistingRows:
    """Load every stored row of a scope, or those of ``keys``, onto ``fields``.

    ``value_caches`` are the parsed file's caches of repeated values: stored
    values equal to a file's share its string, which halves the memory of
    columns such as course codes and makes equal tuples compare by identity.
    """
    table = table_of(spec)
    existing = ExistingRows(fields=fields)
    stored = existing.rows
    scope = (table.c.community_id == community_id, table.c.source == source)
    if spec.open_fields:
        columns = [table.c.id, table.c.key, table.c.active, table.c.student_key]
        query = select(*columns, table.c.fields).where(*scope)
        extra = fields[1:]
        for part in _by_keys(session, query, table, keys):
            for row_id, key, active, student_key, document in fetch_tuples(
                session, part
            ):
                if isinstance(document, str):
                    document = json.loads(document)
                document = document or {}
                values = (student_key, *(document.get(name) or "" for name in extra))
                stored[key] = StoredRow(row_id, values, bool(active))
        return existing

    columns = [func.coalesce(table.c[name], "") for name in fields]
    query = select(table.c.id, table.c.key, table.c.active, *columns).where(*scope)
    shared = [
        (i, cache) for i, cache in enumerate(value_caches or ()) if cache is not None
    ]
    # Each batch is turned into columns so that the sharing of strings and the
    # building of rows run in map and zip, not in a Python loop per row.
    for part in _by_keys(session, query, table, keys):
        for batch in fetch_batches(session, part):
            ids, row_keys, actives, *columns = zip(*batch, strict=True)
            for i, cache in shared:
                columns[i] = tuple(map(cache.setdefault, columns[i], columns[i]))
            rows = map(StoredRow, ids, zip(*columns, strict=True), map(bool, actives))
            stored.update(zip(row_keys, rows, strict=True))
    return existing


def _by_keys(
    session: Session, query: Select[Any], table: Table, keys: Collection[str] | None
) -> Iterator[Select[Any]]:
    """Yield ``query`` once, or limited to ``keys`` in as many parts as needed."""
    if keys is None:
        yield query
        return
    for condition in in_values(session, table.c.key, sorted(keys)):
        yield query.where(condition)


def column_values(spec: KindSpec, fields: Sequence[str], values: Row) -> dict[str, Any]:
    """Map a row's values to table columns, empty values as NULL."""
    if spec.open_fields:
        return {
            "student_key": values[0],
            "fields": {
                name: value
                for name, value in zip(fields[1:], values[1:], strict=True)
                if value
            },
        }
    return {name: value or None for name, value in zip(fields, values, strict=True)}


def values_as_dicts(
    spec: KindSpec, fields: Sequence[str], keyed: Iterable[tuple[str, Row]]
) -> list[dict[str, Any]]:
    return [
        {"key": key, **column_values(spec, fields, values)} for key, values in keyed
    ]
