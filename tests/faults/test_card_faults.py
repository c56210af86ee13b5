"""A card reader unplugged in the middle of a swipe, on a pseudo-terminal.

The half swipe that arrived before the unplug must never merge with the next
swipe or yield a student ID; the next full swipe reads whole.
"""

from __future__ import annotations

from backend.cards.layout import check_layout, extract
from tests.cards.ptys import FakeReader, SwipeLog, wait_until
from tests.cards.test_serial_reader import ID_TECH, device, start

__all__ = ["device", "start"]

HALF_SWIPE = "%B1234^DO"


def test_unplug_mid_swipe(device: FakeReader, start: object) -> None:
    log = SwipeLog()
    reader = start(log)  # type: ignore[operator]
    assert reader.opened.wait(10)
    device.send(HALF_SWIPE)

    device.unplug()
    wait_until(lambda: not reader.opened.is_set(), "the reader to notice the unplug")
    device.plug()
    wait_until(lambda: reader.open_count == 2, "the reader to reopen")
    assert reader.opened.wait(10)
    device.send(ID_TECH)
    swipes = log.wait_for(1)
    if swipes[-1] != ID_TECH:
        swipes = log.wait_for(2)

    layout = check_layout({"source": "track2"})
    assert swipes[-1] == ID_TECH
    assert all(ID_TECH not in swipe or swipe == ID_TECH for swipe in swipes)
    assert extract(layout, swipes[-1]).id == "000123"
    for swipe in swipes[:-1]:
        assert HALF_SWIPE.startswith(swipe.strip())
        assert extract(layout, swipe).status == "failed_read"
