"""Fixtures for fault tests, shared with the sync and SSO tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.daemon.conftest import known_hosts, make_settings, server, sshd
from tests.sso.conftest import idp_keys, sso_school

__all__ = ["idp_keys", "known_hosts", "make_settings", "server", "sshd", "sso_school"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Give back the root logger's handlers and level that main() changes."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
