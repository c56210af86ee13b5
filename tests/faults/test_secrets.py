"""Private keys and database passwords: owner-only files, absent from every log.

The log scan runs imports, a nightly sync, an SSO setup and check and a few
failing commands at DEBUG level against a PostgreSQL URL with a password, then
reads every log file and everything printed.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import InvalidValue
from backend.sync.run import RunRequest, sync_all
from penji_tui.cli import main
from penji_tui.daemon.config import load_config
from tests.daemon.conftest import SettingsFactory, drop
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, student_rows
from tests.services._process import pick_free_port
from tests.services.postgres import PostgresServer
from tests.services.sshd import SshdServer
from tests.sso.idp import IdpKey, TestIdp, idp_metadata

PASSWORD = "Pw-7f3c9e1a-secret"
ROLE = "penji_secret_role"


def test_readable_sftp_key_rejected(
    sqlite_factory: sessionmaker[Session],
    sshd: SshdServer,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    make_community(sqlite_factory, "lc", "uni")
    key = tmp_path / "readable_key"
    shutil.copy(sshd.client_key_path, key)
    key.chmod(0o644)
    settings = make_settings("lc")
    server = replace(settings.communities[0].server, private_key=key)
    settings = replace(
        settings, communities=(replace(settings.communities[0], server=server),)
    )
    dropped = drop(
        sshd, settings, "lc", "students.csv", csv_bytes(STUDENT_HEADER, student_rows(2))
    )

    [record] = sync_all(sqlite_factory, settings, RunRequest("manual"))

    assert record.status == "failed"
    assert "chmod 600" in record.errors[0]
    assert dropped.exists()


def _config_with_password(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / f"daemon-{mode:o}.toml"
    path.write_text(
        f'database_url = "postgresql+psycopg://penji:{PASSWORD}@127.0.0.1/penji"\n'
    )
    path.chmod(mode)
    return path


def test_config_with_password_must_be_private(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="chmod 600") as caught:
        load_config(_config_with_password(tmp_path, 0o644))
    assert PASSWORD not in str(caught.value)


def test_private_config_with_password_read(tmp_path: Path) -> None:
    config = load_config(_config_with_password(tmp_path, 0o600))
    assert config.database_url is not None


@pytest.fixture
def password_url(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database owned by a role that has a password."""
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": ROLE}
        )
        if not exists:
            connection.execute(text(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'"))
        connection.execute(text("DROP DATABASE IF EXISTS penji_secrets"))
        connection.execute(text(f"CREATE DATABASE penji_secrets OWNER {ROLE}"))
    admin.dispose()
    return (
        f"postgresql+psycopg://{ROLE}:{PASSWORD}@{postgres_server.host}:"
        f"{postgres_server.port}/penji_secrets"
    )


def _key_lines(path: Path) -> list[str]:
    """Return the base64 lines of a PEM or OpenSSH private key file."""
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("-----")
    ]


def test_logs_hold_no_secret(
    password_url: str,
    restored_logging: None,
    sshd: SshdServer,
    known_hosts: Path,
    tmp_path: Path,
    idp_keys: dict[str, IdpKey],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    db = ["--db", password_url, "-v"]
    config = tmp_path / "daemon.toml"
    base = f"secrets-{tmp_path.name}"
    config.write_text(
        f"""
database_url = "{password_url}"

[sftp]
settle_seconds = 0
connect_attempts = 2
retry_backoff = 0.05

[log]
file = "logs/daemon.log"

[servers.test]
host = "{sshd.host}"
port = {sshd.port}
username = "{sshd.username}"
private_key = "{sshd.client_key_path}"
known_hosts = "{known_hosts}"

[servers.dead]
host = "127.0.0.1"
port = {pick_free_port()}
username = "nobody"
private_key = "{sshd.client_key_path}"
known_hosts = "{known_hosts}"

[communities.lc]
server = "test"
remote_dir = "{base}/lc"

[communities.wc]
server = "dead"
"""
    )
    config.chmod(0o600)
    students = tmp_path / "students.csv"
    students.write_bytes(csv_bytes(STUDENT_HEADER, student_rows(20)))
    inbound = sshd.root_dir / base / "lc" / "inbound"
    inbound.mkdir(parents=True)
    (inbound / "students.csv").write_bytes(csv_bytes(STUDENT_HEADER, student_rows(30)))
    (inbound / "courses.csv").write_bytes(b"not,a\ncourse file\n")
    idp_file = tmp_path / "idp.xml"
    idp_file.write_text(idp_metadata([idp_keys["current"]]))
    sp_file = tmp_path / "sp.xml"

    codes = [
        main([*db, "school", "add", "uni", "--name", "Uni"]),
        main([*db, "community", "add", "uni", "lc", "--name", "LC"]),
        main([*db, "community", "add", "uni", "wc", "--name", "WC"]),
        main([*db, "integration", "set", "lc", "students", "on"]),
        main([*db, "integration", "set", "lc", "courses", "on"]),
        main([*db, "import", "students", str(students), "--community", "lc"]),
        main([*db, "sync", "--now", "--config", str(config)]),
        main([*db, "sso", "setup", "uni"]),
        main([*db, "sso", "idp", "uni", "--file", str(idp_file)]),
        main([*db, "sso", "metadata", "uni", "--output", str(sp_file)]),
    ]
    capsys.readouterr()
    assert main([*db, "sso", "login-url", "uni"]) == 0
    login_url = capsys.readouterr().out.strip()
    idp = TestIdp(idp_keys["current"], sp_file.read_text())
    request_id, acs = idp.read_request(login_url)
    entity_id = "https://cloud.penjiapp.com/saml/uni/sp/metadata"
    response = tmp_path / "response.txt"
    xml = idp.respond(request_id, entity_id, acs)
    response.write_text(base64.b64encode(xml.encode()).decode())
    codes.append(main([*db, "sso", "check", "uni", str(response)]))
    dead_url = (
        make_url(password_url)
        .set(port=pick_free_port())
        .render_as_string(hide_password=False)
    )
    failed = [
        main(["--db", dead_url, "-v", "school", "list"]),
        main([*db, "sso", "check", "uni", str(response)]),
        main(["-v", "sync", "--now", "--config", str(config)]),
    ]
    printed = capsys.readouterr()

    sp_keys = list((tmp_path / "xdg_data_home").rglob("*.pem")) + list(
        (tmp_path / "xdg_data_home").rglob("*key*")
    )
    key_lines = _key_lines(sshd.client_key_path)
    for key in sp_keys:
        if key.is_file() and "PRIVATE KEY" in key.read_text():
            key_lines += _key_lines(key)
    logs = [p for p in tmp_path.rglob("*.log*") if p.is_file()]
    texts = {str(p): p.read_text(errors="replace") for p in logs}
    texts["stdout"] = printed.out
    texts["stderr"] = printed.err

    assert codes[:6] == [0, 0, 0, 0, 0, 0]
    assert codes[7:] == [0, 0, 0, 0]
    assert all(code != 0 for code in failed)
    assert any(key for key in sp_keys if key.is_file())
    assert len(logs) >= 1
    assert sum(len(body) for body in texts.values()) > 10_000
    for where, body in texts.items():
        assert PASSWORD not in body, where
        leaked = [line for line in key_lines if len(line) >= 16 and line in body]
        assert leaked == [], where
