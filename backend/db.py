"""Engine creation, schema migrations and sessions."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker
from sqlalchemy.sql.expression import Executable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """The database could not be opened or migrated."""


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """Create an engine for ``url``.

    Raises:
        DatabaseError: the URL is invalid, its driver is not installed, or a
            SQLite file's folder does not exist.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"invalid database URL {url!r}; use a SQLAlchemy URL such as "
            "sqlite:////var/lib/penji/penji.db or "
            "postgresql+psycopg://penji@db.example.edu/penji"
        ) from None
    safe_url = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    ):
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            raise DatabaseError(
                f"cannot open database {safe_url}: folder {folder} does not exist; "
                "create it or correct the path"
            )
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 15})
            event.listen(engine, "connect", _configure_sqlite)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (ImportError, NoSuchModuleError) as error:
        raise DatabaseError(
            f"cannot open database {safe_url}: its driver is not installed "
            f"({error}); penji-tui ships drivers for sqlite:// and "
            "postgresql+psycopg://"
        ) from None


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revisions() -> set[str]:
    """Return the newest migration revisions shipped with this version.

    Areas of the product add their tables in migrations of their own, so the
    history may have several heads; every one of them is applied.
    """
    from alembic.script import ScriptDirectory

    config = _alembic_config(create_engine("sqlite://"))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    if not heads:
        raise DatabaseError("no schema migrations found; reinstall penji-tui")
    return heads


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revisions; does nothing when it is current."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == head_revisions():
        return
    log.info("migrating database schema from %s", sorted(current) or "empty")
    command.upgrade(_alembic_config(engine), "heads")


def open_database(url: str) -> sessionmaker[Session]:
    """Open the database at ``url``, migrate it, and return a session factory."""
    engine = create_db_engine(url)
    try:
        migrate(engine)
    except Exception as error:
        safe_url = make_url(url).render_as_string(hide_password=True)
        raise DatabaseError(f"cannot open database {safe_url}: {error}") from error
    # The ORM's classes are set up here once, about 50 ms, rather than inside
    # whichever query comes first, such as an import preview.
    configure_mappers()
    return sessionmaker(engine, expire_on_commit=False)


_cursor_ids = itertools.count(1)


def fetch_tuples(
    session: Session, query: Executable, batch: int = 10_000
) -> Iterator[tuple[Any, ...]]:
    """Run a SELECT on the raw driver cursor and yield plain tuples.

    See ``fetch_batches``, which this reads.
    """
    for rows in fetch_batches(session, query, batch):
        yield from rows


def fetch_batches(
    session: Session, query: Executable, batch: int = 10_000
) -> Iterator[list[tuple[Any, ...]]]:
    """Run a SELECT on the raw driver cursor and yield lists of plain tuples.

    Bypasses SQLAlchemy's row and type processing, which costs about half the
    time of loading 350,000 roster rows (bench/import_bench.py). Columns come
    back as the driver gives them: SQLite returns booleans as 0 or 1 and JSON as
    text. On PostgreSQL the cursor is a server-side one, so that only one batch
    is held in memory rather than the whole result.
    """
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    # ``compiled.params`` builds a new dict on every access.
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    dbapi_connection: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        cursor = dbapi_connection.cursor(name=f"fetch_batches_{next(_cursor_ids)}")
    else:
        cursor = dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session whose work commits on success and rolls back on error."""
    with factory() as session, session.begin():
        yield session


# Values per IN list on SQLite, well under the bound parameters it allows in
# one statement.
VALUES_PER_IN_LIST = 2_000


def in_values(
    session: Session, column: Any, values: Sequence[str]
) -> Iterator[ColumnElement[bool]]:
    """Yield conditions that together match ``column`` against ``values``.

    SQLite gets IN lists of at most ``VALUES_PER_IN_LIST`` values, each looked
    up in an index. PostgreSQL gets one ``= ANY(array)`` condition, because it
    scans the table for each long IN list, so fewer lists cost less.
    """
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(String)))
        return
    for start in range(0, len(values), VALUES_PER_IN_LIST):
        yield column.in_(values[start : start + VALUES_PER_IN_LIST])
