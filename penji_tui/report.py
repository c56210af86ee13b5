"""Plain-text and JSON summaries of an import, for the command line."""

from __future__ import annotations

from typing import Any

from backend.imports.diff import changed_fields
from backend.imports.service import Preview
from backend.models import ImportRun

SHOWN_CHANGES = 20


def preview_json(preview: Preview, run: ImportRun | None = None) -> dict[str, Any]:
    """Build the object ``import --json`` prints."""
    parsed = preview.parsed
    status = run.status if run is not None else preview.status
    return {
        "status": status,
        "run_id": preview.run_id,
        "kind": preview.spec.name,
        "source": preview.source,
        "community": preview.community_slug,
        "file": parsed.file_name,
        "sha256": preview.sha256,
        "counts": run.counts if run is not None else preview.counts,
        "hold_reason": run.hold_reason if run is not None else preview.hold_reason,
        "errors": [p.as_dict() for p in parsed.errors.items],
        "warnings": [p.as_dict() for p in parsed.warnings.items],
        "errors_omitted": parsed.errors.omitted,
        "warnings_omitted": parsed.warnings.omitted,
    }


def _counts_line(counts: dict[str, int]) -> str:
    names = ("added", "changed", "removed", "unchanged")
    parts = [f"{name} {counts.get(name, 0):,}" for name in names]
    if counts.get("replaced"):
        parts.append(f"replaced from the other source {counts['replaced']:,}")
    return ", ".join(parts)


def preview_text(preview: Preview, run: ImportRun | None = None) -> str:
    """Describe an import: status, counts, first changes, errors and warnings."""
    parsed = preview.parsed
    status = run.status if run is not None else preview.status
    counts = run.counts if run is not None else preview.counts
    out = [
        f"{parsed.file_name}: {preview.spec.label} ({preview.source}) for "
        f"{preview.community_slug}, run {preview.run_id}: {status}",
    ]

    if preview.diff is not None:
        out.append(f"  {_counts_line(counts)}")
    reason = run.hold_reason if run is not None else None
    if status == "held" and reason:
        out.append(f"  held: {reason}")
        out.append(
            f"  approve with 'penji-tui imports approve {preview.run_id}', or reject "
            f"with 'penji-tui imports reject {preview.run_id}'"
        )
    elif status == "previewed" and preview.hold_reason:
        out.append(f"  would be held: {preview.hold_reason}")
    out.extend(change_summary(preview))

    for title, problems in (("errors", parsed.errors), ("warnings", parsed.warnings)):
        if not problems:
            continue
        out.append(f"{title} ({problems.total:,}):")
        out.extend(f"  {p.describe(parsed.file_name)}" for p in problems.items[:50])
        hidden = problems.total - min(50, len(problems.items))
        if hidden:
            out.append(f"  ... and {hidden:,} more")

    if status == "rejected":
        out.append("nothing was written; fix the file and import it again")
    return "\n".join(out)


def change_summary(preview: Preview) -> list[str]:
    """List the first added, changed and removed rows, changed fields as old -> new."""
    diff = preview.diff
    if diff is None:
        return []
    fields = diff.fields
    rows = preview.parsed.rows
    out: list[str] = []

    for key in diff.added[:SHOWN_CHANGES]:
        values = ", ".join(
            f"{n}={v}" for n, v in zip(fields, rows[key], strict=True) if v
        )
        out.append(f"  + {key}  {values}")
    for key in diff.changed[:SHOWN_CHANGES]:
        old = preview.old.get(key)
        if old is None:
            out.append(f"  ~ {key}")
            continue
        changes = "; ".join(
            f"{c.field}: {c.old!r} -> {c.new!r}"
            for c in changed_fields(fields, old, rows[key])
        )
        out.append(f"  ~ {key}  {changes}")
    for key in diff.removed[:SHOWN_CHANGES]:
        out.append(f"  - {key}")
    for key in list(diff.replaced)[:SHOWN_CHANGES]:
        out.append(f"  - {key}  (from the other source, replaced)")

    sizes = (len(diff.added), len(diff.changed), len(diff.removed), len(diff.replaced))
    total = sum(sizes)
    shown = sum(min(SHOWN_CHANGES, size) for size in sizes)
    if total > shown:
        out.append(f"  ... {total - shown:,} more changes; see them in the console")
    return out
