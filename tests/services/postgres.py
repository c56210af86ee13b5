"""A private, throwaway PostgreSQL cluster for tests.

The cluster lives in a fresh temporary folder, listens only on 127.0.0.1 and on a
Unix socket inside that folder, trusts every local connection and runs with
fsync=off, so it is fast and must never hold data worth keeping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from ._process import pick_free_port, start_watchdog, stop_watchdog, tail_file

POSTGRES_INSTALL_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"
DEFAULT_DATABASE = "penji_test"
START_TIMEOUT_SECONDS = 60

# Database names that need no quoting in SQL or shell: lower case, at most 63 bytes
# (PostgreSQL's NAMEDATALEN - 1).
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_SERVER_SETTINGS = """
# Settings for a throwaway test cluster, reachable only from this machine. fsync=off
# risks the data only in an OS crash or power loss. synchronous_commit stays on, so
# a commit survives the immediate shutdown that restart() does.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
full_page_writes = off
"""

_PG_HBA = """\
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
"""


class PostgresError(RuntimeError):
    """A test PostgreSQL cluster failed to start, stop or run a command."""


def find_postgres_bin_dir(root: Path = POSTGRES_INSTALL_ROOT) -> Path:
    """Return the bin folder of the newest PostgreSQL under root.

    Raises PostgresError when no version there has initdb, pg_ctl and postgres.
    """
    candidates: list[tuple[int, Path]] = []
    for version_dir in root.glob("*"):
        bin_dir = version_dir / "bin"
        has_tools = all(
            (bin_dir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")
        )
        if version_dir.name.isdigit() and has_tools:
            candidates.append((int(version_dir.name), bin_dir))
    if not candidates:
        raise PostgresError(
            f"PostgreSQL server binaries not found in {root}/*/bin; "
            "run `bash .ci/setup test` to install the postgresql package"
        )
    return max(candidates)[1]


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, for one test process.

    Use it as a context manager, or call start() and stop(). As root, the server
    runs as the `postgres` OS user because PostgreSQL does not start as root. A
    watchdog stops the cluster and deletes its folder when the test process dies
    without calling stop().
    """

    def __init__(
        self, database: str = DEFAULT_DATABASE, bin_dir: Path | None = None
    ) -> None:
        _check_database_name(database)
        self.database = database
        self.bin_dir = bin_dir if bin_dir is not None else find_postgres_bin_dir()
        self.host = "127.0.0.1"
        self.port = 0
        self.base_dir: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._running = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database created at start()."""
        return self.url_for(self.database)

    @property
    def data_dir(self) -> Path:
        """Data folder of the cluster (PGDATA)."""
        return self._require_base_dir() / "data"

    @property
    def log_path(self) -> Path:
        """Server log written by pg_ctl."""
        return self._require_base_dir() / "postgres.log"

    def url_for(self, database: str) -> str:
        """Return the SQLAlchemy URL of a database in this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def start(self) -> PostgresServer:
        """Create the cluster, start it, create the default database and return self."""
        if self.base_dir is not None:
            raise PostgresError(f"cluster in {self.base_dir} was already started")
        self.port = pick_free_port()
        self.base_dir = Path(tempfile.mkdtemp(prefix="penji-pg-"))
        try:
            self._prepare_base_dir()
            self._initdb()
            stop_command = self._pg_ctl_command("stop", "-m", "immediate")
            self._watchdog = start_watchdog(
                self.base_dir, _as_server_user(stop_command)
            )
            self._start_server()
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the cluster at once (no checkpoint) and delete its folder.

        Safe to call more than once, and after a failed start().
        """
        if self._watchdog is not None:
            stop_watchdog(self._watchdog)
            self._watchdog = None
        if self.base_dir is None:
            return
        try:
            if self._running:
                self._stop_server()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None

    def restart(self) -> None:
        """Stop the server at once and start it again on the same port and data.

        Open connections break, as in a server crash. Committed data survives.
        """
        self._require_base_dir()
        if self._running:
            self._stop_server()
        self._start_server()

    def stop_server(self) -> None:
        """Stop the server at once and keep it down until start_server().

        Open connections break and new ones are refused, as when the database
        host is down. Callers restart it in a ``finally`` block, since other
        tests share the server.
        """
        self._require_base_dir()
        if self._running:
            self._stop_server()

    def start_server(self) -> None:
        """Start a server stopped by stop_server() on the same port and data."""
        self._require_base_dir()
        if not self._running:
            self._start_server()

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        _check_database_name(name)
        self._run_as_server_user(
            [
                str(self.bin_dir / "createdb"),
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--username",
                SUPERUSER,
                name,
            ],
            description=f"createdb {name}",
        )
        return self.url_for(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _require_base_dir(self) -> Path:
        if self.base_dir is None:
            raise PostgresError("cluster is not started; call start() first")
        return self.base_dir

    def _prepare_base_dir(self) -> None:
        base_dir = self._require_base_dir()
        if os.geteuid() == 0:
            shutil.chown(base_dir, user=SUPERUSER, group=SUPERUSER)

    def _initdb(self) -> None:
        self._run_as_server_user(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            description="initdb",
        )
        settings = _SERVER_SETTINGS.format(port=self.port, socket_dir=self.base_dir)
        with (self.data_dir / "postgresql.conf").open("a") as config:
            config.write(settings)
        (self.data_dir / "pg_hba.conf").write_text(_PG_HBA)

    def _start_server(self) -> None:
        self._run_as_server_user(
            self._pg_ctl_command(
                "start",
                "--wait",
                "--timeout",
                str(START_TIMEOUT_SECONDS),
                "--log",
                str(self.log_path),
            ),
            description=f"pg_ctl start on port {self.port}",
        )
        self._running = True

    def _stop_server(self) -> None:
        self._running = False
        self._run_as_server_user(
            self._pg_ctl_command("stop", "--wait", "-m", "immediate"),
            description="pg_ctl stop",
        )

    def _pg_ctl_command(self, *args: str) -> list[str]:
        return [str(self.bin_dir / "pg_ctl"), "--pgdata", str(self.data_dir), *args]

    def _run_as_server_user(self, command: Sequence[str], description: str) -> None:
        # pg_ctl start keeps the server's output in the log file, so capturing
        # stdout here cannot block on the long-running server.
        result = subprocess.run(
            _as_server_user(command),
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log_tail = ""
            if self.base_dir is not None:
                log_tail = f"\nserver log:\n{tail_file(self.log_path)}"
            raise PostgresError(
                f"{description} failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{log_tail}"
            )


def _as_server_user(command: Sequence[str]) -> list[str]:
    """Prefix command with runuser when root, as PostgreSQL does not run as root."""
    if os.geteuid() != 0:
        return list(command)
    return ["runuser", "-u", SUPERUSER, "--", *command]


def _check_database_name(name: str) -> None:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(
            f"invalid database name {name!r}: use 1 to 63 lower-case letters, "
            "digits and underscores, not starting with a digit"
        )
