"""Two daemons and a console change the same community at the same time.

Two real ``penji-tui sync --now`` processes race for one community while this
process uploads a custom student file, as the console does. The sync lease lets
one daemon import the IT file, the import lease serialises the two imports, and
every change lands exactly once. An IT file that lost the race stays in
inbound/ and the next run imports it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database
from backend.errors import Conflict
from backend.imports import service
from backend.models import ImportRun, Student, SyncRun
from backend.sync.settings import CommunitySync, SyncSettings
from penji_tui.cli import main
from tests.daemon.conftest import drop
from tests.daemon.test_daemon_process import _write_config
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services.sshd import SshdServer

IT_ROWS = 3000
CUSTOM_ROWS = 7
CONSOLE_ATTEMPTS = 200


def _console_upload(factory: sessionmaker[Session], version: int) -> int:
    """Upload version ``version`` of a custom file, retrying while an import runs.

    Return how many tries it took. Each version renames every student, so it
    is applied with force, as after the console's change-guard confirmation.
    """
    rows = student_rows(CUSTOM_ROWS, last_name=f"V{version}", start=90_000)
    data = csv_bytes(STUDENT_HEADER, rows)
    for attempt in range(1, CONSOLE_ATTEMPTS + 1):
        preview = service.preview_import(
            factory, "c1", "students", "custom", data, "mine.csv"
        )
        try:
            service.apply_preview(factory, preview, force=True)
        except Conflict:
            continue
        return attempt
    raise AssertionError(f"custom upload still refused after {CONSOLE_ATTEMPTS} tries")


def test_two_daemons_and_console(
    db_url: str,
    sshd: SshdServer,
    known_hosts: Path,
    tmp_path: Path,
    restored_logging: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    factory = open_database(db_url)
    make_community(factory, "c1", "uni")
    config = tmp_path / "daemon.toml"
    base = f"race-{tmp_path.name}"
    _write_config(config, sshd, known_hosts, base)
    settings = SyncSettings(communities=(CommunitySync("c1", None, f"{base}/c1"),))  # type: ignore[arg-type]
    dropped = drop(
        sshd,
        settings,
        "c1",
        "students.csv",
        csv_bytes(STUDENT_HEADER, student_rows(IT_ROWS)),
    )
    command = [sys.executable, "-m", "penji_tui", "--db", db_url, "sync", "--now"]
    command += ["--community", "c1", "--config", str(config)]

    daemons = [
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
        for _ in range(2)
    ]
    uploads = 0
    try:
        # Keep changing the community from the console while the daemons run.
        while uploads == 0 or any(daemon.poll() is None for daemon in daemons):
            uploads += 1
            _console_upload(factory, uploads)
    finally:
        outputs = [daemon.communicate(timeout=120)[0].decode() for daemon in daemons]
    # A daemon that met the console's import lease leaves the IT file in
    # inbound/ for the next run, which this one is.
    left_after_race = dropped.exists()
    final_code = main(command[3:])

    with factory() as session:
        it_rows = session.scalar(
            select(func.count()).where(Student.source == "sftp", Student.active)
        )
        custom_rows = session.scalar(
            select(func.count()).where(
                Student.source == "custom",
                Student.active,
                Student.last_name == f"V{uploads}",
            )
        )
        applied = list(
            session.scalars(
                select(ImportRun.source).where(ImportRun.status == "applied")
            )
        )
        syncs = list(session.scalars(select(SyncRun.status)))
    assert it_rows == IT_ROWS, outputs
    assert custom_rows == CUSTOM_ROWS
    assert applied.count("sftp") == 1
    assert applied.count("custom") == uploads
    assert "running" not in syncs
    assert syncs.count("ok") >= 1, outputs
    assert final_code == 0
    assert not dropped.exists(), (left_after_race, outputs)
    factory.kw["bind"].dispose()
