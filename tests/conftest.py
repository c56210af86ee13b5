"""Fixtures shared by the whole suite: databases on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.db import create_db_engine, migrate, open_database
from tests.services.postgres import PostgresServer

TEMPLATE_DATABASE = "penji_template"
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start one private PostgreSQL server for the session, with a migrated template."""
    with PostgresServer() as server:
        url = server.create_database(TEMPLATE_DATABASE)
        engine = create_db_engine(url)
        migrate(engine)
        engine.dispose()
        yield server


def new_postgres_database(server: PostgresServer) -> str:
    """Create an empty, migrated database by copying the template; return its URL."""
    name = f"penji_test_{next(_database_numbers)}"
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DATABASE}"))
    admin.dispose()
    return server.url_for(name)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'penji.db'}"
    server = request.getfixturevalue("postgres_server")
    return new_postgres_database(server)


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh database of each backend."""
    session_factory = open_database(db_url)
    yield session_factory
    session_factory.kw["bind"].dispose()


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh SQLite file only, for tests of one backend."""
    session_factory = open_database(f"sqlite:///{tmp_path / 'penji.db'}")
    yield session_factory
    session_factory.kw["bind"].dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many inputs each property-based test tried."""
    from tests.fuzzcount import EXAMPLES

    if not EXAMPLES:
        return
    terminalreporter.section("inputs tried by property-based tests")
    for name, count in sorted(EXAMPLES.items()):
        terminalreporter.write_line(f"{name}: {count:,}")
