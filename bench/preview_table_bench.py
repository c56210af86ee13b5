"""Time to first paint of the import preview table for a large diff.

Loads N students (100,000 by default) into a temporary SQLite database, previews
a file that changes the last name of every one of them, then measures, in a
headless console of 120x40:

- the diff: ``preview_import`` (parse, load stored rows, compare);
- the change index: listing every change without formatting any;
- first paint: from pushing the preview screen until the virtual table has
  drawn its first line (the worker that measures columns included);
- scrolling: the mean time to draw every line of the table after a page down.

Run: ``.venv/bin/python bench/preview_table_bench.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from textual_fastdatatable import DataTable as FastTable

from backend.db import open_database, transaction
from backend.imports import service
from backend.services import integrations, schools
from penji_tui.app import PenjiApp
from screens.preview import PreviewScreen
from screens.preview_table import ChangeRows

first_paint: list[float] = []
original_render_line = FastTable.render_line


def timed_render_line(self: FastTable, y: int):  # type: ignore[no-untyped-def]
    if not first_paint:
        first_paint.append(time.perf_counter())
    return original_render_line(self, y)


def students_csv(count: int, last_name: str) -> bytes:
    lines = ["Email,First Name,Last Name,SSO ID,Student ID"]
    lines += [f"s{i}@uni.edu,First{i},{last_name},sso{i},{i:07d}" for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


def make_community(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        schools.add_school(session, "uni", "University")
        community = schools.add_community(session, "uni", "lc", "Learning Center")
        integrations.set_enabled(session, community, "students", True)


async def measure(app: PenjiApp, screen: PreviewScreen) -> tuple[float, float]:
    """Return seconds to first paint, and mean seconds to draw a page after a scroll."""
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        FastTable.render_line = timed_render_line  # type: ignore[method-assign]
        start = time.perf_counter()
        await app.push_screen(screen)
        while not first_paint:
            await asyncio.sleep(0.001)
        paint = first_paint[0] - start
        FastTable.render_line = original_render_line  # type: ignore[method-assign]
        await app.workers.wait_for_complete()
        await pilot.pause()

        # Draw each line of the table after each page down, as a repaint does;
        # rows scrolled into view are formatted then, not before.
        table = screen.query_one("#change-table", FastTable)
        height = table.size.height
        pages = 100
        start = time.perf_counter()
        for _ in range(pages):
            table.action_page_down()
            table._line_cache.clear()
            for y in range(height):
                table.render_line(y)
        page = (time.perf_counter() - start) / pages
    return paint, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows

    folder = Path(tempfile.mkdtemp(prefix="penji-bench-"))
    factory = open_database(f"sqlite:///{folder / 'bench.db'}")
    make_community(factory)
    print(f"loading {rows:,} students...")
    first = service.preview_import(
        factory, "lc", "students", "sftp", students_csv(rows, "Doe"), "first.csv"
    )
    service.apply_preview(factory, first, force=True)

    data = students_csv(rows, "Renamed")
    start = time.perf_counter()
    preview = service.preview_import(factory, "lc", "students", "sftp", data, "s.csv")
    diff_time = time.perf_counter() - start
    print(f"diff: {preview.counts['changed']:,} changed rows in {diff_time:.2f} s")

    start = time.perf_counter()
    changes = ChangeRows(preview)
    index = time.perf_counter() - start
    print(f"change index: {len(changes.entries):,} rows in {index:.3f} s")

    app = PenjiApp(factory)
    paint, page = asyncio.run(measure(app, PreviewScreen(preview, changes)))
    print(f"first paint after pushing the preview screen: {paint:.3f} s")
    print(f"time to first paint after the diff: {index + paint:.3f} s")
    print(f"drawing one page after page down: {page * 1000:.1f} ms")


if __name__ == "__main__":
    main()
