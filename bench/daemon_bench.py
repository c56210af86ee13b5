"""Time a whole nightly sync of many communities against a local OpenSSH server.

Starts a throwaway sshd on 127.0.0.1 (tests/services/sshd.py), creates the
communities (20 by default) with Data Exports on and a term of demo activity,
then times two nights, each a full sync_all over SFTP:

1. a night with new students, courses and enrollment files in every inbound/
   folder, imported through the import engine, and the four exports written;
2. a night where IT sent the same files again: each is skipped by its SHA-256,
   and the exports are written again.

Prints one line per night with seconds, files imported and exports written.
Usage: python bench/daemon_bench.py [--communities N] [--students N] [--db URL]
[--smoke]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from backend.db import open_database, transaction  # noqa: E402
from backend.demo.term_activity import add_activity  # noqa: E402
from backend.imports import service  # noqa: E402
from backend.services import integrations, schools  # noqa: E402
from backend.sync.run import RunRequest, sync_all  # noqa: E402
from backend.sync.settings import (  # noqa: E402
    CommunitySync,
    ServerSettings,
    SyncSettings,
)
from tests.services.sshd import SshdServer  # noqa: E402

KINDS = ("students", "courses", "course_enrollment", "data_exports")


def csv_files(students: int, night: int) -> dict[str, bytes]:
    rng = random.Random(night)
    ids = [f"{1000000 + i * 3:08d}" for i in range(students)]
    people = ["Student ID,First Name,Last Name,Email,SSO ID"]
    # Each night after the first renames 1% of the students.
    people += [
        f"{sid},First{sid[-4:]},Last{sid[-3:]}{'x' * night if i % 100 == 0 else ''},"
        f"s{sid}@bench.edu,s{sid}"
        for i, sid in enumerate(ids)
    ]
    codes = [f"BENCH{number:03d}" for number in range(200)]
    courses = ["Course Code,Course Name,Term"]
    courses += [f"{code},Bench course {code},2026FA" for code in codes]
    courses += [f"NEW{night}{number},New course,2026FA" for number in range(night)]
    enrollment = ["Student ID,Course Code,Term"]
    for sid in ids:
        enrollment += [f"{sid},{code},2026FA" for code in rng.sample(codes, 4)]
    return {
        "students.csv": "\n".join(people).encode() + b"\n",
        "courses.csv": "\n".join(courses).encode() + b"\n",
        "course_enrollment.csv": "\n".join(enrollment).encode() + b"\n",
    }


def set_up(factory, slugs: list[str], students: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        schools.add_school(session, "bench", "Bench University")
        for slug in slugs:
            community = schools.add_community(session, "bench", slug, slug)
            for kind in KINDS:
                integrations.set_enabled(session, community, kind, True)
    providers = "Email,First Name,Last Name,Courses\n" + "\n".join(
        f"tutor{n}@bench.edu,Tutor,Number{n},BENCH*" for n in range(10)
    )
    rng = random.Random(1)
    first_night = csv_files(students, 0)
    for slug in slugs:
        for kind, source, data in (
            ("providers", "custom", providers.encode()),
            ("courses", "sftp", first_night["courses.csv"]),
            ("students", "sftp", first_night["students.csv"]),
        ):
            preview = service.preview_import(factory, slug, kind, source, data, kind)
            service.apply_preview(factory, preview, force=True)
        with transaction(factory) as session:
            add_activity(session, schools.get_community(session, slug), rng)


def drop_files(
    root: Path, base: str, slugs: list[str], files: dict[str, bytes]
) -> None:
    for slug in slugs:
        inbound = root / base / slug / "inbound"
        inbound.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (inbound / name).write_bytes(data)


def night(factory, settings: SyncSettings, label: str) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    records = sync_all(factory, settings, RunRequest("manual"))
    seconds = time.perf_counter() - started
    imported = sum(r.imported for r in records)
    held = sum(r.held for r in records)
    skipped = sum(r.skipped for r in records)
    exports = sum(r.exports_written for r in records)
    failed = [r for r in records if r.status != "ok"]
    print(
        f"{label}: {seconds:.2f} s, {len(records)} communities, {imported} files "
        f"imported, {held} held, {skipped} skipped, {exports} exports written"
    )
    if failed:
        raise SystemExit(
            f"{len(failed)} communities did not sync cleanly: {failed[0].errors}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--smoke", action="store_true", help="2 communities, 200 students"
    )
    args = parser.parse_args()
    if args.smoke:
        args.communities, args.students = 2, 200

    with tempfile.TemporaryDirectory() as folder, SshdServer() as sshd:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        factory = open_database(url)
        slugs = [f"bench-{number:02d}" for number in range(args.communities)]
        set_up(factory, slugs, args.students)
        known_hosts = Path(folder) / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_line() + "\n")
        server = ServerSettings(
            "bench",
            sshd.host,
            sshd.port,
            sshd.username,
            sshd.client_key_path,
            known_hosts,
        )
        settings = SyncSettings(
            communities=tuple(CommunitySync(s, server, f"bench/{s}") for s in slugs),
            settle_seconds=0,
            archive_dir=Path(folder) / "archive",
        )
        backend = url.split(":", 1)[0]
        size = f"{args.students:,} students each"
        print(f"{args.communities} communities, {size}, {backend}")
        files = csv_files(args.students, 1)
        drop_files(sshd.root_dir, "bench", slugs, files)
        night(factory, settings, "night with new files")
        drop_files(sshd.root_dir, "bench", slugs, files)
        night(factory, settings, "night with the same files")
        factory.kw["bind"].dispose()


if __name__ == "__main__":
    main()
