"""The local archive of downloaded inbound files, kept for a number of days."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)


def archive_file(
    archive_dir: Path, slug: str, name: str, data: bytes, sha256: str, at: datetime
) -> Path:
    """Write ``data`` to ``archive_dir/SLUG/YYYY-MM-DD/HHMMSSZ-SHA-NAME`` durably.

    The file is written under a temporary name, flushed to disk and renamed, so
    the archive never contains a partial file.
    """
    folder = archive_dir / slug / f"{at:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{at:%H%M%SZ}-{sha256[:12]}-{name}"
    temp = path.with_name(f".{path.name}.tmp")
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def prune_archive(archive_dir: Path, slug: str, keep_days: int, now: datetime) -> int:
    """Delete the day folders of ``slug`` older than ``keep_days``; return how many."""
    root = archive_dir / slug
    if keep_days <= 0 or not root.is_dir():
        return 0
    oldest_kept = (now - timedelta(days=keep_days)).date().isoformat()
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and len(folder.name) == 10 and folder.name < oldest_kept:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log.info("pruned %d archive folders of %s", removed, slug)
    return removed
