"""Checks that the throwaway PostgreSQL and OpenSSH test servers work."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
import sqlalchemy as sa

from tests.services.postgres import PostgresServer
from tests.services.sshd import SshdServer

REPO_ROOT = Path(__file__).resolve().parent.parent

# Started in a child process that the test then kills with SIGKILL.
_ORPHAN_SCRIPT = """
import time

from tests.services.{module} import {server_class}

server = {server_class}().start()
print(server.port, server.base_dir, flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdServer]:
    with SshdServer() as server:
        yield server


@pytest.fixture
def known_hosts(sshd: SshdServer, tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line() + "\n")
    return path


def _scalar(url: str, query: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(query)).scalar_one()
    finally:
        engine.dispose()


def _generate_key(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


def _connect_sftp(
    sshd: SshdServer, known_hosts: Path, client_key_path: Path | None = None
) -> paramiko.SSHClient:
    key_path = client_key_path if client_key_path is not None else sshd.client_key_path
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        sshd.host,
        port=sshd.port,
        username=sshd.username,
        pkey=paramiko.Ed25519Key.from_private_key_file(str(key_path)),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    return client


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _kill_owner_and_wait_for_cleanup(module: str, server_class: str) -> None:
    """Start a server in a child process, SIGKILL the child and check the cleanup."""
    script = _ORPHAN_SCRIPT.format(module=module, server_class=server_class)
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port_text, base_dir_text = child.stdout.readline().split()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    port = int(port_text)
    base_dir = Path(base_dir_text)

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not _port_accepts(port) and not base_dir.exists():
            break
        time.sleep(0.2)
    assert not _port_accepts(port), f"{server_class} still listens on {port}"
    assert not base_dir.exists(), f"{base_dir} was not removed"


def test_postgres_select_one(postgres: PostgresServer) -> None:
    assert _scalar(postgres.url, "SELECT 1") == 1


def test_postgres_url_format(postgres: PostgresServer) -> None:
    expected = f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/penji_test"
    assert postgres.url == expected


def test_postgres_listens_on_loopback_only(postgres: PostgresServer) -> None:
    assert _scalar(postgres.url, "SHOW listen_addresses") == "127.0.0.1"
    assert _scalar(postgres.url, "SHOW fsync") == "off"


def test_postgres_create_database_isolated(postgres: PostgresServer) -> None:
    url = postgres.create_database("isolated_one")
    assert url.endswith(f":{postgres.port}/isolated_one")
    assert _scalar(url, "SELECT current_database()") == "isolated_one"

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE marker (id integer)"))
    finally:
        engine.dispose()

    query = "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'"
    assert _scalar(url, query) == 1
    assert _scalar(postgres.url, query) == 0


def test_postgres_create_database_rejects_bad_name(
    postgres: PostgresServer,
) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        postgres.create_database("Bad-Name; DROP")


def test_postgres_restart_keeps_data_and_port(postgres: PostgresServer) -> None:
    url = postgres.create_database("restart_check")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE kept (id integer)"))
            connection.execute(sa.text("INSERT INTO kept VALUES (7)"))
        port_before = postgres.port

        postgres.restart()

        # The pooled connection died with the old server process.
        with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        with engine.connect() as connection:
            value = connection.execute(sa.text("SELECT id FROM kept")).scalar_one()
    finally:
        engine.dispose()
    assert value == 7
    assert postgres.port == port_before


def test_postgres_stop_removes_folder() -> None:
    server = PostgresServer().start()
    base_dir = server.base_dir
    port = server.port
    assert base_dir is not None
    server.stop()
    server.stop()
    assert not base_dir.exists()
    assert not _port_accepts(port)


def test_postgres_stops_when_owner_dies() -> None:
    _kill_owner_and_wait_for_cleanup("postgres", "PostgresServer")


def test_sshd_known_hosts_line_format(sshd: SshdServer) -> None:
    line = sshd.known_hosts_line()
    assert line.startswith(f"[127.0.0.1]:{sshd.port} ssh-ed25519 AAAA")
    assert line.split()[1:] == sshd.host_key_public.split()


def test_sshd_sftp_put_and_list(sshd: SshdServer, known_hosts: Path) -> None:
    client = _connect_sftp(sshd, known_hosts)
    try:
        sftp = client.open_sftp()
        sftp.putfo(io.BytesIO(b"id,name\n1,Ada\n"), "upload.csv")
        listed = sftp.listdir(".")
        sftp.close()
    finally:
        client.close()
    assert "upload.csv" in listed
    assert (sshd.root_dir / "upload.csv").read_bytes() == b"id,name\n1,Ada\n"


def test_sshd_rejects_unknown_host_key(sshd: SshdServer, tmp_path: Path) -> None:
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        _connect_sftp(sshd, empty_known_hosts)


def test_sshd_rejects_wrong_host_key(sshd: SshdServer, tmp_path: Path) -> None:
    other_key = _generate_key(tmp_path / "other_host_key")
    other_public = " ".join(other_key.with_suffix(".pub").read_text().split()[:2])
    wrong_known_hosts = tmp_path / "known_hosts"
    wrong_known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {other_public}\n")
    with pytest.raises(paramiko.BadHostKeyException):
        _connect_sftp(sshd, wrong_known_hosts)


def test_sshd_rejects_unknown_client_key(
    sshd: SshdServer, known_hosts: Path, tmp_path: Path
) -> None:
    other_key = _generate_key(tmp_path / "other_client_key")
    with pytest.raises(paramiko.AuthenticationException):
        _connect_sftp(sshd, known_hosts, client_key_path=other_key)


def test_sshd_rejects_password_login(sshd: SshdServer, known_hosts: Path) -> None:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        with pytest.raises(paramiko.AuthenticationException):
            client.connect(
                sshd.host,
                port=sshd.port,
                username=sshd.username,
                password="not-a-password",
                look_for_keys=False,
                allow_agent=False,
                timeout=10,
            )
    finally:
        client.close()


def test_sshd_stops_when_owner_dies() -> None:
    _kill_owner_and_wait_for_cleanup("sshd", "SshdServer")
