"""``penji-tui sync --now`` killed with SIGKILL while it applies an import.

The child process runs the real command with a SQLAlchemy event hook that
prints a marker and blocks at the chosen point of the import transaction, so
the kill lands there every time. Afterwards the database is as before the
import, the inbound file is still on the server, and the next run applies it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database
from backend.models import ImportRun, Student, SyncRun
from backend.sync.settings import CommunitySync, SyncSettings
from penji_tui.cli import main
from tests.daemon.conftest import drop
from tests.daemon.test_daemon_process import _write_config
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services.sshd import SshdServer

MARKER = "PAUSED-IN-IMPORT"
ROWS = 500

# Installed in the child before the CLI runs: block at the chosen point.
_CHILD = """
import sys, threading
from sqlalchemy import event
from sqlalchemy.engine import Engine

point = sys.argv.pop(1)

def pause():
    print("{marker}", flush=True)
    threading.Event().wait()

if point == "insert":
    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO students"):
            pause()
else:
    @event.listens_for(Engine, "commit")
    def commit(conn):
        if conn.info.get("inserted_students"):
            pause()

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO students"):
            conn.info["inserted_students"] = True

from penji_tui.cli import main
sys.exit(main(sys.argv[1:]))
""".replace("{marker}", MARKER)


def _counts(factory: sessionmaker[Session]) -> tuple[int, list[str], list[str]]:
    with factory() as session:
        students = session.scalar(select(func.count()).select_from(Student))
        imports = list(session.scalars(select(ImportRun.status).order_by(ImportRun.id)))
        syncs = list(session.scalars(select(SyncRun.status).order_by(SyncRun.id)))
    return students, imports, syncs


@pytest.mark.parametrize("point", ["insert", "commit"])
def test_sigkill_mid_apply(
    point: str,
    db_url: str,
    sshd: SshdServer,
    known_hosts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    factory = open_database(db_url)
    make_community(factory, "c1", "uni")
    config = tmp_path / "daemon.toml"
    base = f"sigkill-{point}-{tmp_path.name}"
    _write_config(config, sshd, known_hosts, base)
    settings = SyncSettings(communities=(CommunitySync("c1", None, f"{base}/c1"),))  # type: ignore[arg-type]
    data = csv_bytes(STUDENT_HEADER, student_rows(ROWS))
    dropped = drop(sshd, settings, "c1", "students.csv", data)
    command = ["--db", db_url, "sync", "--now", "--community", "c1"]
    command += ["--config", str(config)]

    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, point, *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None
        first_line = child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    assert first_line.strip() == MARKER
    assert child.returncode == -signal.SIGKILL
    students, imports, syncs = _counts(factory)
    assert students == 0
    assert "applied" not in imports
    assert syncs == ["running"]
    assert dropped.read_bytes() == data

    exit_code = main(command)

    students, imports, syncs = _counts(factory)
    assert exit_code == 0
    assert students == ROWS
    assert imports[-1] == "applied"
    assert syncs == ["interrupted", "ok"]
    assert not dropped.exists()
    factory.kw["bind"].dispose()
