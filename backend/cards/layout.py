"""A school's card layout: where the student ID is and how to extract it.

A layout names the source: track 1, 2 or 3, or the whole input for barcodes and
proximity readers. It cuts the ID out of the source with a position mask (``u``
unused, ``i`` ID), an offset and length, or a regular expression with one
capture group. Masks and offsets count from the first character of the track as
received, start sentinel included: the mask ``uuuuuuuuuuiiiiiiiu`` over
``;1234567899991082?`` gives ``9991082``. With none of them, the ID is the
track's primary account number (the digits before the first ``=`` or ``^``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import regex

from backend.cards.tracks import Swipe, parse_swipe
from backend.errors import InvalidValue

SOURCES = ("track1", "track2", "track3", "whole")
PROXIMITY_FORMATS = ("", "h10301-decimal", "h10301-hex")
MASK_CHARACTERS = frozenset("ui")
MAX_PATTERN_LENGTH = 500
# The maximum time a layout regex may search one swipe. A normal pattern takes
# microseconds; one with nested repeats, such as (a|aa)+$, can backtrack for
# far longer and would hold up every swipe after it.
MATCH_TIMEOUT_SECONDS = 0.05


@dataclass(frozen=True)
class CardLayout:
    """The position of the student ID on a community's cards (see the module doc).

    ``issuer_prefix`` is removed from the front of the extracted ID when present.
    ``luhn`` checks the Luhn digit of the primary account number (or of the whole
    input). ``prefixes`` and ``suffixes`` are strings the reader is configured to
    add around each swipe. ``proximity_format`` decodes a 26-bit H10301 number,
    sent in decimal or hex, to its 16-bit card number; ``facility_code`` then
    rejects cards of another facility.
    """

    source: str = "track2"
    mask: str = ""
    offset: int | None = None
    length: int | None = None
    regex: str = ""
    strip_leading_zeros: bool = False
    issuer_prefix: str = ""
    luhn: bool = False
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    proximity_format: str = ""
    facility_code: int | None = None

    def as_options(self) -> dict[str, Any]:
        """Return the layout as JSON-ready options, without unset values."""
        options = asdict(self)
        options["prefixes"] = list(self.prefixes)
        options["suffixes"] = list(self.suffixes)
        defaults = asdict(CardLayout())
        defaults["prefixes"] = []
        defaults["suffixes"] = []
        return {
            name: value
            for name, value in options.items()
            if value != defaults[name] or name == "source"
        }

    @property
    def method(self) -> str:
        """How the ID is cut out: ``mask``, ``offset``, ``regex`` or ``number``."""
        if self.mask:
            return "mask"
        if self.offset is not None:
            return "offset"
        if self.regex:
            return "regex"
        return "number"


@dataclass(frozen=True)
class Extraction:
    """The outcome of applying a layout to one swipe.

    ``status`` is ``ok`` with ``id`` set, ``failed_read`` when the reader did
    not deliver the track cleanly (so the card should be swiped again), or
    ``no_id`` when the track read fine but the layout found no ID in it.
    """

    swipe: Swipe
    status: str
    id: str | None = None
    reason: str | None = None
    source_text: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "id": self.id,
            "reason": self.reason,
            "tracks": {
                str(number): {"text": track.text, "problem": track.problem}
                for number, track in sorted(self.swipe.tracks.items())
            },
            "noise": self.swipe.noise,
            "source_text": self.source_text,
        }


def _text_list(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) and item for item in value
    ):
        raise InvalidValue(f"layout {name} must be a list of non-empty strings")
    return tuple(value)


def _optional_int(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidValue(
            f"layout {name} must be a whole number, not {value!r}"
        ) from None
    if not low <= number <= high:
        raise InvalidValue(f"layout {name} must be from {low} to {high}, not {number}")
    return number


def _check_regex(pattern: str) -> None:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidValue(
            f"layout regex is {len(pattern)} characters long; keep it under "
            f"{MAX_PATTERN_LENGTH}"
        )
    # Layout patterns run on the regex package, which has the same syntax as
    # the re module and a time limit per search.
    try:
        compiled = regex.compile(pattern)
    except regex.error as error:
        raise InvalidValue(f"invalid layout regex {pattern!r}: {error}") from None
    if compiled.groups < 1:
        raise InvalidValue(
            f"layout regex {pattern!r} has no capture group; put the ID in "
            "parentheses, as in 6397(\\d{9})\\d{3}"
        )


def _check_method(layout: CardLayout) -> None:
    chosen = [
        name
        for name, is_set in (
            ("mask", bool(layout.mask)),
            ("offset", layout.offset is not None or layout.length is not None),
            ("regex", bool(layout.regex)),
        )
        if is_set
    ]
    if len(chosen) > 1:
        raise InvalidValue(
            f"layout sets {' and '.join(chosen)}; choose one way to extract the ID"
        )
    if layout.mask:
        unknown = set(layout.mask) - MASK_CHARACTERS
        if unknown:
            raise InvalidValue(
                f"invalid layout mask {layout.mask!r}: use only 'u' (unused) and "
                f"'i' (ID), not {''.join(sorted(unknown))!r}"
            )
        if "i" not in layout.mask:
            raise InvalidValue(f"layout mask {layout.mask!r} marks no 'i' position")
    if (layout.offset is None) != (layout.length is None):
        raise InvalidValue("layout offset and length go together; set both")
    if layout.regex:
        _check_regex(layout.regex)


def check_layout(options: dict[str, Any]) -> CardLayout:
    """Build a layout from stored or typed options, rejecting invalid ones."""
    known = set(asdict(CardLayout()))
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidValue(
            f"unknown layout field(s) {', '.join(unknown)}; fields are: "
            + ", ".join(sorted(known))
        )
    source = str(options.get("source") or "track2")
    if source in ("1", "2", "3"):
        source = f"track{source}"
    if source not in SOURCES:
        raise InvalidValue(
            f"invalid layout source {source!r}; use one of: {', '.join(SOURCES)}"
        )
    proximity = str(options.get("proximity_format") or "")
    if proximity not in PROXIMITY_FORMATS:
        allowed = ", ".join(p for p in PROXIMITY_FORMATS if p)
        raise InvalidValue(f"invalid proximity_format {proximity!r}; use {allowed}")
    if proximity and source != "whole":
        raise InvalidValue("proximity_format needs the source 'whole'")
    layout = CardLayout(
        source=source,
        mask=str(options.get("mask") or ""),
        offset=_optional_int(options.get("offset"), "offset", 0, 200),
        length=_optional_int(options.get("length"), "length", 1, 200),
        regex=str(options.get("regex") or ""),
        strip_leading_zeros=bool(options.get("strip_leading_zeros", False)),
        issuer_prefix=str(options.get("issuer_prefix") or ""),
        luhn=bool(options.get("luhn", False)),
        prefixes=_text_list(options.get("prefixes"), "prefixes"),
        suffixes=_text_list(options.get("suffixes"), "suffixes"),
        proximity_format=proximity,
        facility_code=_optional_int(
            options.get("facility_code"), "facility_code", 0, 255
        ),
    )
    _check_method(layout)
    if layout.facility_code is not None and not proximity:
        raise InvalidValue("facility_code needs a proximity_format")
    return layout


def luhn_valid(digits: str) -> bool:
    """Return whether a string of digits ends in a correct Luhn check digit."""
    if len(digits) < 2 or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def account_number(text: str) -> str:
    """Return the primary account number: the digits after the start sentinel and
    format code, up to the first field separator."""
    body = text.strip("%;+?")
    if body[:1].isalpha():
        body = body[1:]
    return re.split(r"[=^]", body, maxsplit=1)[0]


def decode_h10301(text: str, encoding: str) -> tuple[int, int]:
    """Decode a 26-bit H10301 proximity number into (facility code, card number).

    Bit 25 is even parity over bits 24..13, bit 0 odd parity over bits 12..1;
    the facility code is bits 24..17 and the card number bits 16..1.

    Raises:
        ValueError: the text is not a number, is over 26 bits or fails parity.
    """
    value = int(text, 16 if encoding == "hex" else 10)
    if value < 0 or value >= 1 << 26:
        raise ValueError(f"{text!r} is not a 26-bit number")
    bits = f"{value:026b}"
    if bits[:13].count("1") % 2 != 0 or bits[13:].count("1") % 2 != 1:
        raise ValueError(f"{text!r} fails the H10301 parity check")
    return int(bits[1:9], 2), int(bits[9:25], 2)


def _source_text(layout: CardLayout, swipe: Swipe) -> tuple[str | None, str | None]:
    """Return the text the layout reads, or why it cannot be read."""
    if layout.source == "whole":
        if not swipe.whole:
            return None, "the swipe is empty"
        return swipe.whole, None
    number = int(layout.source[-1])
    track = swipe.tracks.get(number)
    if track is None:
        if not swipe.tracks:
            return None, "no card track found in what the reader sent"
        found = ", ".join(str(n) for n in sorted(swipe.tracks))
        return None, f"track {number} is missing from the swipe (found {found})"
    if track.failed:
        return None, track.problem
    return track.text, None


def _cut(layout: CardLayout, text: str) -> tuple[str | None, str | None]:
    """Cut the ID out of ``text`` with the layout's method."""
    if layout.mask:
        last = layout.mask.rindex("i")
        if len(text) <= last:
            return None, (
                f"the text is {len(text)} characters long, shorter than the mask's "
                f"last ID position {last + 1}"
            )
        return "".join(
            c for c, m in zip(text, layout.mask, strict=False) if m == "i"
        ), None
    if layout.offset is not None and layout.length is not None:
        end = layout.offset + layout.length
        if len(text) < end:
            return None, (
                f"the text is {len(text)} characters long, shorter than offset "
                f"{layout.offset} + length {layout.length}"
            )
        return text[layout.offset : end], None
    if layout.regex:
        try:
            match = regex.search(layout.regex, text, timeout=MATCH_TIMEOUT_SECONDS)
        except TimeoutError:
            return None, (
                f"the regex {layout.regex!r} took over "
                f"{MATCH_TIMEOUT_SECONDS * 1000:.0f} ms on this swipe; simplify it, "
                "for example without nested repeats such as (a|aa)+"
            )
        if match is None:
            return None, f"the regex {layout.regex!r} does not match"
        group = match.groupdict().get("id") or match.group(1)
        if not group:
            return None, f"the regex {layout.regex!r} captured nothing"
        return group, None
    if layout.source == "whole":
        return text, None
    number = account_number(text)
    if not number:
        return None, "the track has no account number before its first separator"
    return number, None


