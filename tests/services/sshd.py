"""A real OpenSSH server on 127.0.0.1 for SFTP tests.

The server has its own host key, accepts only one generated client key for the
current OS user and serves nothing but SFTP, starting in a temporary root_dir.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ._process import pick_free_port, start_watchdog, stop_watchdog, tail_file

SSHD_PATH = Path("/usr/sbin/sshd")
SSH_KEYGEN_PATH = Path("/usr/bin/ssh-keygen")
# sshd exits with "Missing privilege separation directory" when this is missing.
PRIVILEGE_SEPARATION_DIR = Path("/run/sshd")
START_TIMEOUT_SECONDS = 10.0

_SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
AllowUsers {username}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
# StrictModes would reject authorized_keys below a world-writable folder like /tmp.
StrictModes no
# Without PAM no session module (pam_loginuid, for one) can fail in a container.
# NOTE: without PAM, sshd rejects an account whose shadow password starts with
# "!" as locked, even for key logins. See "account is locked" in the sshd log.
UsePAM no
AllowAgentForwarding no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp internal-sftp
ForceCommand internal-sftp -d {root_dir}
"""


class SshdError(RuntimeError):
    """The test OpenSSH server failed to start."""


class SshdServer:
    """An `sshd -D -e` process that serves SFTP for the current user on 127.0.0.1.

    Use it as a context manager, or call start() and stop(). A watchdog kills sshd
    and deletes its folder when the test process dies without calling stop().
    """

    def __init__(self, root_dir: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.username = getpass.getuser()
        self.base_dir: Path | None = None
        self._given_root_dir = root_dir
        self._root_dir: Path | None = None
        self.host_key_public = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def root_dir(self) -> Path:
        """Folder where SFTP sessions start; relative paths resolve inside it."""
        if self._root_dir is None:
            raise SshdError("sshd is not started; call start() first")
        return self._root_dir

    @property
    def client_key_path(self) -> Path:
        """Private ed25519 client key in OpenSSH format, without a passphrase.

        paramiko.Ed25519Key.from_private_key_file() and `ssh -i` both read it.
        """
        return self._require_base_dir() / "client_ed25519"

    @property
    def log_path(self) -> Path:
        """Standard error of sshd, which `-e` turns into its log."""
        return self._require_base_dir() / "sshd.log"

    def known_hosts_line(self) -> str:
        """Return the known_hosts entry that pins this server's host key."""
        return f"[{self.host}]:{self.port} {self.host_key_public}"

    def start(self) -> SshdServer:
        """Generate keys and config, start sshd and wait for its SSH banner."""
        if self.base_dir is not None:
            raise SshdError(f"sshd in {self.base_dir} was already started")
        for tool in (SSHD_PATH, SSH_KEYGEN_PATH):
            if not tool.is_file():
                raise SshdError(
                    f"{tool} not found; run `bash .ci/setup test` to install "
                    "the openssh-server package"
                )
        self.port = pick_free_port()
        self.base_dir = Path(tempfile.mkdtemp(prefix="penji-sshd-"))
        try:
            self._root_dir = self._make_root_dir()
            self._write_keys()
            config_path = self._write_config()
            PRIVILEGE_SEPARATION_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
            with self.log_path.open("wb") as log:
                self._process = subprocess.Popen(
                    [str(SSHD_PATH), "-D", "-e", "-f", str(config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            self._watchdog = start_watchdog(
                self.base_dir, ["kill", "-TERM", str(self._process.pid)]
            )
            self._wait_for_banner()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop sshd and delete its folder. Safe to call more than once."""
        if self._watchdog is not None:
            stop_watchdog(self._watchdog)
            self._watchdog = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None
        self._root_dir = None

    def __enter__(self) -> SshdServer:
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
            raise SshdError("sshd is not started; call start() first")
        return self.base_dir

    def _make_root_dir(self) -> Path:
        if self._given_root_dir is not None:
            root_dir = self._given_root_dir.resolve()
            root_dir.mkdir(parents=True, exist_ok=True)
        else:
            root_dir = self._require_base_dir() / "root"
            root_dir.mkdir()
        # sshd_config splits ForceCommand on whitespace and treats quotes specially.
        if any(char.isspace() or char in "\"'\\" for char in str(root_dir)):
            raise ValueError(
                f"invalid root_dir {str(root_dir)!r}: sshd_config cannot hold "
                "whitespace, quotes or backslashes in it"
            )
        return root_dir

    def _write_keys(self) -> None:
        base_dir = self._require_base_dir()
        host_key = base_dir / "ssh_host_ed25519_key"
        _generate_ed25519_key(host_key, comment="penji-test-host")
        _generate_ed25519_key(self.client_key_path, comment="penji-test-client")
        key_type, key_data = host_key.with_suffix(".pub").read_text().split()[:2]
        self.host_key_public = f"{key_type} {key_data}"
        client_public = self.client_key_path.with_suffix(".pub").read_text()
        (base_dir / "authorized_keys").write_text(client_public)

    def _write_config(self) -> Path:
        base_dir = self._require_base_dir()
        config_path = base_dir / "sshd_config"
        config_path.write_text(
            _SSHD_CONFIG.format(
                port=self.port,
                host_key=base_dir / "ssh_host_ed25519_key",
                pid_file=base_dir / "sshd.pid",
                authorized_keys=base_dir / "authorized_keys",
                username=self.username,
                root_dir=self.root_dir,
            )
        )
        return config_path

    def _wait_for_banner(self) -> None:
        """Wait until the port sends an SSH banner, so the listener is sshd."""
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise SshdError(
                    f"sshd exited with code {exit_code} before accepting "
                    f"connections on port {self.port}:\n{tail_file(self.log_path)}"
                )
            if self._read_banner().startswith(b"SSH-"):
                return
            time.sleep(0.05)
        raise SshdError(
            f"timed out after {START_TIMEOUT_SECONDS:.0f} s waiting for the SSH "
            f"banner of sshd on {self.host}:{self.port}:\n{tail_file(self.log_path)}"
        )

    def _read_banner(self) -> bytes:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(64)
        except OSError:
            return b""


def _generate_ed25519_key(path: Path, comment: str) -> None:
    """Write an unencrypted ed25519 key pair to path and path.pub."""
    result = subprocess.run(
        [
            str(SSH_KEYGEN_PATH),
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            comment,
            "-f",
            str(path),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SshdError(
            f"ssh-keygen failed for {path} with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    os.chmod(path, 0o600)
