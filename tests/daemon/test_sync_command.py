"""``penji-tui sync --now`` and ``penji-tui sync status``."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.db import open_database
from backend.sync.settings import CommunitySync, SyncSettings
from penji_tui.cli import main
from tests.daemon.conftest import drop
from tests.daemon.test_daemon_process import _write_config
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services.sshd import SshdServer


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))


def test_sync_now_and_status(
    xdg: None,
    sshd: SshdServer,
    known_hosts: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'penji.db'}"
    factory = open_database(url)
    make_community(factory, "c1", "uni")
    make_community(factory, "c2", "uni")
    config = tmp_path / "daemon.toml"
    base = f"command-{tmp_path.name}"
    _write_config(config, sshd, known_hosts, base)
    inbound = sshd.root_dir / base / "c1"
    settings = SyncSettings(communities=(CommunitySync("c1", None, f"{base}/c1"),))  # type: ignore[arg-type]
    drop(
        sshd, settings, "c1", "students.csv", csv_bytes(STUDENT_HEADER, student_rows(3))
    )

    now_code = main(
        ["--db", url, "sync", "--now", "--community", "c1", "--config", str(config)]
    )
    now_output = capsys.readouterr().out
    status_code = main(["--db", url, "sync", "--config", str(config), "status"])
    status_output = capsys.readouterr().out

    assert now_code == 0
    assert "c1" in now_output
    assert "imported 1" in now_output
    assert status_code == 0
    assert "next scheduled run:" in status_output
    assert "manual   ok" in status_output
    assert not (inbound / "inbound" / "students.csv").exists()
    factory.kw["bind"].dispose()


def test_sync_without_now_rejected(
    xdg: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", f"sqlite:///{tmp_path / 'p.db'}", "sync"])
    assert code == 2
    assert "sync --now" in capsys.readouterr().err


def test_sync_unknown_community_rejected(
    xdg: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--db", f"sqlite:///{tmp_path / 'p.db'}", "sync", "--now", "--community", "zz"]
    )
    assert code == 2
    assert "[communities.zz]" in capsys.readouterr().err


def test_sync_without_configuration_explains(
    xdg: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", f"sqlite:///{tmp_path / 'p.db'}", "sync", "--now"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no community to sync" in err
    assert "daemon.toml (not found)" in err