def extract(layout: CardLayout, raw: str) -> Extraction:
    """Parse one swipe and extract the student ID with ``layout``."""
    swipe = parse_swipe(raw, layout.prefixes, layout.suffixes)
    text, problem = _source_text(layout, swipe)
    if text is None:
        return Extraction(swipe, "failed_read", reason=problem)
    if layout.luhn:
        digits = account_number(text) if layout.source != "whole" else text
        if not luhn_valid(digits):
            return Extraction(
                swipe,
                "failed_read",
                reason=f"the card number {digits!r} fails the Luhn check",
                source_text=text,
            )
    cut_from = text
    if layout.proximity_format:
        try:
            facility, card = decode_h10301(
                text, layout.proximity_format.removeprefix("h10301-")
            )
        except ValueError as error:
            return Extraction(swipe, "failed_read", reason=str(error), source_text=text)
        if layout.facility_code is not None and facility != layout.facility_code:
            return Extraction(
                swipe,
                "no_id",
                reason=f"facility code {facility} is not {layout.facility_code}",
                source_text=text,
            )
        cut_from = str(card)
    identifier, problem = _cut(layout, cut_from)
    if identifier is None:
        return Extraction(swipe, "no_id", reason=problem, source_text=text)
    if layout.issuer_prefix and identifier.startswith(layout.issuer_prefix):
        identifier = identifier[len(layout.issuer_prefix) :]
    if layout.strip_leading_zeros:
        identifier = identifier.lstrip("0") or "0"
    identifier = identifier.strip()
    if not identifier:
        return Extraction(swipe, "no_id", reason="the extracted ID is empty")
    return Extraction(swipe, "ok", id=identifier, source_text=text)
