"""The reader wired to the queue and the database, with the database stopped."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.cards.listener import CardListener
from backend.cards.serial_reader import PortSettings
from backend.db import open_database
from backend.models import CardSwipe, DropInCheckIn
from tests.cards.helpers import card_community
from tests.cards.ptys import FakeReader, wait_until
from tests.conftest import new_postgres_database
from tests.services.postgres import PostgresServer

ADA = "%B1^LOVELACE/ADA^?;000123=25?\r"
ALAN = "%B2^TURING/ALAN^?;456=25?\r"
NOBODY = "%B3^NOBODY/NO^?;999=25?\r"


def swipes_by_id(factory: sessionmaker[Session]) -> list[tuple[str | None, str]]:
    with factory() as session:
        rows = session.execute(
            select(CardSwipe.identifier, CardSwipe.outcome).order_by(CardSwipe.id)
        )
        return [(row[0], row[1]) for row in rows]


def check_in_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return len(session.scalars(select(DropInCheckIn.id)).all())


class RunningListener:
    def __init__(self, listener: CardListener) -> None:
        self.listener = listener
        self.stop = threading.Event()
        self.thread = threading.Thread(target=listener.run, args=(self.stop,))
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.fixture
def device(tmp_path: Path) -> Iterator[FakeReader]:
    fake = FakeReader(tmp_path / "ttyCARD")
    yield fake
    fake.unplug()


def start_listener(
    factory: sessionmaker[Session], device: FakeReader, queue: Path
) -> RunningListener:
    settings = PortSettings(port=str(device.path), silence=0.1, initial_backoff=0.05)
    listener = CardListener("lc", settings, queue, lambda: factory)
    listener.delivery.initial_retry = 0.05
    listener.delivery.max_retry = 0.5
    running = RunningListener(listener)
    assert listener.reader.opened.wait(10)
    return running


def test_listener_double_swipe(
    sqlite_factory: sessionmaker[Session], device: FakeReader, tmp_path: Path
) -> None:
    card_community(sqlite_factory)
    running = start_listener(sqlite_factory, device, tmp_path / "queue.sqlite3")
    try:
        device.send(ADA + ADA)
        wait_until(lambda: len(swipes_by_id(sqlite_factory)) == 2, "two swipes")
    finally:
        running.close()
    assert swipes_by_id(sqlite_factory) == [
        ("000123", "checked_in"),
        ("000123", "repeat"),
    ]
    assert check_in_count(sqlite_factory) == 1


def test_listener_records_failed_read(
    sqlite_factory: sessionmaker[Session], device: FakeReader, tmp_path: Path
) -> None:
    card_community(sqlite_factory)
    running = start_listener(sqlite_factory, device, tmp_path / "queue.sqlite3")
    try:
        device.send("%E?;E?\r")
        wait_until(lambda: len(swipes_by_id(sqlite_factory)) == 1, "one swipe")
    finally:
        running.close()
    assert swipes_by_id(sqlite_factory) == [(None, "failed_read")]


@pytest.mark.postgres
def test_queue_holds_swipes_while_database_down(
    postgres_server: PostgresServer, device: FakeReader, tmp_path: Path
) -> None:
    factory = open_database(new_postgres_database(postgres_server))
    card_community(factory)
    queue = tmp_path / "queue.sqlite3"
    running = start_listener(factory, device, queue)
    try:
        postgres_server.stop_server()
        try:
            device.send(ADA + ALAN + NOBODY)
            wait_until(lambda: running.listener.queue.count() == 3, "3 queued swipes")
            wait_until(
                lambda: running.listener.queue.pending()[0].attempts >= 2,
                "failed delivery attempts",
            )
        finally:
            postgres_server.start_server()
        wait_until(lambda: running.listener.queue.count() == 0, "an empty queue")
    finally:
        running.close()
    assert swipes_by_id(factory) == [
        ("000123", "checked_in"),
        ("456", "checked_in"),
        ("999", "checked_in"),
    ]
    factory.kw["bind"].dispose()


def queued_count(queue: Path) -> int:
    if not queue.exists():
        return 0
    connection = sqlite3.connect(queue, timeout=15)
    try:
        return int(connection.execute("SELECT count(*) FROM swipes").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def listen_process(url: str, device: FakeReader, queue: Path, home: Path) -> Any:
    env = dict(os.environ)
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    log = (home / "listen.log").open("a")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "penji_tui",
            "--db",
            url,
            "card",
            "listen",
            "lc",
            "--port",
            str(device.path),
            "--queue",
            str(queue),
            "--silence-ms",
            "100",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=env,
    )


def log_text(home: Path) -> str:
    return (home / "listen.log").read_text(errors="replace")


@pytest.mark.postgres
def test_queue_survives_sigkill_with_database_down(
    postgres_server: PostgresServer, device: FakeReader, tmp_path: Path
) -> None:
    url = new_postgres_database(postgres_server)
    factory = open_database(url)
    card_community(factory)
    queue = tmp_path / "queue.sqlite3"

    postgres_server.stop_server()
    try:
        process = listen_process(url, device, queue, tmp_path)
        try:
            wait_until(
                lambda: "card reader open on" in log_text(tmp_path), "the port to open"
            )
            device.send(ADA + ALAN + NOBODY)
            wait_until(lambda: queued_count(queue) == 3, "3 queued swipes")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    finally:
        postgres_server.start_server()

    assert swipes_by_id(factory) == []
    process = listen_process(url, device, queue, tmp_path)
    try:
        wait_until(lambda: len(swipes_by_id(factory)) == 3, "3 delivered swipes")
        wait_until(lambda: queued_count(queue) == 0, "an empty queue")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert swipes_by_id(factory) == [
        ("000123", "checked_in"),
        ("456", "checked_in"),
        ("999", "checked_in"),
    ]
    assert process.returncode == 0
    factory.kw["bind"].dispose()
