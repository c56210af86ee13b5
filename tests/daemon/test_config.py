"""The daemon's TOML configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.errors import InvalidValue
from penji_tui.daemon.config import load_config

FULL = """
database_url = "sqlite:///penji.db"

[schedule]
time = "18:30"
zone = "America/Chicago"
catch_up = false

[sftp]
connect_timeout = 10
operation_timeout = 30.5
connect_attempts = 4

[archive]
folder = "archive"
keep_days = 30
remote = false

[log]
file = "/var/log/penji/daemon.log"
level = "debug"

[servers.main]
host = "sftp.example.edu"
username = "penji"
private_key = "keys/id_ed25519"
known_hosts = "known_hosts"

[communities.lc]
server = "main"
remote_dir = "northfield/lc"

[communities.wc]
server = "main"
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "daemon.toml"
    path.write_text(text)
    return load_config(path)


def test_full_config_read(tmp_path: Path) -> None:
    config = _load(tmp_path, FULL)
    assert config.slot.describe() == "18:30 America/Chicago"
    assert config.catch_up is False
    assert config.sync.connect_timeout == 10.0
    assert config.sync.connect_attempts == 4
    assert config.sync.archive_dir == tmp_path / "archive"
    assert config.sync.remote_archive is False
    assert config.log_level == "DEBUG"
    assert config.log_file == Path("/var/log/penji/daemon.log")
    assert config.sync.schedule_zone == "America/Chicago"


def test_paths_relative_to_config(tmp_path: Path) -> None:
    config = _load(tmp_path, FULL)
    server = config.sync.communities[0].server
    assert server.private_key == tmp_path / "keys" / "id_ed25519"
    assert server.known_hosts == tmp_path / "known_hosts"
    assert server.port == 22


def test_remote_dir_defaults_to_slug(tmp_path: Path) -> None:
    config = _load(tmp_path, FULL)
    assert [c.remote_dir for c in config.sync.communities] == ["northfield/lc", "wc"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sftp]\nconect_timeout = 1\n", "unknown setting 'conect_timeout' in"),
        ("[sftp]\nconnect_timeout = 'x'\n", "must be float"),
        ("[sftp]\nconnect_attempts = 0\n", "at least 1"),
        ("[sftp]\nretry_backoff = -1\n", "cannot be negative"),
        ("[schedule]\ntime = '24:61'\n", "invalid time of day"),
        ("[schedule]\nzone = 'Nowhere/City'\n", "unknown time zone"),
        ("[communities.lc]\nserver = 'gone'\n", "names server 'gone'"),
        ("[servers.a]\nhost = 'h'\n", "is missing username, private_key"),
        ("[log]\nlevel = 'LOUD'\n", "invalid level 'LOUD'"),
        ("schedule = [\n", "invalid TOML"),
    ],
)
def test_invalid_config_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        _load(tmp_path, text)


def test_missing_named_config_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="not found"):
        load_config(tmp_path / "absent.toml")
