"""Reading and writing roster rows as plain tuples, in the order of a kind's fields.

Empty values are stored as NULL and read back as ``""``, so that a file's empty
cell and a stored NULL compare equal. Open-fields kinds keep every field but
``student_key`` in the JSON column ``fields``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from backend.formats.kinds import KindSpec

Row = tuple[str, ...]


@dataclass
class StoredRow:
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
        return sum(1 for row in self.rows.values() if row.active)


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
) -> ExistingRows:
    """Load every stored row of a scope, projecting it onto ``fields``."""
    table = table_of(spec)
    existing = ExistingRows(fields=fields)
    scope = (table.c.community_id == community_id, table.c.source == source)
    if spec.open_fields:
        columns = [table.c.id, table.c.key, table.c.active, table.c.student_key]
        query = select(*columns, table.c.fields).where(*scope)
        extra = fields[1:]
        for row_id, key, active, student_key, stored in session.execute(query):
            stored = stored or {}
            values = (student_key, *(stored.get(name) or "" for name in extra))
            existing.rows[key] = StoredRow(row_id, values, active)
        return existing

    columns = [table.c[name] for name in fields]
    query = select(table.c.id, table.c.key, table.c.active, *columns).where(*scope)
    for row_id, key, active, *values in session.execute(query):
        existing.rows[key] = StoredRow(
            row_id, tuple(v if v is not None else "" for v in values), active
        )
    return existing


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
