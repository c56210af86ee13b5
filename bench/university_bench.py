"""Time a university-sized nightly feed end to end, against two baselines.

Generates a synthetic university (70,000 students, 3,000 courses, 350,000
enrollment rows and 70,000 student metadata rows of 12 fields by default). Its
next night has churn: 1% of students changed, 0.5% new, 0.5% gone, 2% of
enrollments dropped and 2% added. Then, on SQLite and on a private PostgreSQL
server (tests/services/postgres.py), it times:

- preview (parse, validate, diff) and apply of each file, first import and
  next night, each step in a fresh child process so that its peak resident
  memory is its own;
- on SQLite, the time from a finished diff to the first painted line of the
  console's preview table, for the next-night enrollment diff and for a diff
  of 100,000 changed enrollment rows;
- a whole nightly daemon run of 20 communities against a local sshd
  (bench/daemon_bench.py);
- ``penji-tui --help`` and console start-up until the Schools screen shows rows.

Baselines from the same run and the same files: Python's ``csv`` module reading
each file and doing nothing else (the floor), and csv-diff diffing the two
nights of each file that has a one-column key.

Usage: python bench/university_bench.py [--students N] [--no-postgres] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

COURSES_PER_STUDENT = 5
METADATA_FIELDS = (
    "Year in School",
    "Major",
    "Minor",
    "College",
    "Advisor",
    "Cohort",
    "Residency",
    "Athlete",
    "First Generation",
    "Honors",
    "Credits Earned",
    "Expected Graduation",
)
KINDS = ("courses", "students", "course_enrollment", "student_metadata")
# csv-diff takes one key column; course_enrollment is keyed on two columns.
CSV_DIFF_KEYS = {
    "courses": "Course Code",
    "students": "Student ID",
    "student_metadata": "Student ID",
}
PAINT_CHANGES = 100_000


# --- Files ---------------------------------------------------------------


def _student_line(sid: str, last: str) -> str:
    return f"{sid},First{sid[-4:]},{last},s{sid}@bench.edu,s{sid}"


def _metadata_line(sid: str, rng: random.Random) -> str:
    values = [
        rng.choice(("Freshman", "Sophomore", "Junior", "Senior")),
        f"Major {rng.randrange(80)}",
        rng.choice(("", f"Minor {rng.randrange(40)}")),
        f"College {rng.randrange(12)}",
        f"Advisor {rng.randrange(400)}",
        str(2022 + rng.randrange(5)),
        rng.choice(("In state", "Out of state", "International")),
        rng.choice(("Yes", "No")),
        rng.choice(("Yes", "No")),
        rng.choice(("Yes", "No")),
        str(rng.randrange(140)),
        f"{2026 + rng.randrange(4)}SP",
    ]
    return sid + "," + ",".join(values)


def make_files(students: int, courses: int) -> dict[str, list[str]]:
    """Build both nights of each file as lists of lines, header first."""
    rng = random.Random(70_000)
    ids = [f"{1_000_000 + i * 3:08d}" for i in range(students)]
    codes = [f"BENCH{number:04d}" for number in range(courses)]

    course_lines = ["Course Code,Course Name,Term"]
    course_lines += [f"{code},Bench course {code[5:]},2026FA" for code in codes]

    # Each student is kept, changed, or gone by the next night.
    gone = set(rng.sample(range(students), students // 200))
    changed = set(rng.sample(range(students), students // 100)) - gone
    new_ids = [f"{9_000_000 + i:08d}" for i in range(students // 200)]

    students_1 = ["Student ID,First Name,Last Name,Email,SSO ID"]
    students_2 = [students_1[0]]
    metadata_1 = ["Student ID," + ",".join(METADATA_FIELDS)]
    metadata_2 = [metadata_1[0]]
    enrollment_1 = ["Student ID,Course Code,Term,Meeting Days,Meeting Time"]
    enrollment_2 = [enrollment_1[0]]
    for i, sid in enumerate(ids):
        line = _student_line(sid, f"Last{sid[-3:]}")
        students_1.append(line)
        metadata = _metadata_line(sid, rng)
        metadata_1.append(metadata)
        taken = rng.sample(codes, COURSES_PER_STUDENT)
        rows = [f"{sid},{code},2026FA,MWF,8-9" for code in taken]
        enrollment_1 += rows
        if i in gone:
            continue
        if i in changed:
            students_2.append(_student_line(sid, f"Changed{sid[-3:]}"))
            metadata_2.append(_metadata_line(sid, rng))
        else:
            students_2.append(line)
            metadata_2.append(metadata)
        for row in rows:
            # 2% of enrollments are dropped and as many added.
            if rng.random() < 0.02:
                code = rng.choice([c for c in codes if c not in taken])
                taken.append(code)
                row = f"{sid},{code},2026FA,TTH,9-10"
            enrollment_2.append(row)
    for sid in new_ids:
        students_2.append(_student_line(sid, "New"))
        metadata_2.append(_metadata_line(sid, rng))
        enrollment_2 += [
            f"{sid},{code},2026FA,MWF,8-9"
            for code in rng.sample(codes, COURSES_PER_STUDENT)
        ]

    # A next-night enrollment file that changes the meeting time of many rows,
    # for the preview table's first paint on a large diff.
    many = min(PAINT_CHANGES, len(enrollment_1) - 1)
    paint = [enrollment_1[0]]
    paint += [
        line[: -len("MWF,8-9")] + "TTH,1-2" for line in enrollment_1[1 : many + 1]
    ]
    paint += enrollment_1[many + 1 :]
    return {
        "courses-1": course_lines,
        "courses-2": course_lines,
        "students-1": students_1,
        "students-2": students_2,
        "course_enrollment-1": enrollment_1,
        "course_enrollment-2": enrollment_2,
        "student_metadata-1": metadata_1,
        "student_metadata-2": metadata_2,
        "paint": paint,
    }


def child_files(folder: str, students: str, courses: str) -> dict[str, Any]:
    """Write the files; a child does it so the parent's memory stays small.

    Linux carries a process's peak resident memory across exec, so every step
    started from a parent holding the files would report the parent's peak.
    """
    paths = {}
    for name, lines in make_files(int(students), int(courses)).items():
        path = Path(folder) / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[name] = str(path)
    return paths


# --- Child processes -------------------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(db_url: str, kind: str, path: str, apply: str) -> dict[str, Any]:
    """Preview a file, and apply it when ``apply`` is "apply"."""
    from backend.db import open_database
    from backend.imports import service

    factory = open_database(db_url)
    data = Path(path).read_bytes()
    started, cpu = time.perf_counter(), time.process_time()
    preview = service.preview_import(factory, "bench", kind, "sftp", data, path)
    figures: dict[str, Any] = {
        "preview": time.perf_counter() - started,
        "preview_cpu": time.process_time() - cpu,
        "preview_peak_mb": peak_mb(),
        "counts": preview.counts,
        "errors": preview.parsed.errors.total,
    }
    # The same preview again in this process, as the daemon and the console
    # run it: the ORM's statements are compiled by then. It writes no roster
    # row, and the first preview is the one applied.
    warm = []
    for _ in range(WARM_RUNS):
        started = time.perf_counter()
        service.preview_import(factory, "bench", kind, "sftp", data, path)
        warm.append(time.perf_counter() - started)
    figures["preview_warm"] = statistics.median(warm)
    if apply == "apply":
        started, cpu = time.perf_counter(), time.process_time()
        run = service.apply_preview(factory, preview, force=True)
        figures["apply"] = time.perf_counter() - started
        figures["apply_cpu"] = time.process_time() - cpu
        figures["status"] = run.status
    figures["peak_mb"] = peak_mb()
    return figures


FLOOR_RUNS = 5
CSV_DIFF_RUNS = 3
WARM_RUNS = 3
PAINT_RUNS = 3


def child_csv_read(path: str) -> dict[str, Any]:
    """Read every record with the ``csv`` module and keep nothing: the floor.

    The median of ``FLOOR_RUNS`` reads, so that one slow read on a shared
    machine does not set every ratio.
    """
    import csv

    times = []
    for _ in range(FLOOR_RUNS):
        started = time.perf_counter()
        with open(path, newline="", encoding="utf-8") as handle:
            for _ in csv.reader(handle):
                pass
        times.append(time.perf_counter() - started)
    return {"seconds": statistics.median(times), "peak_mb": peak_mb()}


def child_csv_diff(first: str, second: str, key: str) -> dict[str, Any]:
    """Diff two files with csv-diff, keyed on one column, as its CLI does."""
    from csv_diff import compare, load_csv

    times = []
    for _ in range(CSV_DIFF_RUNS):
        started = time.perf_counter()
        with (
            open(first, newline="", encoding="utf-8") as before,
            open(second, newline="", encoding="utf-8") as after,
        ):
            result = compare(load_csv(before, key=key), load_csv(after, key=key))
        times.append(time.perf_counter() - started)
    return {
        "seconds": statistics.median(times),
        "peak_mb": peak_mb(),
        "changes": sum(len(v) for v in result.values()),
    }


def child_paint(db_url: str, path: str) -> dict[str, Any]:
    """Preview an enrollment file, then time the preview table's first paint.

    The clock starts when the diff is ready and covers what the import screen
    does next: building the table's rows and pushing the preview screen, until
    the virtual table draws its first line.
    """
    import asyncio

    from textual_fastdatatable import DataTable as FastTable

    from backend.db import open_database
    from backend.imports import service
    from penji_tui.app import PenjiApp
    from screens import preview_table
    from screens.preview import PreviewScreen

    factory = open_database(db_url)
    data = Path(path).read_bytes()
    preview = service.preview_import(
        factory, "bench", "course_enrollment", "sftp", data, path
    )
    painted: list[float] = []
    render_line = FastTable.render_line

    def timed_render_line(self: FastTable, y: int) -> Any:
        if not painted:
            painted.append(time.perf_counter())
        return render_line(self, y)

    async def measure() -> list[float]:
        app = PenjiApp(factory)
        times = []
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            # The console branch builds a lazy index; older code an Arrow table.
            build: Callable[[Any], Any] = getattr(
                preview_table, "ChangeRows", None
            ) or getattr(preview_table, "build_change_table", None)
            for _ in range(PAINT_RUNS):
                painted.clear()
                FastTable.render_line = timed_render_line  # type: ignore[method-assign]
                started = time.perf_counter()
                await app.push_screen(PreviewScreen(preview, build(preview)))
                while not painted:
                    await asyncio.sleep(0.001)
                FastTable.render_line = render_line  # type: ignore[method-assign]
                times.append(painted[0] - started)
                await app.pop_screen()
                await pilot.pause()
        return times

    seconds = statistics.median(asyncio.run(measure()))
    diff = preview.diff
    assert diff is not None
    changes = len(diff.added) + len(diff.changed) + len(diff.removed)
    return {"seconds": seconds, "changes": changes, "peak_mb": peak_mb()}


def child_console(db_url: str) -> dict[str, Any]:
    """Start the console headless; report the wall clock when Schools has rows."""
    import asyncio

    from textual.widgets import DataTable

    from backend.db import open_database
    from penji_tui.app import PenjiApp

    async def run() -> None:
        app = PenjiApp(open_database(db_url))
        async with app.run_test(size=(120, 40)) as pilot:
            while True:
                tables = app.screen.query("#schools")
                if tables and tables.first(DataTable).row_count:
                    return
                await pilot.pause(0.001)

    asyncio.run(run())
    return {"ready_at": time.time()}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "files": child_files,
    "import": child_import,
    "csv": child_csv_read,
    "csvdiff": child_csv_diff,
    "paint": child_paint,
    "console": child_console,
}


def run_child(name: str, *arguments: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"bench step {name} {arguments} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Steps -----------------------------------------------------------------


def rows_in(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def prepare_database(db_url: str) -> None:
    from backend.db import open_database, transaction
    from backend.services import integrations, schools

    factory = open_database(db_url)
    with transaction(factory) as session:
        schools.add_school(session, "bench", "Bench University")
        community = schools.add_community(session, "bench", "bench", "Bench")
        for kind in KINDS:
            integrations.set_enabled(session, community, kind, True)
    factory.kw["bind"].dispose()


def import_night(
    db_url: str, paths: dict[str, Path], night: int, floors: dict[str, float]
) -> None:
    label = "first import" if night == 1 else "next night"
    for kind in KINDS:
        path = paths[f"{kind}-{night}"]
        # One child previews and applies; the peak is taken before the apply.
        step = run_child("import", db_url, kind, str(path), "apply")
        if step["errors"]:
            raise SystemExit(f"{path.name}: the generated file has errors")
        if step["status"] != "applied":
            raise SystemExit(f"{path.name}: the import was {step['status']}")
        ratio = step["preview"] / floors[path.name]
        warm_ratio = step["preview_warm"] / floors[path.name]
        print(
            f"  {kind + ' ' + label:<32} {rows_in(path):>9,} "
            f"{step['preview']:>8.2f} {step['preview_cpu']:>8.2f} {ratio:>6.1f}x "
            f"{step['preview_warm']:>6.2f} {warm_ratio:>6.1f}x "
            f"{step['apply']:>8.2f} {step['apply_cpu']:>8.2f} "
            f"{step['preview_peak_mb']:>7.0f} {step['peak_mb']:>7.0f}"
        )


def bench_database(
    db_url: str, paths: dict[str, Path], floors: dict[str, float], paint: bool
) -> None:
    prepare_database(db_url)
    print(
        f"  {'step':<32} {'rows':>9} {'preview':>8} {'cpu':>8} {'/csv':>7} "
        f"{'warm':>6} {'/csv':>7} {'apply':>8} {'cpu':>8} {'peak MB':>7} "
        f"{'+apply':>7}"
    )
    started = time.perf_counter()
    import_night(db_url, paths, 1, floors)
    if paint:
        # Both diffs are against the first night, before the next is applied.
        for name, label in (
            ("course_enrollment-2", "next-night enrollment diff"),
            ("paint", "diff of many changed enrollments"),
        ):
            figures = run_child("paint", db_url, str(paths[name]))
            print(
                f"  preview table first paint (median of {PAINT_RUNS}), {label} "
                f"({figures['changes']:,} changes): {figures['seconds']:.3f} s"
            )
    import_night(db_url, paths, 2, floors)
    print(f"  all steps: {time.perf_counter() - started:.1f} s wall")


def bench_baselines(paths: dict[str, Path]) -> dict[str, float]:
    """Print the csv floor of each file and csv-diff of each night pair."""
    floors = {}
    print(f"csv module reading each file (the floor), median of {FLOOR_RUNS}, seconds:")
    for name, path in paths.items():
        if name == "paint":
            continue
        figures = run_child("csv", str(path))
        floors[path.name] = figures["seconds"]
        print(f"  {path.name:<32} {figures['seconds']:>8.3f}")
    print(f"csv-diff of the two nights, median of {CSV_DIFF_RUNS}, seconds:")
    for kind, key in CSV_DIFF_KEYS.items():
        first, second = paths[f"{kind}-1"], paths[f"{kind}-2"]
        figures = run_child("csvdiff", str(first), str(second), key)
        floors[f"csvdiff-{kind}"] = figures["seconds"]
        print(
            f"  {kind:<32} {figures['seconds']:>8.2f} "
            f"({figures['changes']:,} changes, peak {figures['peak_mb']:.0f} MB)"
        )
    return floors


def bench_daemon(db_url: str | None, communities: int, students: int) -> None:
    command = [
        sys.executable,
        str(REPO_ROOT / "bench" / "daemon_bench.py"),
        "--communities",
        str(communities),
        "--students",
        str(students),
    ]
    if db_url:
        command += ["--db", db_url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"daemon bench failed:\n{result.stderr}")
    for line in result.stdout.splitlines():
        print(f"  daemon: {line}")


def penji_tui_command() -> list[str]:
    script = Path(sys.executable).parent / "penji-tui"
    if script.exists():
        return [str(script)]
    found = shutil.which("penji-tui")
    if found is None:
        raise SystemExit("penji-tui is not installed: pip install -e . first")
    return [found]


def bench_startup(db_url: str, runs: int) -> None:
    command = [*penji_tui_command(), "--help"]
    helps = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        helps.append(time.perf_counter() - started)
    readies = []
    for _ in range(runs):
        started = time.time()
        readies.append(run_child("console", db_url)["ready_at"] - started)
    print(
        f"penji-tui --help: median {statistics.median(helps):.3f} s, "
        f"min {min(helps):.3f} s of {runs} runs"
    )
    print(
        f"console ready (Schools shows rows): median "
        f"{statistics.median(readies):.3f} s, min {min(readies):.3f} s of {runs} runs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=70_000)
    parser.add_argument("--courses", type=int, default=3_000)
    parser.add_argument("--communities", type=int, default=20, help="daemon run")
    parser.add_argument("--no-postgres", action="store_true", help="bench SQLite only")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1,000 students, 100 courses, SQLite only, 2 daemon communities",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *arguments = args.child
        print(json.dumps(CHILDREN[name](*arguments)))
        return 0
    if args.smoke:
        args.students, args.courses, args.communities = 1_000, 100, 2
        args.no_postgres = True

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{args.students:,} students, {args.courses:,} courses, "
        f"{args.students * COURSES_PER_STUDENT:,} enrollment rows, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    with tempfile.TemporaryDirectory(prefix="penji-bench-") as folder:
        written = run_child("files", folder, str(args.students), str(args.courses))
        paths = {name: Path(path) for name, path in written.items()}
        floors = bench_baselines(paths)
        print(
            "SQLite (seconds; /csv is a preview over the csv floor; warm is the median "
            f"of {WARM_RUNS} repeats)"
        )
        sqlite_url = f"sqlite:///{folder}/bench.db"
        bench_database(sqlite_url, paths, floors, paint=True)
        daemon_students = 200 if args.smoke else 2_000
        bench_daemon(None, args.communities, daemon_students)
        if not args.no_postgres:
            from tests.services.postgres import PostgresServer

            with PostgresServer() as server:
                print(
                    "PostgreSQL (seconds; /csv is a preview over the csv floor; "
                    f"warm is the median of {WARM_RUNS} repeats)"
                )
                url = server.create_database("bench")
                bench_database(url, paths, floors, paint=False)
                daemon_url = server.create_database("daemon")
                bench_daemon(daemon_url, args.communities, daemon_students)
        bench_startup(sqlite_url, 3 if args.smoke else 7)
    return 0


if __name__ == "__main__":
    sys.exit(main())
