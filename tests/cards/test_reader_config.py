"""Card reader tables of the daemon configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.cards.reader_config import reader_configs
from backend.errors import InvalidValue

BASE = Path("/etc/penji")
QUEUES = Path("/var/lib/penji")


def test_reader_defaults() -> None:
    (reader,) = reader_configs(
        {"desk": {"community": "lc", "port": "/dev/ttyACM0"}}, BASE, QUEUES
    )
    assert reader.port.baudrate == 9600
    assert reader.port.silence == 0.2
    assert reader.queue_path == QUEUES / "card-swipes-desk.sqlite3"


def test_reader_relative_queue() -> None:
    table = {"community": "lc", "port": "/dev/ttyS0", "queue": "q.sqlite3"}
    (reader,) = reader_configs({"desk": table}, BASE, QUEUES)
    assert reader.queue_path == BASE / "q.sqlite3"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"port": "/dev/ttyS0"}, "missing community"),
        ({"community": "lc", "port": "/dev/ttyS0", "baud": "fast"}, "must be int"),
        ({"community": "lc", "port": "/dev/ttyS0", "parity": "odd-ish"}, "parity"),
        ({"community": "lc", "port": "/dev/ttyS0", "colour": 1}, "unknown setting"),
        ({"community": "lc", "port": "/dev/ttyS0", "baud": True}, "must be int"),
    ],
)
def test_reader_table_rejected(table: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        reader_configs({"desk": table}, BASE, QUEUES)


def test_reader_ports_unique() -> None:
    tables = {
        "a": {"community": "lc", "port": "/dev/ttyS0"},
        "b": {"community": "wc", "port": "/dev/ttyS0"},
    }
    with pytest.raises(InvalidValue, match="more than one"):
        reader_configs(tables, BASE, QUEUES)
