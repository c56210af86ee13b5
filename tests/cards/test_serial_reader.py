"""The serial reader on pseudo-terminals: framings, unplugging, bursts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.cards.serial_reader import PortSettings, SerialCardReader
from tests.cards.ptys import FakeReader, SwipeLog, wait_until

MAGTEK = "%B1234^DOE/JO^25?;000123=25?\r"
ID_TECH = "%B1234^DOE/JO^25?\r;000123=25?\r;77?\r"


class Running:
    """A reader running on its own thread until the test ends."""

    def __init__(self, reader: SerialCardReader) -> None:
        self.reader = reader
        self.stop = threading.Event()
        self.thread = threading.Thread(target=reader.run, args=(self.stop,))
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.fixture
def device(tmp_path: Path) -> Iterator[FakeReader]:
    fake = FakeReader(tmp_path / "ttyCARD")
    yield fake
    fake.unplug()


@pytest.fixture
def start(device: FakeReader) -> Iterator[object]:
    running: list[Running] = []

    def start_reader(log: SwipeLog, **options: object) -> SerialCardReader:
        settings = PortSettings(
            port=str(device.path), silence=0.1, initial_backoff=0.05, **options
        )
        reader = SerialCardReader(settings, log)
        running.append(Running(reader))
        return reader

    yield start_reader
    for item in running:
        item.close()


FRAMINGS = [
    ("magtek one cr", MAGTEK, {}),
    ("id tech cr per track", ID_TECH, {}),
    ("lf per track", "%B1^X^?\n;000123=1?\n", {}),
    ("crlf per track", "%B1^X^?\r\n;000123=1?\r\n", {}),
    ("stx etx", "\x02%B1^X^?\r;000123=1?\r\x03", {}),
    ("prefix and suffix", "@@;000123=1?##", {"suffixes": ("##",)}),
    ("failed tracks", "%E?;E?\r", {}),
    ("only track 2", ";000123=1?\r", {}),
    ("barcode line", "A000123\r", {"line_per_swipe": True}),
    ("noise", "\x00\xff\x17zz", {}),
]


@pytest.mark.parametrize(
    ("data", "options"),
    [case[1:] for case in FRAMINGS],
    ids=[case[0] for case in FRAMINGS],
)
def test_reader_framing(
    device: FakeReader, start: object, data: str, options: dict[str, object]
) -> None:
    log = SwipeLog()
    reader = start(log, **options)  # type: ignore[operator]
    assert reader.opened.wait(10)
    device.send(data)
    assert log.wait_for(1) == [data]


def test_reader_swipe_in_pieces(device: FakeReader, start: object) -> None:
    log = SwipeLog()
    reader = start(log)  # type: ignore[operator]
    assert reader.opened.wait(10)
    for piece in ("%B1234^DO", "E/JO^25?\r", ";0001", "23=25?\r"):
        device.send(piece)
    assert log.wait_for(1) == ["%B1234^DOE/JO^25?\r;000123=25?\r"]


def test_reader_burst_of_swipes(device: FakeReader, start: object) -> None:
    log = SwipeLog()
    reader = start(log)  # type: ignore[operator]
    assert reader.opened.wait(10)
    device.send(MAGTEK * 20)
    assert log.wait_for(20) == [MAGTEK] * 20


def test_reader_reopens_after_unplug(device: FakeReader, start: object) -> None:
    log = SwipeLog()
    reader = start(log)  # type: ignore[operator]
    assert reader.opened.wait(10)
    device.send(MAGTEK)
    log.wait_for(1)

    device.unplug()
    wait_until(lambda: not reader.opened.is_set(), "the reader to notice the unplug")
    device.plug()
    wait_until(lambda: reader.open_count == 2, "the reader to reopen")
    assert reader.opened.wait(10)
    device.send(ID_TECH)
    assert log.wait_for(2) == [MAGTEK, ID_TECH]


def test_reader_waits_for_missing_device(
    device: FakeReader, start: object, caplog: pytest.LogCaptureFixture
) -> None:
    device.unplug()
    log = SwipeLog()
    reader = start(log)  # type: ignore[operator]
    wait_until(lambda: "cannot open card reader" in caplog.text, "an open failure")
    device.plug()
    assert reader.opened.wait(10)
    device.send(MAGTEK)
    assert log.wait_for(1) == [MAGTEK]


def test_reader_port_is_exclusive(
    device: FakeReader, start: object, caplog: pytest.LogCaptureFixture
) -> None:
    first = start(SwipeLog())  # type: ignore[operator]
    assert first.opened.wait(10)
    second = start(SwipeLog())  # type: ignore[operator]
    wait_until(lambda: "exclusively lock" in caplog.text, "the lock failure")
    assert second.open_count == 0


def test_port_settings_checked() -> None:
    with pytest.raises(ValueError, match="invalid parity"):
        PortSettings(port="/dev/null", parity="sometimes").check()
