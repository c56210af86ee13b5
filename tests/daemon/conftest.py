"""Fixtures for sync tests: one real OpenSSH server and per-test remote folders."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from backend.sync.settings import CommunitySync, ServerSettings, SyncSettings
from tests.services.sshd import SshdServer

_folder_numbers = itertools.count()


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshdServer]:
    with SshdServer() as server:
        yield server


@pytest.fixture
def known_hosts(sshd: SshdServer, tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line() + "\n")
    return path


@pytest.fixture
def server(sshd: SshdServer, known_hosts: Path) -> ServerSettings:
    return ServerSettings(
        name="test",
        host=sshd.host,
        port=sshd.port,
        username=sshd.username,
        private_key=sshd.client_key_path,
        known_hosts=known_hosts,
    )


SettingsFactory = Callable[..., SyncSettings]


@pytest.fixture
def make_settings(server: ServerSettings, tmp_path: Path) -> SettingsFactory:
    """Build sync settings for communities, each in a folder of its own."""

    def build(*slugs: str, **overrides: object) -> SyncSettings:
        number = next(_folder_numbers)
        communities = tuple(
            CommunitySync(slug, server, f"t{number}/{slug}") for slug in slugs
        )
        base = SyncSettings(
            communities=communities,
            connect_timeout=5,
            auth_timeout=5,
            operation_timeout=10,
            community_deadline=60,
            connect_attempts=2,
            retry_backoff=0.05,
            settle_seconds=0,
            archive_dir=tmp_path / "archive",
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    return build


def community_root(sshd: SshdServer, settings: SyncSettings, slug: str) -> Path:
    """Return the local path of a community's folder on the test server."""
    target = settings.community(slug)
    assert target is not None
    return sshd.root_dir / target.remote_dir


def drop(
    sshd: SshdServer, settings: SyncSettings, slug: str, name: str, data: bytes
) -> Path:
    """Put a file in a community's inbound/ folder, as school IT would."""
    inbound = community_root(sshd, settings, slug) / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    path = inbound / name
    path.write_bytes(data)
    return path


@pytest.fixture
def box_zone() -> Iterator[None]:
    """Run the test with the machine's local zone set to Pacific/Auckland."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Auckland"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()
