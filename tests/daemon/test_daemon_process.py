"""The daemon as a real process: catch-up on start, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database, transaction
from backend.models import Student, SyncRun, utcnow
from backend.services import schools
from backend.sync import state
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services.sshd import SshdServer

SLUGS = ("c1", "c2", "c3", "c4", "c5", "c6")
ROWS = 4000


def _write_config(path: Path, sshd: SshdServer, known_hosts: Path, base: str) -> None:
    communities = "\n".join(
        f'[communities.{slug}]\nserver = "test"\nremote_dir = "{base}/{slug}"\n'
        for slug in SLUGS
    )
    path.write_text(
        f"""
[schedule]
time = "00:00"
zone = "UTC"

[sftp]
settle_seconds = 0
connect_attempts = 1

[archive]
folder = "archive"

[log]
file = "logs/daemon.log"

[servers.test]
host = "{sshd.host}"
port = {sshd.port}
username = "{sshd.username}"
private_key = "{sshd.client_key_path}"
known_hosts = "{known_hosts}"

{communities}
"""
    )


def _students(factory: sessionmaker[Session], slug: str) -> int:
    with factory() as session:
        community = schools.get_community(session, slug)
        return session.scalar(
            select(func.count()).where(Student.community_id == community.id)
        )


def _read_lines(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


def _wait_for(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    while True:
        line = lines.get(timeout=60)
        seen.append(line)
        if text in line:
            return


def test_sigterm_during_run(
    sshd: SshdServer, known_hosts: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'penji.db'}"
    factory = open_database(url)
    for slug in SLUGS:
        make_community(factory, slug, "uni")
    with transaction(factory) as session:
        state.save_schedule(
            session,
            covered=utcnow() - timedelta(days=2),
            next_run_at=None,
            time_of_day="00:00",
            time_zone="UTC",
            holder=None,
        )
    with factory() as session:
        covered_before = state.covered_until(session)
    config = tmp_path / "daemon.toml"
    base = f"sigterm-{os.getpid()}"
    _write_config(config, sshd, known_hosts, base)
    data = csv_bytes(STUDENT_HEADER, student_rows(ROWS))
    settings_dirs = {slug: sshd.root_dir / base / slug for slug in SLUGS}
    for slug in SLUGS:
        inbound = settings_dirs[slug] / "inbound"
        inbound.mkdir(parents=True)
        (inbound / "students.csv").write_bytes(data)
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "penji_tui",
            "--db",
            url,
            "daemon",
            "--config",
            str(config),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    reader = threading.Thread(target=_read_lines, args=(process.stderr, lines))
    reader.start()
    try:
        _wait_for(lines, "uni/c1: sync ok", seen)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join()
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)

    assert exit_code == 0, output
    assert "received SIGTERM; stopping" in output
    assert "daemon stopped" in output
    with factory() as session:
        statuses = list(session.scalars(select(SyncRun.status)))
        covered_after = state.covered_until(session)
    assert "running" not in statuses
    assert covered_after == covered_before
    for slug in SLUGS:
        count = _students(factory, slug)
        still_inbound = (settings_dirs[slug] / "inbound" / "students.csv").exists()
        assert count in (0, ROWS), f"{slug} has a half-applied import"
        assert still_inbound == (count == 0), f"{slug}: file state does not match"
    assert _students(factory, "c6") == 0
    assert (tmp_path / "logs" / "daemon.log").read_text().count("sync started") >= 1
    factory.kw["bind"].dispose()
