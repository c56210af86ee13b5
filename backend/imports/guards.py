"""Guards that hold an import for review instead of applying it.

An import is held when it would remove more than a share of the existing rows
(10% by default), change more than a share of them (75% by default), or empty
the list. Roster sync tools that schools already use hold changes the same way.
Each community sets its own shares.
"""

from __future__ import annotations

from backend.formats.kinds import KindSpec
from backend.imports.diff import Diff
from backend.models import Community


def _share(part: int, whole: int, what: str) -> str:
    return f"{part:,} of {whole:,} {what} ({100 * part / whole:.1f}%)"


def hold_reason(
    spec: KindSpec, diff: Diff, existing_active: int, community: Community
) -> str | None:
    """Return why the import must be held, in words for staff, or ``None``."""
    if existing_active == 0:
        return None
    what = spec.label.lower()
    file_rows = len(diff.added) + len(diff.changed) + diff.unchanged
    if file_rows == 0:
        return (
            f"The import would remove all {existing_active:,} {what}, emptying the "
            "list. Check that the file is complete, then approve or reject it."
        )
    removed = len(diff.removed)
    limit = community.remove_guard_percent
    if 100 * removed / existing_active > limit:
        return (
            f"The import would remove {_share(removed, existing_active, what)}, "
            f"more than this community's limit of {limit:g}%. Check that the file is "
            "complete, then approve or reject it."
        )
    changed = len(diff.changed)
    limit = community.change_guard_percent
    if 100 * changed / existing_active > limit:
        return (
            f"The import would change {_share(changed, existing_active, what)}, "
            f"more than this community's limit of {limit:g}%. Check that the columns "
            "are the usual ones, then approve or reject it."
        )
    return None
