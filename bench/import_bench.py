"""Time the preview and apply of a university-sized students and enrollment file.

Generates a students file (70,000 rows by default) and an enrollment file (five
courses a student: 350,000 rows), then for each file runs, in a fresh child
process so that peak memory is the step's own:

1. preview of the first import (parse, validate, diff against an empty table);
2. apply of the first import;
3. preview of the next night's file (1% changed, 0.5% gone, 0.5% new);
4. apply of the next night's file.

Prints one line per step with seconds and the child's peak resident memory.
Usage: python bench/import_bench.py [--students N] [--db URL] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COURSES = 3000
COURSES_PER_STUDENT = 5


def write_files(folder: Path, students: int) -> dict[str, Path]:
    rng = random.Random(70000)
    ids = [f"{1000000 + i * 3:08d}" for i in range(students)]
    first = ["Student ID,First Name,Last Name,Email,SSO ID"]
    first += [
        f"{sid},First{sid[-4:]},Last{sid[-3:]},s{sid}@bench.edu,s{sid}" for sid in ids
    ]
    enrollment = ["Student ID,Course Code,Term,Meeting Days,Meeting Time"]
    for sid in ids:
        for course in rng.sample(range(COURSES), COURSES_PER_STUDENT):
            enrollment.append(f"{sid},BENCH{course:04d},2026FA,MWF,8-9")

    next_students = [first[0]]
    for line in first[1:]:
        roll = rng.random()
        if roll < 0.005:
            continue
        if roll < 0.015:
            line = line.replace(",Last", ",Changed")
        next_students.append(line)
    extra = [f"{9000000 + i:08d}" for i in range(students // 200)]
    next_students += [f"{sid},New,Student,n{sid}@bench.edu,n{sid}" for sid in extra]
    next_enrollment = [enrollment[0]]
    for line in enrollment[1:]:
        if rng.random() < 0.02:
            sid = line.split(",")[0]
            course = rng.randrange(COURSES)
            line = f"{sid},BENCH{course:04d}-NEW,2026FA,TTH,9-10"
        next_enrollment.append(line)

    files = {
        "students-1": first,
        "students-2": next_students,
        "course_enrollment-1": enrollment,
        "course_enrollment-2": next_enrollment,
    }
    paths = {}
    for name, lines in files.items():
        path = folder / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[name] = path
    return paths


def child(db_url: str, kind: str, path: str, apply: bool) -> None:
    """Run one step in this process and print its figures as JSON."""
    from backend.db import open_database
    from backend.imports import service

    factory = open_database(db_url)
    data = Path(path).read_bytes()
    started = time.perf_counter()
    preview = service.preview_import(
        factory, "bench", kind, "sftp", data, Path(path).name
    )
    previewed = time.perf_counter() - started
    applied = None
    if apply:
        started = time.perf_counter()
        run = service.apply_preview(factory, preview, force=True)
        applied = time.perf_counter() - started
        assert run.status == "applied", run.status
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "preview": previewed,
                "apply": applied,
                "counts": preview.counts,
                "peak_mb": peak_mb,
                "errors": preview.parsed.errors.total,
            }
        )
    )


def run_child(db_url: str, kind: str, path: Path, apply: bool) -> dict:
    command = [sys.executable, __file__, "--child", db_url, kind, str(path)]
    if apply:
        command.append("--apply")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def prepare_database(db_url: str) -> None:
    from backend.db import open_database, transaction
    from backend.services import integrations, schools

    factory = open_database(db_url)
    with transaction(factory) as session:
        schools.add_school(session, "bench", "Bench University")
        community = schools.add_community(session, "bench", "bench", "Bench")
        for kind in ("students", "courses", "course_enrollment"):
            integrations.set_enabled(session, community, kind, True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=70000)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="2,000 students, for CI")
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "KIND", "FILE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--apply", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, apply=args.apply)
        return 0

    students = 2000 if args.smoke else args.students
    with tempfile.TemporaryDirectory(prefix="penji-bench-") as folder:
        db_url = args.db or f"sqlite:///{folder}/bench.db"
        paths = write_files(Path(folder), students)
        prepare_database(db_url)
        enrollments = students * COURSES_PER_STUDENT
        backend = db_url.split(":")[0]
        print(f"{students:,} students, {enrollments:,} enrollment rows, {backend}")
        print(
            f"{'step':<34} {'rows':>9} {'preview s':>10} {'apply s':>9} {'peak MB':>8}"
        )
        for kind in ("students", "course_enrollment"):
            for night in (1, 2):
                path = paths[f"{kind}-{night}"]
                rows = sum(1 for _ in path.open()) - 1
                dry = run_child(db_url, kind, path, apply=False)
                wet = run_child(db_url, kind, path, apply=True)
                if dry["errors"] or wet["errors"]:
                    print(
                        f"{path.name}: the generated file has errors", file=sys.stderr
                    )
                    return 1
                label = f"{kind} {'first import' if night == 1 else 'next night'}"
                figures = f"{dry['preview']:>10.2f} {wet['apply']:>9.2f}"
                print(f"{label:<34} {rows:>9,} {figures} {dry['peak_mb']:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
