"""Export cells, and export files replaced whole while a reader watches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.services import integrations, schools
from backend.sync import sftp
from backend.sync.exports import MAX_CELL_CHARS, TRUNCATION_MARKER, safe_cell
from backend.sync.remote import RemoteFolder
from backend.sync.run import RunRequest, sync_all
from backend.sync.settings import ServerSettings, SyncSettings
from tests.daemon.activity import add_activity
from tests.daemon.conftest import SettingsFactory, community_root
from tests.helpers import make_community
from tests.services.sshd import SshdServer


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_safe_cell_neutralises(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_safe_cell_truncates() -> None:
    cell = safe_cell("x" * (MAX_CELL_CHARS + 5))
    assert len(cell) == MAX_CELL_CHARS
    assert cell.endswith(TRUNCATION_MARKER)


def test_safe_cell_keeps_limit_length() -> None:
    assert safe_cell("y" * MAX_CELL_CHARS) == "y" * MAX_CELL_CHARS


class NoPosixRenameSshd(SshdServer):
    """An sshd whose SFTP server denies the posix-rename extension."""

    def _write_config(self) -> Path:
        path = super()._write_config()
        text = path.read_text().replace(
            "ForceCommand internal-sftp -d",
            "ForceCommand internal-sftp -P posix-rename -d",
        )
        path.write_text(text)
        return path


@pytest.fixture(scope="module")
def plain_rename_sshd() -> Iterator[SshdServer]:
    with NoPosixRenameSshd() as server:
        yield server


def _versions(count: int) -> list[bytes]:
    return [f"header\n{'row,' * 20000}{number}\n".encode() for number in range(count)]


def _replace_while_reading(
    sshd: SshdServer, server: ServerSettings, settings: SyncSettings
) -> tuple[set[bytes], int]:
    """Replace a file several times while a thread reads it; return what it saw."""
    versions = _versions(6)
    target = sshd.root_dir / "atomic" / "outbound" / "sessions.csv"
    seen: set[bytes] = set()
    missing = 0
    done = threading.Event()

    def read() -> None:
        nonlocal missing
        while not done.is_set():
            try:
                seen.add(target.read_bytes())
            except FileNotFoundError:
                missing += 1

    with sftp.session(server, settings, sftp.Deadline(60)) as client:
        folder = RemoteFolder(client, "atomic")
        folder.ensure_folders()
        folder.replace("outbound", "sessions.csv", versions[0])
        reader = threading.Thread(target=read)
        reader.start()
        try:
            for data in versions[1:]:
                folder.replace("outbound", "sessions.csv", data)
        finally:
            done.set()
            reader.join()
    assert seen <= set(versions), "a reader saw a partial file"
    return seen, missing


def test_export_replacement_atomic(
    sshd: SshdServer, server: ServerSettings, make_settings: SettingsFactory
) -> None:
    seen, missing = _replace_while_reading(sshd, server, make_settings())
    assert missing == 0
    assert len(seen) >= 1


def test_export_replacement_without_posix_rename(
    caplog: pytest.LogCaptureFixture,
    plain_rename_sshd: SshdServer,
    server: ServerSettings,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    known_hosts = tmp_path / "plain_known_hosts"
    known_hosts.write_text(plain_rename_sshd.known_hosts_line() + "\n")
    plain = replace(
        server,
        port=plain_rename_sshd.port,
        known_hosts=known_hosts,
        private_key=plain_rename_sshd.client_key_path,
    )
    with caplog.at_level(logging.INFO, logger="backend.sync.remote"):
        _replace_while_reading(plain_rename_sshd, plain, make_settings())
    assert "using plain rename instead" in caplog.text
    final = plain_rename_sshd.root_dir / "atomic" / "outbound"
    assert [p.name for p in final.iterdir()] == ["sessions.csv"]
    assert (final / "sessions.csv").read_bytes() == _versions(6)[-1]


def test_nightly_export_replaces_yesterday(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    with transaction(sqlite_factory) as session:
        community = schools.get_community(session, "lc")
        integrations.set_enabled(session, community, "data_exports", True)
    add_activity(sqlite_factory, "lc", sessions=2)
    settings = make_settings("lc")
    sync_all(sqlite_factory, settings, RunRequest("manual"))
    add_activity(
        sqlite_factory, "lc", sessions=3, start=datetime(2026, 10, 1, tzinfo=UTC)
    )

    sync_all(sqlite_factory, settings, RunRequest("manual"))

    outbound = community_root(sshd, settings, "lc") / "outbound"
    lines = (outbound / "sessions.csv").read_text().strip().splitlines()
    assert len(lines) == 1 + 5
    assert sorted(p.name for p in outbound.iterdir()) == [
        "drop_in_check_ins.csv",
        "sessions.csv",
        "student_sign_ups.csv",
        "tutor_sign_ups.csv",
    ]
