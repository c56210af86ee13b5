"""The nightly sync when the SFTP link drops, files change under it, or names are odd.

A proxy between the daemon and a real OpenSSH server cuts the connection at a
chosen point. Afterwards no partial import or export is visible, the inbound
file is still in place, and the next run completes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.errors import InvalidValue
from backend.models import ImportRun, Student, SyncRun
from backend.services import integrations, schools
from backend.sync.exports import EXPORT_FILES
from backend.sync.remote import TEMP_PREFIX, RemoteFolder
from backend.sync.run import RunRequest, sync_all
from backend.sync.settings import SyncSettings
from penji_tui.daemon.config import parse_config
from tests.daemon.activity import add_activity
from tests.daemon.conftest import SettingsFactory, community_root, drop
from tests.daemon.test_exports import NoPosixRenameSshd
from tests.faults.proxy import CuttingProxy, Hook
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services.sshd import SshdServer

# About 450 kB: large enough that a cut at CUT_AFTER_BYTES falls mid-download.
BIG_ROWS = 10_000
CUT_AFTER_BYTES = 150_000


def _through(
    proxy: CuttingProxy, sshd: SshdServer, settings: SyncSettings, tmp_path: Path
) -> SyncSettings:
    """Return ``settings`` with every community's server reached through ``proxy``."""
    known_hosts = tmp_path / f"proxy_known_hosts_{proxy.port}"
    known_hosts.write_text(f"[127.0.0.1]:{proxy.port} {sshd.host_key_public}\n")
    communities = tuple(
        replace(
            target,
            server=replace(target.server, port=proxy.port, known_hosts=known_hosts),
        )
        for target in settings.communities
    )
    return replace(settings, communities=communities)


def _students(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Student))


def _import_statuses(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(ImportRun.status).order_by(ImportRun.id)))


def _sync(factory: sessionmaker[Session], settings: SyncSettings) -> SyncRun:
    [record] = sync_all(factory, settings, RunRequest("manual"))
    return record


def _cut_downstream_after(limit: int) -> Hook:
    def hook(direction: str, total: int) -> bool:
        return direction == "down" and total > limit

    return hook


