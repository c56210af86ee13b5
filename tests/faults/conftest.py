"""Fixtures for fault tests, shared with the sync and SSO tests."""

from tests.daemon.conftest import known_hosts, make_settings, server, sshd
from tests.sso.conftest import idp_keys, sso_school

__all__ = ["idp_keys", "known_hosts", "make_settings", "server", "sshd", "sso_school"]
