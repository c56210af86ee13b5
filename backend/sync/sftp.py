"""SFTP connections with a pinned host key, timeouts and an overall deadline.

paramiko can block for a long time on a dead link, so every connection gets a
connect, banner and auth timeout, a timeout on each SFTP operation, keepalive
packets, and a timer that closes the connection when the deadline passes.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import paramiko

from backend.errors import PenjiError
from backend.sync.settings import ServerSettings, SyncSettings

log = logging.getLogger(__name__)


class SyncFailed(PenjiError):
    """A failed sync step, with a message that names the fix."""


class HostKeyRejected(SyncFailed):
    """The server's host key is not pinned in known_hosts, or differs from it."""


class LoginFailed(SyncFailed):
    """The server rejected the client key, or the key cannot be read."""


class ConnectFailed(SyncFailed):
    """The server could not be reached; trying again later may work."""


class _UnknownHostKey(paramiko.SSHException):
    def __init__(self, hostname: str, key: paramiko.PKey) -> None:
        super().__init__(f"host key of {hostname} is not in known_hosts")
        self.hostname = hostname
        self.key = key


class PinnedHostKeyPolicy(paramiko.RejectPolicy):
    """Reject an unknown host key like RejectPolicy, keeping the key for the message."""

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise _UnknownHostKey(hostname, key)


@dataclass
class Deadline:
    """Close a connection when ``seconds`` have passed, so no call hangs past it."""

    seconds: float
    expired: bool = False
    _timer: threading.Timer | None = None

    def start(self, client: paramiko.SSHClient) -> None:
        def expire() -> None:
            self.expired = True
            log.warning(
                "closing the SFTP connection: deadline of %gs passed", self.seconds
            )
            client.close()

        self._timer = threading.Timer(self.seconds, expire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _address(server: ServerSettings) -> str:
    return f"{server.host}:{server.port}" if server.port != 22 else server.host


def _check_key_private(server: ServerSettings) -> None:
    """Reject a key file that other users can read, as OpenSSH does."""
    try:
        mode = server.private_key.stat().st_mode & 0o777
    except FileNotFoundError:
        return
    if mode & 0o077:
        raise LoginFailed(
            f"private key {server.private_key} of server {server.name!r} has mode "
            f"{mode:o}, readable by other users; run 'chmod 600 "
            f"{server.private_key}' and check who read it"
        )


def _load_key(server: ServerSettings) -> paramiko.PKey:
    _check_key_private(server)
    try:
        return paramiko.PKey.from_path(server.private_key)
    except FileNotFoundError:
        raise LoginFailed(
            f"private key {server.private_key} of server {server.name!r} not found; "
            "check private_key in the daemon configuration"
        ) from None
    except paramiko.PasswordRequiredException:
        raise LoginFailed(
            f"private key {server.private_key} is encrypted; the daemon needs a key "
            "without a passphrase, readable only by its user"
        ) from None
    except (paramiko.SSHException, OSError, ValueError) as error:
        raise LoginFailed(
            f"cannot read private key {server.private_key}: {error}"
        ) from None


def _new_client(server: ServerSettings) -> paramiko.SSHClient:
    if not server.known_hosts.is_file():
        raise HostKeyRejected(
            f"known_hosts file {server.known_hosts} of server {server.name!r} not "
            "found; create it with the server's host key line, checked with the "
            "server's administrator"
        )
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(server.known_hosts))
    except (OSError, paramiko.SSHException) as error:
        raise HostKeyRejected(
            f"cannot read known_hosts file {server.known_hosts}: {error}"
        ) from None
    client.set_missing_host_key_policy(PinnedHostKeyPolicy())
    return client


def connect(
    server: ServerSettings, settings: SyncSettings
) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
    """Log in to ``server`` with its key and open an SFTP session.

    Raises:
        HostKeyRejected: the host key is unknown or changed; never retried.
        LoginFailed: the key was rejected or cannot be read; never retried.
        ConnectFailed: the network or the server failed; may be retried.
    """
    pkey = _load_key(server)
    client = _new_client(server)
    where = _address(server)
    try:
        client.connect(
            server.host,
            port=server.port,
            username=server.username,
            pkey=pkey,
            timeout=settings.connect_timeout,
            banner_timeout=settings.connect_timeout,
            auth_timeout=settings.auth_timeout,
            channel_timeout=settings.operation_timeout,
            allow_agent=False,
            look_for_keys=False,
        )
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(settings.keepalive_interval)
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(settings.operation_timeout)  # type: ignore[union-attr]
        return client, sftp
    except _UnknownHostKey as error:
        client.close()
        raise HostKeyRejected(
            f"host key of {where} ({error.key.get_name()} {error.key.fingerprint}) "
            f"is not in {server.known_hosts}; connection rejected. If the server's "
            "administrator confirms this fingerprint, add the key to that file"
        ) from None
    except paramiko.BadHostKeyException as error:
        client.close()
        raise HostKeyRejected(
            f"host key of {where} changed: {server.known_hosts} pins "
            f"{error.expected_key.fingerprint} but the server offered "
            f"{error.key.fingerprint}; connection rejected. Check with the server's "
            "administrator before changing the pinned key"
        ) from None
    except paramiko.AuthenticationException as error:
        client.close()
        raise LoginFailed(
            f"login as {server.username!r} on {where} failed: {error}; check that "
            f"the public key of {server.private_key} is authorized on the server"
        ) from None
    except (OSError, EOFError, paramiko.SSHException) as error:
        client.close()
        reason = "timed out" if isinstance(error, socket.timeout) else str(error)
        raise ConnectFailed(
            f"cannot connect to {where}: {reason or type(error).__name__}"
        ) from None


@contextmanager
def session(
    server: ServerSettings, settings: SyncSettings, deadline: Deadline
) -> Iterator[paramiko.SFTPClient]:
    """Yield an SFTP session that closes on exit or when ``deadline`` passes."""
    client, sftp = connect(server, settings)
    deadline.start(client)
    try:
        yield sftp
    finally:
        deadline.cancel()
        sftp.close()
        client.close()
