"""A card reader stand-in: a pseudo-terminal whose slave side is the device.

The device path is a symlink to the pty's slave, so a test can "unplug" the
reader (close the master, remove the link) and plug in a new one at the same
path, as udev does for a USB-CDC reader.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

WAIT_SECONDS = 20


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class FakeReader:
    """A pty pair standing in for a serial card reader at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master: int | None = None
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        name = os.ttyname(slave)
        os.close(slave)
        self.master = master
        if self.path.is_symlink():
            self.path.unlink()
        self.path.symlink_to(name)

    def unplug(self) -> None:
        if self.master is not None:
            os.close(self.master)
            self.master = None
        if self.path.is_symlink():
            self.path.unlink()

    def send(self, data: str | bytes) -> None:
        assert self.master is not None, "the reader is unplugged"
        raw = data.encode("latin-1") if isinstance(data, str) else data
        os.write(self.master, raw)


class SwipeLog:
    """Collects swipes handed over by a reader, thread-safely."""

    def __init__(self) -> None:
        self.swipes: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, data: str, read_at: datetime) -> None:
        with self._lock:
            self.swipes.append(data)

    def wait_for(self, count: int) -> list[str]:
        wait_until(lambda: len(self.swipes) >= count, f"{count} swipe(s)")
        with self._lock:
            return list(self.swipes)
