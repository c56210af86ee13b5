"""The nightly run against a real OpenSSH server: imports, exports and records."""

from __future__ import annotations

import csv
import io
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import leases
from backend.db import transaction
from backend.models import AuditEvent, ImportRun, Student, SyncRun
from backend.services import integrations, schools
from backend.sync.remote import RemoteFolder
from backend.sync.run import RunRequest, lease_name, sync_all
from tests.daemon.activity import add_activity
from tests.daemon.conftest import SettingsFactory, community_root, drop
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services.sshd import SshdServer

COURSES = b"Course Code,Course Name,Term\nCHEM1301,Chemistry,2026FA\n"


def _run(factory: sessionmaker[Session], settings, **kwargs) -> list[SyncRun]:
    return sync_all(factory, settings, RunRequest("manual", **kwargs))


def _runs(factory: sessionmaker[Session], slug: str, kind: str) -> list[ImportRun]:
    with factory() as session:
        community = schools.get_community(session, slug)
        return list(
            session.scalars(
                select(ImportRun)
                .where(ImportRun.community_id == community.id, ImportRun.kind == kind)
                .order_by(ImportRun.id)
            )
        )


def _turn_on_exports(factory: sessionmaker[Session], slug: str) -> None:
    with transaction(factory) as session:
        community = schools.get_community(session, slug)
        integrations.set_enabled(session, community, "data_exports", True)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_nightly_run_two_communities(
    factory: sessionmaker[Session], sshd: SshdServer, make_settings: SettingsFactory
) -> None:
    make_community(factory, "lc", "uni")
    make_community(factory, "wc", "uni")
    for slug in ("lc", "wc"):
        _turn_on_exports(factory, slug)
        add_activity(factory, slug, sessions=3)
    settings = make_settings("lc", "wc")
    drop(
        sshd, settings, "lc", "students.csv", csv_bytes(STUDENT_HEADER, student_rows(5))
    )
    drop(sshd, settings, "lc", "courses.csv", COURSES)
    drop(
        sshd, settings, "wc", "students.csv", csv_bytes(STUDENT_HEADER, student_rows(7))
    )

    records = _run(factory, settings)

    assert [r.status for r in records] == ["ok", "ok"]
    assert [r.imported for r in records] == [2, 1]
    assert [r.exports_written for r in records] == [4, 4]
    assert [run.status for run in _runs(factory, "lc", "students")] == ["applied"]
    assert [run.status for run in _runs(factory, "wc", "students")] == ["applied"]
    with factory() as session:
        counts = {
            slug: len(
                session.scalars(
                    select(Student).where(
                        Student.community_id == schools.get_community(session, slug).id
                    )
                ).all()
            )
            for slug in ("lc", "wc")
        }
        audit_actions = set(session.scalars(select(AuditEvent.action)))
    assert counts == {"lc": 5, "wc": 7}
    assert {"import.apply", "sync.run"} <= audit_actions
    for slug in ("lc", "wc"):
        root = community_root(sshd, settings, slug)
        assert list((root / "inbound").iterdir()) == []
        assert sorted(p.name for p in (root / "outbound").iterdir()) == [
            "drop_in_check_ins.csv",
            "sessions.csv",
            "student_sign_ups.csv",
            "tutor_sign_ups.csv",
        ]
        assert len(_csv_rows(root / "outbound" / "sessions.csv")) == 3
        assert len(_csv_rows(root / "outbound" / "student_sign_ups.csv")) == 1
    archived = list((community_root(sshd, settings, "lc") / "archive").iterdir())
    assert sorted(p.name.split("-", 1)[1] for p in archived) == [
        "courses.csv",
        "students.csv",
    ]
    local = sorted(p.name for p in settings.archive_dir.rglob("*.csv"))
    assert len(local) == 3


