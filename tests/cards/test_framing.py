"""Cutting reader output into swipes: terminators, silences and bursts."""

from __future__ import annotations

from backend.cards.framing import SwipeFramer

MAGTEK = "%B1234^DOE/JO^25?;1234=25?\r"
ID_TECH = "%B1234^DOE/JO^25?\r;1234=25?\r;77?\r"


def feed_all(framer: SwipeFramer, parts: list[tuple[str, float]]) -> list[str]:
    swipes: list[str] = []
    for text, now in parts:
        swipes.extend(framer.feed(text, now))
    return swipes


def test_first_cr_does_not_end_swipe() -> None:
    framer = SwipeFramer(silence=0.2)
    assert framer.feed("%B1234^DOE/JO^25?\r", 0.0) == []
    assert framer.feed(";1234=25?\r", 0.01) == []


def test_silence_ends_swipe() -> None:
    framer = SwipeFramer(silence=0.2)
    framer.feed(MAGTEK, 0.0)
    assert framer.flush_if_quiet(0.1) == []
    assert framer.flush_if_quiet(0.25) == [MAGTEK]


def test_third_track_ends_swipe() -> None:
    framer = SwipeFramer(silence=0.2)
    assert framer.feed(ID_TECH, 0.0) == [ID_TECH]


def test_stx_etx_frame() -> None:
    framer = SwipeFramer(silence=0.2)
    frame = "\x02%B1^X^?\r;1=2?\r\x03"
    assert framer.feed(frame + frame, 0.0) == [frame, frame]


def test_suffix_ends_swipe() -> None:
    framer = SwipeFramer(silence=0.2, suffixes=("##",))
    assert framer.feed("@@;12=3?##@@;45", 0.0) == ["@@;12=3?##"]


def test_line_per_swipe_crlf() -> None:
    framer = SwipeFramer(silence=0.2, line_per_swipe=True)
    swipes = framer.feed("A001\r\nA002\r\n", 0.0)
    assert [s.strip() for s in swipes] == ["A001", "A002"]


def test_burst_of_concatenated_swipes() -> None:
    framer = SwipeFramer(silence=0.2)
    swipes = framer.feed(MAGTEK * 3, 0.0) + framer.flush()
    assert swipes == [MAGTEK] * 3


def test_burst_separated_by_silence() -> None:
    framer = SwipeFramer(silence=0.2)
    swipes = feed_all(framer, [(";1=1?\r", 0.0), (";2=2?\r", 0.3), (";3=3?\r", 0.6)])
    swipes += framer.flush()
    assert swipes == [";1=1?\r", ";2=2?\r", ";3=3?\r"]


def test_unterminated_frame_ends_on_silence() -> None:
    framer = SwipeFramer(silence=0.2)
    framer.feed("\x02;123", 0.0)
    assert framer.flush_if_quiet(0.3) == ["\x02;123"]


def test_whitespace_only_is_dropped() -> None:
    framer = SwipeFramer(silence=0.2)
    framer.feed("\r\n", 0.0)
    assert framer.flush() == []


def test_overlong_noise_is_cut() -> None:
    framer = SwipeFramer(silence=0.2, max_characters=10)
    assert framer.feed("x" * 25, 0.0) == ["x" * 10, "x" * 10]
