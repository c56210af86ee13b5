"""Fixtures for fault tests, shared with the sync tests: a real OpenSSH server."""

from tests.daemon.conftest import known_hosts, make_settings, server, sshd

__all__ = ["known_hosts", "make_settings", "server", "sshd"]