def test_export_times_have_offset(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    _turn_on_exports(sqlite_factory, "lc")
    with transaction(sqlite_factory) as session:
        community = schools.get_community(session, "lc")
        integrations.set_options(
            session, community, "data_exports", time_zone="America/Chicago"
        )
    add_activity(sqlite_factory, "lc", sessions=1, feedback="=HYPERLINK(1)")
    settings = make_settings("lc")

    _run(sqlite_factory, settings)

    row = _csv_rows(community_root(sshd, settings, "lc") / "outbound" / "sessions.csv")[
        0
    ]
    assert row["starts_at"] == "2026-09-01T10:00:00-05:00"
    assert row["feedback"] == "'=HYPERLINK(1)"
    assert row["student_first_name"] == "Ada"


def test_unknown_host_key_rejected(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    known_hosts: Path,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    known_hosts.write_text("")
    settings = make_settings("lc")
    dropped = drop(
        sshd, settings, "lc", "students.csv", csv_bytes(STUDENT_HEADER, student_rows(3))
    )

    [record] = _run(sqlite_factory, settings)

    assert record.status == "failed"
    assert "is not in" in record.errors[0]
    assert "SHA256:" in record.errors[0]
    assert known_hosts.read_text() == ""
    assert dropped.exists()
    assert _runs(sqlite_factory, "lc", "students") == []


def test_changed_host_key_rejected(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    known_hosts: Path,
    tmp_path: Path,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    other = tmp_path / "other_host_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    public = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    known_hosts.write_text(f"[{sshd.host}]:{sshd.port} {public}\n")
    settings = make_settings("lc")

    [record] = _run(sqlite_factory, settings)

    assert record.status == "failed"
    assert "changed" in record.errors[0]
    assert record.errors[0].count("SHA256:") == 2


def test_switched_off_kind_left_in_place(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni", integrations_on=("students",))
    settings = make_settings("lc")
    dropped = drop(sshd, settings, "lc", "courses.csv", COURSES)

    [record] = _run(sqlite_factory, settings)

    assert record.status == "ok"
    assert record.files_left == 1
    assert (
        record.files[0]["reason"] == "the courses integration is off for this community"
    )
    assert dropped.read_bytes() == COURSES
    assert _runs(sqlite_factory, "lc", "courses") == []


def test_unchanged_file_skipped(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    data = csv_bytes(STUDENT_HEADER, student_rows(4))
    drop(sshd, settings, "lc", "students.csv", data)
    _run(sqlite_factory, settings)
    dropped = drop(sshd, settings, "lc", "students.csv", data)

    [record] = _run(sqlite_factory, settings)

    assert record.skipped == 1
    assert record.imported == 0
    assert len(_runs(sqlite_factory, "lc", "students")) == 1
    assert not dropped.exists()


def test_file_being_written_left_alone(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc", settle_seconds=0.3)
    partial = drop(sshd, settings, "lc", "courses.csv.part", COURSES)
    growing = drop(sshd, settings, "lc", "students.csv", csv_bytes(STUDENT_HEADER, []))
    done = threading.Event()

    def keep_writing() -> None:
        number = 0
        while not done.is_set():
            with growing.open("ab") as handle:
                handle.write(
                    f"s{number}@uni.edu,A,B,sso{number},{number:06d}\n".encode()
                )
            number += 1
            done.wait(0.01)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        [record] = _run(sqlite_factory, settings)
    finally:
        done.set()
        writer.join()

    reasons = {entry["name"]: entry["reason"] for entry in record.files}
    assert reasons["courses.csv.part"] == "still being uploaded"
    assert reasons["students.csv"].startswith("still being written")
    assert partial.exists()
    assert growing.exists()
    assert _runs(sqlite_factory, "lc", "students") == []


def test_file_rewritten_during_download_left_alone(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc", settle_seconds=1.0)
    first = csv_bytes(STUDENT_HEADER, student_rows(30))
    path = drop(sshd, settings, "lc", "students.csv", first)
    read = RemoteFolder.read

    def read_then_rewrite(folder: RemoteFolder, name: str, file: str) -> bytes:
        data = read(folder, name, file)
        # School IT rewrites the file in place with as many bytes, as a
        # script that opens it for writing without truncating would.
        second = csv_bytes(STUDENT_HEADER, student_rows(30, last_name="Roe"))
        assert len(second) == len(first)
        with path.open("r+b") as handle:
            handle.write(second)
        return data

    monkeypatch.setattr(RemoteFolder, "read", read_then_rewrite)
    [record] = _run(sqlite_factory, settings)

    reasons = {entry["name"]: entry["reason"] for entry in record.files}
    assert reasons["students.csv"] == "still being written: changed during download"
    assert _runs(sqlite_factory, "lc", "students") == []
    assert path.exists()


def test_short_download_is_retried(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    drop(
        sshd,
        settings,
        "lc",
        "students.csv",
        csv_bytes(STUDENT_HEADER, student_rows(30)),
    )
    read = RemoteFolder.read
    short_reads: list[str] = []

    def read_short_once(folder: RemoteFolder, name: str, file: str) -> bytes:
        # The transfer falls short once while the file stays as listed.
        data = read(folder, name, file)
        if not short_reads:
            short_reads.append(file)
            return data[:-10]
        return data

    monkeypatch.setattr(RemoteFolder, "read", read_short_once)
    [record] = _run(sqlite_factory, settings)

    assert short_reads == ["students.csv"]
    assert record.imported == 1
    assert [run.status for run in _runs(sqlite_factory, "lc", "students")] == [
        "applied"
    ]


def test_held_import_blocks_nothing_else(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    drop(
        sshd,
        settings,
        "lc",
        "students.csv",
        csv_bytes(STUDENT_HEADER, student_rows(100)),
    )
    _run(sqlite_factory, settings)
    drop(
        sshd,
        settings,
        "lc",
        "students.csv",
        csv_bytes(STUDENT_HEADER, student_rows(50)),
    )
    drop(sshd, settings, "lc", "courses.csv", COURSES)

    [record] = _run(sqlite_factory, settings)

    assert record.held == 1
    assert record.imported == 1
    assert record.status == "ok"
    statuses = [run.status for run in _runs(sqlite_factory, "lc", "students")]
    assert statuses == ["applied", "held"]
    assert [run.status for run in _runs(sqlite_factory, "lc", "courses")] == ["applied"]
    assert list((community_root(sshd, settings, "lc") / "inbound").iterdir()) == []


def test_rejected_file_archived_and_removed(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    dropped = drop(sshd, settings, "lc", "students.csv", b"Nothing,Useful\n1,2\n")

    [record] = _run(sqlite_factory, settings)

    assert record.rejected == 1
    assert not dropped.exists()
    assert [run.status for run in _runs(sqlite_factory, "lc", "students")] == [
        "rejected"
    ]


def test_second_daemon_kept_out(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    make_community(sqlite_factory, "wc", "uni")
    settings = make_settings("lc", "wc")
    dropped = drop(
        sshd, settings, "lc", "students.csv", csv_bytes(STUDENT_HEADER, student_rows(3))
    )
    with sqlite_factory() as session:
        lc_id = schools.get_community(session, "lc").id

    with leases.held(sqlite_factory, lease_name(lc_id)):
        records = _run(sqlite_factory, settings)

    assert [r.community_id for r in records] != [lc_id]
    assert len(records) == 1
    assert dropped.exists()
    assert _runs(sqlite_factory, "lc", "students") == []


def test_slot_synced_once(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    from datetime import UTC, datetime

    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    slot = datetime(2026, 12, 4, tzinfo=UTC)

    first = sync_all(sqlite_factory, settings, RunRequest("schedule", slot))
    second = sync_all(sqlite_factory, settings, RunRequest("schedule", slot))

    assert len(first) == 1
    assert second == []


def test_unreachable_server_does_not_stop_others(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    from dataclasses import replace

    from tests.services._process import pick_free_port

    make_community(sqlite_factory, "lc", "uni")
    make_community(sqlite_factory, "wc", "other")
    settings = make_settings("lc", "wc")
    dead = replace(settings.communities[0].server, port=pick_free_port())
    broken = replace(settings.communities[0], server=dead)
    settings = replace(settings, communities=(broken, settings.communities[1]))

    records = _run(sqlite_factory, settings)

    assert [r.status for r in records] == ["failed", "ok"]
    assert "after 2 attempts" in records[0].errors[0]


def test_deadline_cuts_off_run(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc", community_deadline=0.3, settle_seconds=1.0)
    dropped = drop(sshd, settings, "lc", "courses.csv", COURSES)

    [record] = _run(sqlite_factory, settings)

    assert record.status == "partial"
    assert "passed its deadline of 0.3s" in record.errors[0]
    assert dropped.exists()


def test_unknown_file_name_left(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    dropped = drop(sshd, settings, "lc", "Students.CSV", COURSES)

    [record] = _run(sqlite_factory, settings)

    assert record.files == [
        {
            "name": "Students.CSV",
            "kind": None,
            "action": "left",
            "reason": "not an import file name",
            "run_id": None,
            "sha256": None,
        }
    ]
    assert dropped.exists()


def test_lease_of_dead_daemon_taken_over(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    import socket
    from datetime import timedelta

    from backend.models import Lease, utcnow

    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    gone = subprocess.Popen(["true"])
    gone.wait()
    with transaction(sqlite_factory) as session:
        lc_id = schools.get_community(session, "lc").id
        session.add(
            Lease(
                name=lease_name(lc_id),
                holder=f"{socket.gethostname()}:{gone.pid}",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )

    records = _run(sqlite_factory, settings)

    assert [r.status for r in records] == ["ok"]
