"""The difference between an import file and the stored rows it would replace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from backend.formats.parse import ParsedFile
from backend.imports.rows import ExistingRows, Row


@dataclass
class Diff:
    """Keys of the rows an import adds, changes and removes.

    ``reactivated`` keys are in ``added`` too: inactive stored rows that the file
    brings back. ``replaced`` maps keys of rows from the other source that this
    import replaces, such as manually uploaded enrollments, to their values.
    """

    fields: tuple[str, ...]
    added: list[str] = field(default_factory=list)
    reactivated: set[str] = field(default_factory=set)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    replaced: dict[str, Row] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
            "replaced": len(self.replaced),
        }


def compute_diff(
    parsed: ParsedFile, existing: ExistingRows, replaced: ExistingRows | None = None
) -> Diff:
    """Compare the file's rows with the active and inactive stored rows."""
    diff = Diff(fields=existing.fields)
    stored = existing.rows
    added, changed = diff.added, diff.changed
    unchanged = 0
    width = len(existing.fields)
    if len(parsed.fields) < width:
        # Fields stored but missing from this file read as empty.
        for key, values in parsed.rows.items():
            if len(values) < width:
                parsed.rows[key] = values + ("",) * (width - len(values))
    for key, values in parsed.rows.items():
        row = stored.get(key)
        if row is None:
            added.append(key)
        elif not row.active:
            added.append(key)
            diff.reactivated.add(key)
        elif row.values != values:
            changed.append(key)
        else:
            unchanged += 1
    diff.unchanged = unchanged
    # The set difference runs in C; the list keeps the stored rows' order.
    missing = stored.keys() - parsed.rows.keys()
    if missing:
        diff.removed = [key for key in stored if key in missing and stored[key].active]
    if replaced is not None:
        diff.replaced = {
            key: row.values for key, row in replaced.rows.items() if row.active
        }
    return diff


@dataclass(frozen=True)
class FieldChange:
    """One field of a changed row, with its old and new value."""

    field: str
    old: str
    new: str


def changed_fields(
    fields: tuple[str, ...], old: Row, new: Row
) -> Iterator[FieldChange]:
    """Yield the fields whose values differ between ``old`` and ``new``."""
    for name, before, after in zip(fields, old, new, strict=True):
        if before != after:
            yield FieldChange(name, before, after)
