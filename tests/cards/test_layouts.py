"""Layouts against sample swipes of real reader and card kinds."""

from __future__ import annotations

import pytest

from backend.cards.layout import check_layout, decode_h10301, extract, luhn_valid
from backend.errors import InvalidValue

MAGTEK = "%B6011000990139424^DOE/JANE^2512101000000000?;6011000990139424=2512?\r"
ID_TECH = "%B6011000990139424^DOE/JANE^2512?\r;6011000990139424=2512?\r;0042?\r"


def h10301(facility: int, card: int) -> int:
    """Build a 26-bit H10301 number with correct parity bits."""
    bits = f"{facility:08b}{card:016b}"
    even = "1" if bits[:12].count("1") % 2 else "0"
    odd = "0" if bits[12:].count("1") % 2 else "1"
    return int(even + bits + odd, 2)


CASES = [
    # (name, layout options, swipe, expected status, expected id)
    ("magtek track 2 number", {"source": "track2"}, MAGTEK, "ok", "6011000990139424"),
    ("magtek track 1 number", {"source": "track1"}, MAGTEK, "ok", "6011000990139424"),
    ("id tech track 3", {"source": "track3"}, ID_TECH, "ok", "0042"),
    (
        "id tech track 3 zeros stripped",
        {"source": "track3", "strip_leading_zeros": True},
        ID_TECH,
        "ok",
        "42",
    ),
    (
        "position mask",
        {"source": "track2", "mask": "uuuuuuuuuuiiiiiiiu"},
        ";1234567899991082?\r",
        "ok",
        "9991082",
    ),
    (
        "offset and length",
        {"source": "track2", "offset": 10, "length": 7},
        ";1234567899991082?\r",
        "ok",
        "9991082",
    ),
    (
        "regex on 16 digits",
        {"source": "track2", "regex": r"6397(\d{9})\d{3}"},
        ";6397123456789012=2512?\r",
        "ok",
        "123456789",
    ),
    (
        "issuer prefix removed",
        {"source": "track2", "issuer_prefix": "6397"},
        ";6397123456789012=2512?\r",
        "ok",
        "123456789012",
    ),
    (
        "luhn passes",
        {"source": "track2", "luhn": True},
        MAGTEK,
        "ok",
        "6011000990139424",
    ),
    (
        "luhn fails",
        {"source": "track2", "luhn": True},
        MAGTEK.replace("9424", "9425"),
        "failed_read",
        None,
    ),
    (
        "proximity 26 bit",
        {"source": "whole", "proximity_format": "h10301-decimal", "facility_code": 18},
        f"{h10301(18, 4242)}\r\n",
        "ok",
        "4242",
    ),
    (
        "proximity 26 bit hex",
        {"source": "whole", "proximity_format": "h10301-hex"},
        f"{h10301(200, 65000):07X}\r",
        "ok",
        "65000",
    ),
    (
        "proximity other facility",
        {"source": "whole", "proximity_format": "h10301-decimal", "facility_code": 7},
        f"{h10301(18, 4242)}\r",
        "no_id",
        None,
    ),
    (
        "proximity parity error",
        {"source": "whole", "proximity_format": "h10301-decimal"},
        f"{h10301(18, 4242) ^ 1}\r",
        "failed_read",
        None,
    ),
    ("barcode", {"source": "whole"}, "A00123456\r\n", "ok", "A00123456"),
    (
        "barcode regex",
        {"source": "whole", "regex": r"^A(\d+)$", "strip_leading_zeros": True},
        "A00123456\r",
        "ok",
        "123456",
    ),
    (
        "prefix and suffix strings",
        {"source": "track2", "prefixes": ["@@"], "suffixes": ["##"]},
        "@@;12345=99?##",
        "ok",
        "12345",
    ),
    (
        "stx etx framing",
        {"source": "track2"},
        "\x02%B123^X^?;55501=1?\x03",
        "ok",
        "55501",
    ),
    ("failed track", {"source": "track2"}, "%B123^X^?;E?\r", "failed_read", None),
    ("all tracks failed", {"source": "track1"}, "%E?;E?\r", "failed_read", None),
    ("only track 1 read", {"source": "track2"}, "%B123^X^?\r", "failed_read", None),
    ("partial track", {"source": "track2"}, ";1234567\r", "failed_read", None),
    ("noise", {"source": "track2"}, "\x00\x17garbage\r", "failed_read", None),
    (
        "regex does not match",
        {"source": "track2", "regex": r"6397(\d{9})\d{3}"},
        ";1111222233334444?\r",
        "no_id",
        None,
    ),
    (
        "mask longer than track",
        {"source": "track2", "mask": "uuuuuuuuuuiiiiiiiu"},
        ";12345?\r",
        "no_id",
        None,
    ),
]


@pytest.mark.parametrize(
    ("options", "swipe", "status", "identifier"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_layout_extracts(
    options: dict[str, object], swipe: str, status: str, identifier: str | None
) -> None:
    result = extract(check_layout(options), swipe)
    assert result.status == status, result.reason
    assert result.id == identifier
    if status != "ok":
        assert result.reason


def test_failed_read_names_track() -> None:
    result = extract(check_layout({"source": "track2"}), "%B1^X^?;E?\r")
    assert result.reason == "the reader reported a failed read of track 2"


def test_tracks_split_per_cr() -> None:
    tracks = extract(check_layout({}), ID_TECH).swipe.tracks
    assert sorted(tracks) == [1, 2, 3]
    assert tracks[2].text == ";6011000990139424=2512?"


def test_plus_sentinel_is_track_three() -> None:
    tracks = extract(check_layout({}), ";123=4?+987?\r").swipe.tracks
    assert tracks[3].text == "+987?"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"source": "track4"}, "invalid layout source"),
        ({"mask": "uuxi"}, "use only 'u'"),
        ({"mask": "uuuu"}, "marks no 'i'"),
        ({"mask": "uui", "regex": "(1)"}, "choose one way"),
        ({"offset": 3}, "set both"),
        ({"regex": r"\d+"}, "no capture group"),
        ({"regex": "(["}, "invalid layout regex"),
        ({"proximity_format": "h10301-decimal"}, "needs the source 'whole'"),
        ({"source": "whole", "facility_code": 3}, "needs a proximity_format"),
        ({"source": "whole", "proximity_format": "awid"}, "invalid proximity"),
        ({"offset": -1, "length": 2}, "from 0 to 200"),
        ({"prefixes": [""]}, "non-empty strings"),
        ({"colour": "red"}, "unknown layout field"),
    ],
)
def test_invalid_layout_rejected(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        check_layout(options)


def test_layout_options_round_trip() -> None:
    layout = check_layout({"source": "1", "regex": r"B(\d+)\^", "prefixes": ["@"]})
    assert check_layout(layout.as_options()) == layout


def test_luhn_examples() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("7")


def test_h10301_decodes_fields() -> None:
    assert decode_h10301(str(h10301(255, 1)), "decimal") == (255, 1)


def test_h10301_rejects_wide_number() -> None:
    with pytest.raises(ValueError, match="26-bit"):
        decode_h10301(str(1 << 26), "decimal")


def test_slow_regex_gives_up_on_the_swipe() -> None:
    layout = check_layout({"source": "whole", "regex": r"(a|aa)+$"})
    extraction = extract(layout, "a" * 60 + "b\r")
    assert extraction.status == "no_id"
    assert "took over 50 ms" in (extraction.reason or "")
    assert "nested repeats" in (extraction.reason or "")
