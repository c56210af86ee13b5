"""Splitting what a card reader sends into magnetic stripe tracks.

Readers differ in framing. MagTek keyboard models send the tracks back to back
with one CR at the end, and ID TECH serial readers end each track with CR.
Others use LF or CRLF, wrap the swipe in STX/ETX, or add configured prefix and
suffix strings. Track 1 starts with ``%``, tracks 2 and 3 with ``;`` (some readers use
``+`` for track 3), and each ends with ``?`` (ISO/IEC 7811). A track the reader
failed to read arrives as ``%E?`` or ``;E?``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STX = "\x02"
ETX = "\x03"
LINE_BREAKS = "\r\n"
END_SENTINEL = "?"
TRACK_STARTS = "%;+"


@dataclass(frozen=True)
class Track:
    """One track as received, sentinels included, such as ``;1234=5678?``.

    ``problem`` is set when the reader reported a failed read or the track was
    cut off before its end sentinel; ``text`` then contains what did arrive.
    """

    number: int
    text: str
    problem: str | None = None

    @property
    def failed(self) -> bool:
        return self.problem is not None


@dataclass(frozen=True)
class Swipe:
    """One swipe: the raw characters, the body without framing, and its tracks."""

    raw: str
    body: str
    tracks: dict[int, Track] = field(default_factory=dict)
    noise: str = ""

    @property
    def whole(self) -> str:
        """The body on one line, for barcodes and proximity readers."""
        return "".join(line.strip() for line in self.body.splitlines())


def strip_framing(
    raw: str, prefixes: tuple[str, ...] = (), suffixes: tuple[str, ...] = ()
) -> str:
    """Remove STX/ETX, one allowed prefix, one allowed suffix and outer line ends."""
    body = raw.replace(STX, "").replace(ETX, "").strip(LINE_BREAKS)
    for prefix in sorted(prefixes, key=len, reverse=True):
        if prefix and body.startswith(prefix):
            body = body[len(prefix) :]
            break
    body = body.strip(LINE_BREAKS)
    for suffix in sorted(suffixes, key=len, reverse=True):
        if suffix and body.endswith(suffix):
            body = body[: -len(suffix)]
            break
    return body.strip(LINE_BREAKS)


def _track_number(start: str, seen: dict[int, Track]) -> int:
    if start == "%":
        return 1
    if start == "+":
        return 3
    return 3 if 2 in seen or 3 in seen else 2


def _read_track(body: str, start: int, seen: dict[int, Track]) -> tuple[Track, int]:
    """Read the track that starts at ``body[start]``; return it and where it ends."""
    number = _track_number(body[start], seen)
    position = start + 1
    while position < len(body):
        char = body[position]
        if char == END_SENTINEL:
            text = body[start : position + 1]
            problem = None
            if text[1:-1] == "E":
                problem = f"the reader reported a failed read of track {number}"
            return Track(number, text, problem), position + 1
        if char in LINE_BREAKS or char in TRACK_STARTS:
            break
        position += 1
    text = body[start:position]
    problem = f"track {number} was cut off before its end sentinel '?'"
    return Track(number, text, problem), position


def split_tracks(body: str) -> tuple[dict[int, Track], str]:
    """Find the tracks in ``body``; return them and any characters outside them."""
    tracks: dict[int, Track] = {}
    noise: list[str] = []
    position = 0
    while position < len(body):
        char = body[position]
        if char in TRACK_STARTS:
            track, position = _read_track(body, position, tracks)
            if track.number not in tracks:
                tracks[track.number] = track
            else:
                noise.append(track.text)
            continue
        if not char.isspace():
            noise.append(char)
        position += 1
    return tracks, "".join(noise)


def parse_swipe(
    raw: str, prefixes: tuple[str, ...] = (), suffixes: tuple[str, ...] = ()
) -> Swipe:
    """Split one swipe, as the framer delimited it, into its tracks."""
    body = strip_framing(raw, prefixes, suffixes)
    tracks, noise = split_tracks(body)
    return Swipe(raw=raw, body=body, tracks=tracks, noise=noise)