def test_link_cut_mid_download(
    factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    make_community(factory, "lc", "uni")
    settings = make_settings("lc")
    data = csv_bytes(STUDENT_HEADER, student_rows(BIG_ROWS))
    dropped = drop(sshd, settings, "lc", "students.csv", data)

    with CuttingProxy(sshd.port, _cut_downstream_after(CUT_AFTER_BYTES)) as proxy:
        record = _sync(factory, _through(proxy, sshd, settings, tmp_path))

    assert proxy.cuts == settings.connect_attempts
    assert record.status == "partial"
    assert "after 2 attempts" in record.errors[0]
    assert _students(factory) == 0
    assert _import_statuses(factory) == []
    assert dropped.read_bytes() == data

    following = _sync(factory, settings)

    assert following.status == "ok"
    assert following.imported == 1
    assert _students(factory) == BIG_ROWS
    assert not dropped.exists()


def test_link_cut_before_export_rename(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    with transaction(sqlite_factory) as session:
        community = schools.get_community(session, "lc")
        integrations.set_enabled(session, community, "data_exports", True)
    add_activity(sqlite_factory, "lc", sessions=200)
    settings = make_settings("lc")
    outbound = community_root(sshd, settings, "lc") / "outbound"

    def upload_started(direction: str, total: int) -> bool:
        # Cut the first request after an upload opened its temporary file: the
        # data may have arrived, but its rename to the final name has not.
        if direction != "up" or not outbound.is_dir():
            return False
        return any(p.name.startswith(TEMP_PREFIX) for p in outbound.iterdir())

    with CuttingProxy(sshd.port, upload_started) as proxy:
        record = _sync(sqlite_factory, _through(proxy, sshd, settings, tmp_path))

    visible = [p.name for p in outbound.iterdir() if not p.name.startswith(".")]
    assert proxy.cuts >= 1
    assert record.status == "partial"
    assert record.exports_written == 0
    assert visible == []

    following = _sync(sqlite_factory, settings)

    assert following.status == "ok"
    assert sorted(p.name for p in outbound.iterdir()) == sorted(EXPORT_FILES)
    assert not any(p.name.startswith(TEMP_PREFIX) for p in outbound.iterdir())


def test_file_replaced_while_read(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    first = csv_bytes(STUDENT_HEADER, student_rows(BIG_ROWS))
    second = csv_bytes(STUDENT_HEADER, student_rows(BIG_ROWS + 5))
    dropped = drop(sshd, settings, "lc", "students.csv", first)
    replaced = False

    def replace_once(direction: str, total: int) -> bool:
        # IT uploads a new file under the same name while the old one is read.
        nonlocal replaced
        if direction == "down" and total > CUT_AFTER_BYTES and not replaced:
            staging = dropped.with_name("students.csv.new")
            staging.write_bytes(second)
            os.replace(staging, dropped)
            replaced = True
        return False

    with CuttingProxy(sshd.port, replace_once) as proxy:
        record = _sync(sqlite_factory, _through(proxy, sshd, settings, tmp_path))

    assert replaced
    # The size and time differ after the download, so what was read is
    # dropped, whole or not, and the newer file waits for the next run.
    assert record.imported == 0
    assert record.files[0]["reason"] == "still being written: changed during download"
    assert _students(sqlite_factory) == 0
    assert dropped.read_bytes() == second

    following = _sync(sqlite_factory, settings)

    assert following.imported == 1
    assert _students(sqlite_factory) == BIG_ROWS + 5
    assert not dropped.exists()


@pytest.fixture(scope="module")
def plain_rename_sshd() -> Iterator[SshdServer]:
    with NoPosixRenameSshd() as server:
        yield server


def test_full_run_without_posix_rename(
    sqlite_factory: sessionmaker[Session],
    plain_rename_sshd: SshdServer,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    with transaction(sqlite_factory) as session:
        community = schools.get_community(session, "lc")
        integrations.set_enabled(session, community, "data_exports", True)
    add_activity(sqlite_factory, "lc", sessions=2)
    with CuttingProxy(plain_rename_sshd.port) as proxy:
        settings = _through(proxy, plain_rename_sshd, make_settings("lc"), tmp_path)
        settings = replace(
            settings,
            communities=tuple(
                replace(
                    c,
                    server=replace(
                        c.server, private_key=plain_rename_sshd.client_key_path
                    ),
                )
                for c in settings.communities
            ),
        )
        root = community_root(plain_rename_sshd, settings, "lc")
        drop(
            plain_rename_sshd,
            settings,
            "lc",
            "students.csv",
            csv_bytes(STUDENT_HEADER, student_rows(3)),
        )
        records = [_sync(sqlite_factory, settings) for _ in range(2)]

    assert [r.status for r in records] == ["ok", "ok"]
    assert records[0].imported == 1
    assert list((root / "inbound").iterdir()) == []
    assert [p.name.split("-", 1)[1] for p in (root / "archive").iterdir()] == [
        "students.csv"
    ]
    assert sorted(p.name for p in (root / "outbound").iterdir()) == sorted(EXPORT_FILES)


def test_odd_inbound_names_left_and_logged_safely(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_community(sqlite_factory, "lc", "uni")
    settings = make_settings("lc")
    data = csv_bytes(STUDENT_HEADER, student_rows(3))
    drop(sshd, settings, "lc", "students.csv\nFAKE log line", data)
    drop(sshd, settings, "lc", "..students.csv", data)
    outside = community_root(sshd, settings, "lc") / "elsewhere.csv"
    outside.write_bytes(data)
    inbound = community_root(sshd, settings, "lc") / "inbound"
    (inbound / "students.csv").symlink_to(outside)

    with caplog.at_level(logging.INFO, logger="backend.sync"):
        record = _sync(sqlite_factory, settings)

    assert record.imported == 0
    assert _students(sqlite_factory) == 0
    assert outside.read_bytes() == data
    assert (inbound / "students.csv").is_symlink()
    assert not any(line.startswith("FAKE") for line in caplog.text.splitlines())


@pytest.mark.parametrize(
    "remote_dir", ["../other", "lc/../../etc", "lc\n", "lc\x1b[2J", "lc/\x00"]
)
def test_unsafe_remote_dir_rejected(remote_dir: str) -> None:
    data = {
        "servers": {
            "s": {
                "host": "127.0.0.1",
                "username": "penji",
                "private_key": "key",
                "known_hosts": "known_hosts",
            }
        },
        "communities": {"lc": {"server": "s", "remote_dir": remote_dir}},
    }
    with pytest.raises(InvalidValue, match="remote_dir"):
        parse_config(data, None)


@pytest.mark.parametrize(
    "name", ["../students.csv", "/etc/passwd", "a/b.csv", "x\r\ny.csv", "..", ""]
)
def test_unsafe_remote_name_rejected(name: str) -> None:
    folder = RemoteFolder(None, "lc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="remote file name"):
        folder.path("outbound", name)
