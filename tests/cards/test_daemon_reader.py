"""The serial reader as a daemon worker, configured from the daemon's TOML."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import DatabaseError, open_database
from backend.errors import InvalidValue
from backend.models import DropInCheckIn
from penji_tui.daemon.config import load_config
from penji_tui.daemon.database import LazyDatabase
from penji_tui.daemon.main import build_daemon
from tests.cards.helpers import card_community
from tests.cards.ptys import FakeReader, wait_until
from tests.conftest import new_postgres_database
from tests.services.postgres import PostgresServer


def write_config(tmp_path: Path, reader_table: str) -> Path:
    path = tmp_path / "daemon.toml"
    path.write_text(f'[log]\nfile = "daemon.log"\n\n{reader_table}')
    return path


def test_daemon_config_reads_card_readers(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[card_readers.desk]\ncommunity = "lc"\nport = "/dev/ttyACM0"\n'
        'parity = "even"\nqueue = "desk.sqlite3"\n',
    )
    (reader,) = load_config(path).card_readers
    assert reader.community_slug == "lc"
    assert reader.port.parity == "even"
    assert reader.queue_path == tmp_path / "desk.sqlite3"


def test_daemon_config_rejects_bad_reader(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[card_readers.desk]\ncommunity = "lc"\n')
    with pytest.raises(InvalidValue, match=r"\[card_readers.desk\] is missing port"):
        load_config(path)


def test_daemon_runs_card_reader(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    card_community(sqlite_factory)
    device = FakeReader(tmp_path / "ttyCARD")
    path = write_config(
        tmp_path,
        f'[card_readers.desk]\ncommunity = "lc"\nport = "{device.path}"\n'
        'silence_ms = 100\nqueue = "desk.sqlite3"\n',
    )
    daemon = build_daemon(sqlite_factory, load_config(path))
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        listener = next(w for w in daemon._workers if w.name == "card-reader-desk")
        assert listener.reader.opened.wait(10)  # type: ignore[attr-defined]
        device.send("%B1^LOVELACE/ADA^?;000123=25?\r")

        def checked_in() -> bool:
            with sqlite_factory() as session:
                return session.scalars(select(DropInCheckIn)).first() is not None

        wait_until(checked_in, "a check-in")
    finally:
        daemon.stop.set()
        thread.join(timeout=90)
        device.unplug()
    assert not thread.is_alive()
    with sqlite_factory() as session:
        visit = session.scalars(select(DropInCheckIn)).one()
    assert visit.first_name == "Ada"


@pytest.mark.postgres
def test_daemon_starts_with_database_down(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = new_postgres_database(postgres_server)
    factory = open_database(url)
    card_community(factory)
    factory.kw["bind"].dispose()
    device = FakeReader(tmp_path / "ttyCARD")
    path = write_config(
        tmp_path,
        f'[card_readers.desk]\ncommunity = "lc"\nport = "{device.path}"\n'
        'silence_ms = 100\nqueue = "desk.sqlite3"\n',
    )
    postgres_server.stop_server()
    database = LazyDatabase(url)
    try:
        with pytest.raises(DatabaseError):
            database()
        daemon = build_daemon(database, load_config(path))
        thread = threading.Thread(target=daemon.run)
        thread.start()
        listener = next(w for w in daemon._workers if w.name == "card-reader-desk")
        assert listener.reader.opened.wait(10)  # type: ignore[attr-defined]
        device.send("%B1^LOVELACE/ADA^?;000123=25?\r")
        wait_until(lambda: listener.queue.count() == 1, "a queued swipe")  # type: ignore[attr-defined]
    finally:
        postgres_server.start_server()
    try:
        wait_until(lambda: listener.queue.count() == 0, "the swipe delivered")  # type: ignore[attr-defined]
    finally:
        daemon.stop.set()
        thread.join(timeout=90)
        device.unplug()
    assert not thread.is_alive()
    with database()() as session:
        visit = session.scalars(select(DropInCheckIn)).one()
    assert visit.first_name == "Ada"
    database().kw["bind"].dispose()
