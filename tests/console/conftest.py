"""Fixtures for console tests: a small school on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from penji_tui.app import PenjiApp
from tests.helpers import make_community


@pytest.fixture
def school_factory(sqlite_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A SQLite database with school "uni" and community "lc"."""
    make_community(sqlite_factory)
    return sqlite_factory


@pytest.fixture
def app(school_factory: sessionmaker[Session]) -> PenjiApp:
    return PenjiApp(school_factory)
