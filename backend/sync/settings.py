"""Settings of the SFTP sync, as the daemon's TOML configuration gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServerSettings:
    """One SFTP server and how to log in to it with a key.

    ``known_hosts`` pins the server's host key; a key that is missing from it or
    different is rejected, never added.
    """

    name: str
    host: str
    port: int
    username: str
    private_key: Path
    known_hosts: Path


@dataclass(frozen=True)
class CommunitySync:
    """The server and folder of one community's files.

    The folder contains ``inbound/``, ``outbound/`` and ``archive/``.
    """

    slug: str
    server: ServerSettings
    remote_dir: str


@dataclass(frozen=True)
class SyncSettings:
    """Timeouts, retries and archive places that every community's run uses.

    Times are in seconds.
    """

    communities: tuple[CommunitySync, ...] = ()
    connect_timeout: float = 15.0
    auth_timeout: float = 15.0
    operation_timeout: float = 60.0
    keepalive_interval: int = 15
    community_deadline: float = 1800.0
    connect_attempts: int = 3
    retry_backoff: float = 5.0
    settle_seconds: float = 5.0
    archive_dir: Path = field(default_factory=lambda: Path("sync-archive"))
    archive_keep_days: int = 90
    remote_archive: bool = True
    schedule_zone: str = "UTC"

    def community(self, slug: str) -> CommunitySync | None:
        return next((c for c in self.communities if c.slug == slug), None)
