"""Card reader settings as they appear in a TOML configuration table.

The daemon reads one ``[card_readers.NAME]`` table per reader::

    [card_readers.front-desk]
    community = "northfield-learning"
    port = "/dev/ttyACM0"
    baud = 9600
    parity = "none"
    bytesize = 8
    stopbits = 1
    silence_ms = 200
    queue = "front-desk.sqlite3"

Only ``community`` and ``port`` are required. A relative ``queue`` path is
taken relative to the configuration file's folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.cards.serial_reader import PortSettings
from backend.errors import InvalidValue

FIELDS: dict[str, tuple[type, ...]] = {
    "community": (str,),
    "port": (str,),
    "baud": (int,),
    "parity": (str,),
    "bytesize": (int,),
    "stopbits": (int, float),
    "silence_ms": (int,),
    "queue": (str,),
}
REQUIRED = ("community", "port")


@dataclass(frozen=True)
class ReaderConfig:
    """One configured serial reader: its community, port and local queue."""

    name: str
    community_slug: str
    port: PortSettings
    queue_path: Path


def reader_config(
    name: str, table: Any, base_dir: Path, default_queue_dir: Path
) -> ReaderConfig:
    """Check one ``[card_readers.NAME]`` table and build its settings."""
    where = f"[card_readers.{name}]"
    if not isinstance(table, dict):
        raise InvalidValue(f"{where} must be a table")
    for field, value in table.items():
        types = FIELDS.get(field)
        if types is None:
            raise InvalidValue(
                f"unknown setting {field!r} in {where}; allowed: {', '.join(FIELDS)}"
            )
        if isinstance(value, bool) or not isinstance(value, types):
            kind = " or ".join(t.__name__ for t in types)
            raise InvalidValue(f"setting {field!r} in {where} must be {kind}")
    missing = [field for field in REQUIRED if field not in table]
    if missing:
        raise InvalidValue(f"{where} is missing {', '.join(missing)}")
    try:
        port = PortSettings(
            port=table["port"],
            baudrate=table.get("baud", 9600),
            parity=table.get("parity", "none"),
            bytesize=table.get("bytesize", 8),
            stopbits=table.get("stopbits", 1),
            silence=table.get("silence_ms", 200) / 1000,
        ).check()
    except ValueError as error:
        raise InvalidValue(f"{error} in {where}") from None
    queue = Path(table["queue"]).expanduser() if "queue" in table else None
    if queue is None:
        queue = default_queue_dir / f"card-swipes-{name}.sqlite3"
    elif not queue.is_absolute():
        queue = base_dir / queue
    return ReaderConfig(name, table["community"], port, queue)


def reader_configs(
    tables: Any, base_dir: Path, default_queue_dir: Path
) -> tuple[ReaderConfig, ...]:
    """Check every reader table of a ``[card_readers]`` section."""
    if not isinstance(tables, dict):
        raise InvalidValue("[card_readers] must be a table of reader tables")
    readers = tuple(
        reader_config(name, table, base_dir, default_queue_dir)
        for name, table in tables.items()
    )
    ports = [r.port.port for r in readers]
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise InvalidValue(
            f"port {duplicates[0]} is used by more than one card reader; "
            "each reader needs its own port"
        )
    return readers
