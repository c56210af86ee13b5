"""Cutting a reader's character stream into swipes.

A swipe ends on its terminator or after a short silence, never on the first CR
alone, because ID TECH-style readers end every track with CR. The terminators
are: ETX after STX, a configured suffix string, a line break after the third
track, and, for barcode and proximity readers that send one line per card, any
line break. A new track 1 (``%``) after a line break in a swipe that already
has one also starts a new swipe, so a fast burst of swipes is not merged.
"""

from __future__ import annotations

from backend.cards.tracks import END_SENTINEL, ETX, LINE_BREAKS, STX

DEFAULT_SILENCE_SECONDS = 0.2
MAX_SWIPE_CHARACTERS = 2048


class SwipeFramer:
    """Collects characters as they arrive and returns each complete swipe.

    Feed it with ``feed(text, now)``; call ``flush_if_quiet(now)`` when no data
    arrived, so that a swipe with no terminator ends after ``silence`` seconds.
    Times are monotonic seconds. Whitespace-only swipes are dropped.
    """

    def __init__(
        self,
        silence: float = DEFAULT_SILENCE_SECONDS,
        line_per_swipe: bool = False,
        suffixes: tuple[str, ...] = (),
        max_characters: int = MAX_SWIPE_CHARACTERS,
    ) -> None:
        self.silence = silence
        self.line_per_swipe = line_per_swipe
        self.suffixes = tuple(s for s in suffixes if s)
        self.max_characters = max_characters
        self._buffer: list[str] = []
        self._in_frame = False
        self._last_at: float | None = None

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    def deadline(self) -> float | None:
        """Return when the pending swipe ends by silence, if one is pending."""
        if not self._buffer or self._last_at is None:
            return None
        return self._last_at + self.silence

    def feed(self, text: str, now: float) -> list[str]:
        """Add characters received at ``now``; return the swipes they complete."""
        done = self.flush_if_quiet(now)
        for char in text:
            done.extend(self._add(char))
        if text:
            self._last_at = now
        return done

    def flush_if_quiet(self, now: float) -> list[str]:
        """End the pending swipe if nothing arrived for ``silence`` seconds."""
        deadline = self.deadline()
        if deadline is not None and now >= deadline:
            return self.flush()
        return []

    def flush(self) -> list[str]:
        """End the pending swipe now, whatever arrived of it."""
        text = "".join(self._buffer)
        self._buffer = []
        self._in_frame = False
        return [text] if text.strip() else []

    def _add(self, char: str) -> list[str]:
        done: list[str] = []
        if char == STX:
            done.extend(self.flush())
            self._in_frame = True
            self._buffer.append(char)
            return done
        if self._in_frame:
            self._buffer.append(char)
            if char == ETX:
                done.extend(self.flush())
            return done
        if char == "%" and self._starts_new_swipe():
            done.extend(self.flush())
        self._buffer.append(char)
        if self._ends_swipe(char) or len(self._buffer) >= self.max_characters:
            done.extend(self.flush())
        return done

    def _starts_new_swipe(self) -> bool:
        """Return whether a ``%`` now begins another swipe's track 1."""
        if not self._buffer or self._buffer[-1] not in LINE_BREAKS:
            return False
        return "%" in self._buffer

    def _ends_swipe(self, char: str) -> bool:
        if self.suffixes:
            text = "".join(self._buffer[-max(len(s) for s in self.suffixes) :])
            if any(text.endswith(suffix) for suffix in self.suffixes):
                return True
        if char not in LINE_BREAKS:
            return False
        if self.line_per_swipe:
            return True
        return self._buffer.count(END_SENTINEL) >= 3
