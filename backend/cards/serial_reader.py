"""Reading a serial or USB-CDC card reader with pyserial.

The port is opened with exclusive access (pyserial's ``exclusive=True``, an
advisory ``flock`` on POSIX) and a short read timeout, so silences can end a
swipe. When the device goes away (pyserial raises ``SerialException``, for
instance "device reports readiness to read but returned no data" after an
unplug) the port is closed and reopened with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import serial

from backend.cards.framing import DEFAULT_SILENCE_SECONDS, SwipeFramer
from backend.models import utcnow

log = logging.getLogger(__name__)

PARITIES = {
    "none": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK,
    "space": serial.PARITY_SPACE,
}
BYTE_SIZES = {
    5: serial.FIVEBITS,
    6: serial.SIXBITS,
    7: serial.SEVENBITS,
    8: serial.EIGHTBITS,
}
STOP_BITS = {
    1: serial.STOPBITS_ONE,
    1.5: serial.STOPBITS_ONE_POINT_FIVE,
    2: serial.STOPBITS_TWO,
}
READ_TIMEOUT_SECONDS = 0.05

SwipeHandler = Callable[[str, datetime], None]


@dataclass(frozen=True)
class PortSettings:
    """How to open the reader's port; the defaults suit most readers (9600 8N1)."""

    port: str
    baudrate: int = 9600
    parity: str = "none"
    bytesize: int = 8
    stopbits: float = 1
    silence: float = DEFAULT_SILENCE_SECONDS
    line_per_swipe: bool = False
    suffixes: tuple[str, ...] = ()
    initial_backoff: float = 0.5
    max_backoff: float = 30.0

    def check(self) -> PortSettings:
        """Return self if every setting is one pyserial accepts."""
        if self.parity not in PARITIES:
            raise ValueError(
                f"invalid parity {self.parity!r}; use one of: {', '.join(PARITIES)}"
            )
        if self.bytesize not in BYTE_SIZES:
            raise ValueError(f"invalid byte size {self.bytesize}; use 5, 6, 7 or 8")
        if self.stopbits not in STOP_BITS:
            raise ValueError(f"invalid stop bits {self.stopbits}; use 1, 1.5 or 2")
        if self.baudrate <= 0:
            raise ValueError(f"invalid baud rate {self.baudrate}")
        if not 0.02 <= self.silence <= 5:
            raise ValueError(f"silence must be 0.02 to 5 seconds, not {self.silence}")
        return self


class SerialCardReader:
    """Reads swipes from one port and hands each to ``on_swipe(data, read_at)``.

    ``on_swipe`` runs on the reader's thread and should return quickly (append
    to the local queue). Characters are decoded as Latin-1 so that noise bytes
    never fail decoding.
    """

    def __init__(self, settings: PortSettings, on_swipe: SwipeHandler) -> None:
        self.settings = settings.check()
        self.on_swipe = on_swipe
        self.opened = threading.Event()
        self.open_count = 0

    def _open(self) -> serial.Serial:
        s = self.settings
        return serial.Serial(
            port=s.port,
            baudrate=s.baudrate,
            parity=PARITIES[s.parity],
            bytesize=BYTE_SIZES[s.bytesize],
            stopbits=STOP_BITS[s.stopbits],
            timeout=READ_TIMEOUT_SECONDS,
            exclusive=True,
        )

    def run(self, stop_event: threading.Event) -> None:
        """Read swipes until ``stop_event`` is set, reopening the port as needed."""
        port = self.settings.port
        log.info("card reader starting on %s", port)
        backoff = self.settings.initial_backoff
        failures = 0
        while not stop_event.is_set():
            try:
                device = self._open()
            except (serial.SerialException, OSError) as error:
                failures += 1
                # Log the first failures, then every tenth, so that a reader
                # left unplugged does not fill the log.
                if failures <= 3 or failures % 10 == 0:
                    log.warning(
                        "cannot open card reader %s (attempt %d, next in %.1f s): %s",
                        port,
                        failures,
                        backoff,
                        error,
                    )
                stop_event.wait(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)
                continue
            failures = 0
            backoff = self.settings.initial_backoff
            self.open_count += 1
            log.info("card reader open on %s", port)
            self.opened.set()
            try:
                self._read(device, stop_event)
            except (serial.SerialException, OSError) as error:
                log.warning("card reader %s disconnected: %s", port, error)
            finally:
                self.opened.clear()
                device.close()
        log.info("card reader on %s stopped", port)

    def _read(self, device: serial.Serial, stop_event: threading.Event) -> None:
        s = self.settings
        framer = SwipeFramer(s.silence, s.line_per_swipe, s.suffixes)
        try:
            while not stop_event.is_set():
                chunk = device.read(max(1, device.in_waiting))
                now = time.monotonic()
                text = chunk.decode("latin-1")
                for swipe in (
                    framer.feed(text, now) if text else framer.flush_if_quiet(now)
                ):
                    self._deliver(swipe)
        finally:
            for swipe in framer.flush():
                self._deliver(swipe)

    def _deliver(self, data: str) -> None:
        log.info("swipe read on %s (%d characters)", self.settings.port, len(data))
        try:
            self.on_swipe(data, utcnow())
        except Exception:
            log.exception("swipe handler failed for a swipe on %s", self.settings.port)
