"""A sync run and imports while PostgreSQL restarts or SQLite is locked.

PostgreSQL is restarted by the test's own server fixture at a chosen point of
the run: while a file downloads, and inside the import transaction. SQLite is
locked by a second connection that holds the write lock.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database
from backend.models import ImportRun, Student, SyncRun
from backend.sync.run import RunRequest, sync_all
from backend.sync.settings import SyncSettings
from tests.conftest import new_postgres_database
from tests.daemon.conftest import SettingsFactory, drop
from tests.faults.proxy import CuttingProxy
from tests.faults.test_sftp_faults import CUT_AFTER_BYTES, _through
from tests.helpers import (
    STUDENT_HEADER,
    csv_bytes,
    make_community,
    run_import,
    student_rows,
)
from tests.services.postgres import PostgresServer
from tests.services.sshd import SshdServer

ROWS = 10_000


@pytest.fixture
def postgres_factory(
    postgres_server: PostgresServer,
) -> Iterator[sessionmaker[Session]]:
    factory = open_database(new_postgres_database(postgres_server))
    yield factory
    factory.kw["bind"].dispose()


def _students(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Student))


def _sync(factory: sessionmaker[Session], settings: SyncSettings) -> SyncRun:
    [record] = sync_all(factory, settings, RunRequest("manual"))
    return record


def test_postgres_restart_mid_download(
    postgres_factory: sessionmaker[Session],
    postgres_server: PostgresServer,
    sshd: SshdServer,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    make_community(postgres_factory, "lc", "uni")
    settings = make_settings("lc")
    dropped = drop(
        sshd,
        settings,
        "lc",
        "students.csv",
        csv_bytes(STUDENT_HEADER, student_rows(ROWS)),
    )
    restarts = 0

    def restart_once(direction: str, total: int) -> bool:
        nonlocal restarts
        if direction == "down" and total > CUT_AFTER_BYTES and restarts == 0:
            postgres_server.restart()
            restarts += 1
        return False

    with CuttingProxy(sshd.port, restart_once) as proxy:
        record = _sync(postgres_factory, _through(proxy, sshd, settings, tmp_path))

    assert restarts == 1
    assert record.status == "ok"
    assert record.imported == 1
    assert _students(postgres_factory) == ROWS
    assert not dropped.exists()


def test_postgres_restart_mid_apply(
    postgres_factory: sessionmaker[Session],
    postgres_server: PostgresServer,
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(postgres_factory, "lc", "uni")
    settings = make_settings("lc")
    data = csv_bytes(STUDENT_HEADER, student_rows(ROWS))
    dropped = drop(sshd, settings, "lc", "students.csv", data)
    engine = postgres_factory.kw["bind"]
    restarts = 0

    def restart_after_insert(
        conn: Any, cursor: Any, statement: str, *args: Any
    ) -> None:
        nonlocal restarts
        if statement.startswith("INSERT INTO students") and restarts == 0:
            restarts += 1
            postgres_server.restart()

    event.listen(engine, "after_cursor_execute", restart_after_insert)
    try:
        record = _sync(postgres_factory, settings)
    finally:
        event.remove(engine, "after_cursor_execute", restart_after_insert)

    assert restarts == 1
    assert record.status == "partial"
    assert record.imported == 0
    assert "the database failed during the import" in record.errors[0]
    assert _students(postgres_factory) == 0
    with postgres_factory() as session:
        statuses = list(session.scalars(select(ImportRun.status)))
    assert "applied" not in statuses
    assert dropped.read_bytes() == data

    following = _sync(postgres_factory, settings)

    assert following.status == "ok"
    assert following.imported == 1
    assert _students(postgres_factory) == ROWS
    assert not dropped.exists()


def test_sqlite_write_lock_waited_out(tmp_path: Path) -> None:
    path = tmp_path / "penji.db"
    factory = open_database(f"sqlite:///{path}")
    make_community(factory)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    outcome: list[str] = []

    def importer() -> None:
        _, run = run_import(
            factory, "students", csv_bytes(STUDENT_HEADER, student_rows(5))
        )
        outcome.append(run.status if run is not None else "rejected")

    worker = threading.Thread(target=importer)
    worker.start()
    # The import waits on the lock for up to the busy timeout (15 s), so it is
    # still running here instead of failing at once.
    worker.join(timeout=0.5)
    still_waiting = worker.is_alive()
    locker.execute("COMMIT")
    locker.close()
    worker.join(timeout=30)

    assert still_waiting
    assert outcome == ["applied"]
    assert _students(factory) == 5
    factory.kw["bind"].dispose()


def test_sqlite_lock_past_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "penji.db"
    url = f"sqlite:///{path}"
    factory = open_database(url)
    make_community(factory)
    factory.kw["bind"].dispose()
    data = tmp_path / "students.csv"
    data.write_bytes(csv_bytes(STUDENT_HEADER, student_rows(5)))
    # Another process holds the write lock for longer than the command's 15 s
    # busy timeout, so this test takes about 15 s.
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        command = ["--db", url, "import", "students", str(data), "--community", "lc"]
        result = subprocess.run(
            [sys.executable, "-m", "penji_tui", *command, "--source", "sftp"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert result.returncode == 2
    assert "database is locked" in result.stderr
    assert "another process is writing to it; try again in a moment" in result.stderr
    assert "Traceback" not in result.stderr
    factory = open_database(url)
    assert _students(factory) == 0
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ImportRun)) == 0
    factory.kw["bind"].dispose()


def test_sqlite_reader_never_blocks_import(tmp_path: Path) -> None:
    path = tmp_path / "penji.db"
    factory = open_database(f"sqlite:///{path}")
    make_community(factory)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    before = reader.execute("SELECT count(*) FROM students").fetchone()

    _, run = run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(5)))
    during = reader.execute("SELECT count(*) FROM students").fetchone()
    reader.execute("COMMIT")
    after = reader.execute("SELECT count(*) FROM students").fetchone()
    reader.close()

    assert run is not None
    assert run.status == "applied"
    assert before == (0,)
    assert during == (0,)
    assert after == (5,)
    factory.kw["bind"].dispose()
