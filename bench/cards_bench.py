"""Time the card reader path: parsing, queue appends and recorded swipes.

Measures, on this machine:

1. parsing and extracting IDs from MagTek-style swipes (swipes per second);
2. appending swipes to the durable queue, each fsynced (appends per second);
3. recording queued swipes in a database whose roster has N students, from
   match to check-in (swipes per second, and the slowest single swipe).

Usage: python bench/cards_bench.py [--students N] [--swipes N] [--db URL] [--smoke]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.cards import service
from backend.cards.delivery import SwipeDelivery
from backend.cards.layout import check_layout, extract
from backend.cards.queue import SwipeQueue
from backend.cards.service import SwipeEvent
from backend.db import open_database, transaction
from backend.imports import service as imports
from backend.services import integrations, schools

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def swipe_of(student_id: str) -> str:
    number = f"6397{student_id}0001"
    return f"%B{number}^BENCH/STUDENT^2812101?;{number}=2812101?\r"


def set_up(url: str, students: int) -> object:
    factory = open_database(url)
    with transaction(factory) as session:
        schools.add_school(session, "bench", "Bench University")
        community = schools.add_community(session, "bench", "bench-lc", "Bench LC")
        integrations.set_enabled(session, community, "students", True)
        integrations.set_enabled(session, community, "card_readers", True)
        service.save_settings(
            session, community, {"source": "track2", "regex": r"6397(\d{8})\d{4}"}
        )
    rows = ["Student ID,First Name,Last Name,Email,SSO ID"]
    rows += [f"{i:08d},First{i},Last{i},s{i}@bench.edu,s{i}" for i in range(students)]
    data = ("\n".join(rows) + "\n").encode()
    preview = imports.preview_import(
        factory, "bench-lc", "students", "sftp", data, "students.csv"
    )
    imports.apply_preview(factory, preview, force=True)
    return factory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=70_000)
    parser.add_argument("--swipes", type=int, default=2_000)
    parser.add_argument("--db", help="database URL (default: a SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    if args.smoke:
        args.students, args.swipes = 200, 50

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        factory = set_up(url, args.students)
        layout = check_layout({"source": "track2", "regex": r"6397(\d{8})\d{4}"})
        swipes = [swipe_of(f"{i * 7 % args.students:08d}") for i in range(args.swipes)]

        started = time.perf_counter()
        for data in swipes:
            extract(layout, data)
        seconds = time.perf_counter() - started
        print(f"parse: {args.swipes / seconds:,.0f} swipes/s")

        queue = SwipeQueue(Path(folder) / "queue.sqlite3")
        started = time.perf_counter()
        for number, data in enumerate(swipes):
            read_at = START + timedelta(seconds=number * 10)
            queue.append(SwipeEvent.new("bench-lc", "bench", data, read_at))
        seconds = time.perf_counter() - started
        print(f"queue append (fsync): {args.swipes / seconds:,.0f} swipes/s")

        slowest = 0.0
        delivery = SwipeDelivery(queue, lambda: factory)  # type: ignore[arg-type,return-value]
        started = time.perf_counter()
        for entry in queue.pending(limit=args.swipes):
            one = time.perf_counter()
            delivery._deliver_one(entry)
            slowest = max(slowest, time.perf_counter() - one)
        seconds = time.perf_counter() - started
        print(
            f"record with {args.students:,} students: {args.swipes / seconds:,.0f} "
            f"swipes/s, slowest {slowest * 1000:.1f} ms"
        )
        queue.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
