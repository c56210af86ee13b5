"""Arbitrary input for the swipe framer, the track parser and every card layout.

Whatever a reader sends, framing and extraction raise no exception, and every
extraction ends in one of the three documented statuses. Layout options typed
by a user are either accepted or rejected with InvalidValue.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.cards.framing import MAX_SWIPE_CHARACTERS, SwipeFramer
from backend.cards.layout import check_layout, extract
from backend.cards.tracks import parse_swipe
from backend.errors import InvalidValue
from tests.cards.test_layouts import CASES, MAGTEK
from tests.fuzzcount import count_example

LAYOUTS = [check_layout(case[1]) for case in CASES]
STATUSES = {"ok", "failed_read", "no_id"}

# Bytes as the serial reader turns them into text: Latin-1, one char per byte.
reader_text = st.binary(max_size=300).map(lambda data: data.decode("latin-1"))
track_noise = st.sampled_from(
    ["%", ";", "+", "?", "^", "=", "\r", "\n", "\x02", "\x03", "E", "B", "0"]
)
swipe_like = st.lists(
    st.one_of(track_noise, st.text(max_size=6), st.just(MAGTEK)), max_size=30
).map("".join)
any_swipe = st.one_of(reader_text, swipe_like, st.text(max_size=200))


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(range(len(LAYOUTS))), any_swipe)
def test_every_layout_extracts_or_names_failure(index: int, raw: str) -> None:
    count_example("cards: layouts on arbitrary swipes")
    layout = LAYOUTS[index]
    result = extract(layout, raw)
    assert result.status in STATUSES
    if result.status == "ok":
        assert result.id
    else:
        assert result.id is None
        assert result.reason
    result.as_dict()


@settings(max_examples=800, deadline=None)
@given(any_swipe)
def test_track_parser_never_crashes(raw: str) -> None:
    count_example("cards: track parser")
    swipe = parse_swipe(raw)
    assert swipe.raw == raw
    for number in swipe.tracks:
        assert number in (1, 2, 3)


chunks = st.lists(
    st.tuples(any_swipe, st.floats(min_value=0.0, max_value=2.0)), max_size=12
)


@settings(max_examples=600, deadline=None)
@given(chunks, st.booleans())
def test_framer_never_crashes(pieces: list[tuple[str, float]], per_line: bool) -> None:
    count_example("cards: framer on arbitrary chunks")
    framer = SwipeFramer(silence=0.5, line_per_swipe=per_line, suffixes=("##",))
    now = 0.0
    swipes: list[str] = []
    for text, gap in pieces:
        now += gap
        swipes += framer.feed(text, now)
        swipes += framer.flush_if_quiet(now)
    swipes += framer.flush()
    for swipe in swipes:
        assert swipe.strip()
        assert len(swipe) <= MAX_SWIPE_CHARACTERS
    assert not framer.pending


layout_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(max_size=20),
    st.sampled_from(["track1", "track2", "whole", "h10301-hex", "(a+)+$", "(\\d+"]),
    st.lists(st.text(max_size=4), max_size=3),
)
layout_options = st.dictionaries(
    st.sampled_from(
        [
            "source",
            "mask",
            "offset",
            "length",
            "regex",
            "strip_leading_zeros",
            "issuer_prefix",
            "luhn",
            "prefixes",
            "suffixes",
            "proximity_format",
            "facility_code",
            "colour",
        ]
    ),
    layout_values,
    max_size=6,
)


@settings(max_examples=1000, deadline=None)
@given(layout_options, any_swipe)
def test_typed_layout_accepted_or_rejected(options: dict[str, Any], raw: str) -> None:
    count_example("cards: typed layout options")
    try:
        layout = check_layout(options)
    except InvalidValue as error:
        assert str(error)
        return
    assert extract(layout, raw).status in STATUSES
