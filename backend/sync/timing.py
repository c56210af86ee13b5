"""The nightly slot: a time of day in a named zone, whatever the box's own zone.

A slot is the aware UTC instant at which one night's sync is due. On a day when
the zone's clocks spring forward past the time of day, the slot falls at the
same offset as before the change (02:30 becomes 03:30). When they fall back and
the time of day occurs twice, the slot is its first occurrence.
"""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.errors import InvalidValue


class Clock(Protocol):
    """A source of the current time, so that tests can control it."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def parse_time_of_day(text: str) -> time:
    """Parse ``HH:MM`` or ``HH:MM:SS`` (24-hour clock)."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            f"invalid time of day {text!r}; write it as HH:MM on a 24-hour clock, "
            "such as 00:00 or 18:30"
        ) from None


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"unknown time zone {name!r}; use an IANA name such as UTC or "
            "America/Chicago"
        ) from None


@dataclass(frozen=True)
class DailySlot:
    """A daily time of day in ``zone``."""

    time_of_day: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, time_text: str, zone_name: str) -> DailySlot:
        return cls(parse_time_of_day(time_text), parse_zone(zone_name))

    def on(self, day: date) -> datetime:
        """Return the slot of calendar ``day`` in the zone, in UTC."""
        local = datetime.combine(day, self.time_of_day, tzinfo=self.zone)
        return local.astimezone(UTC)

    def latest_due(self, now: datetime) -> datetime:
        """Return the newest slot at or before ``now``."""
        day = now.astimezone(self.zone).date() + timedelta(days=1)
        while (slot := self.on(day)) > now:
            day -= timedelta(days=1)
        return slot

    def next_after(self, now: datetime) -> datetime:
        """Return the first slot strictly after ``now``."""
        day = now.astimezone(self.zone).date() - timedelta(days=1)
        while (slot := self.on(day)) <= now:
            day += timedelta(days=1)
        return slot

    def describe(self) -> str:
        return f"{self.time_of_day:%H:%M} {self.zone.key}"


def box_local_time_of_day(instant: datetime) -> str:
    """Return ``instant`` as ``HH:MM:SS`` on this machine's local clock.

    The schedule library compares naive local times, so a UTC slot is handed to
    it in the machine's own zone.
    """
    local = datetime.fromtimestamp(instant.timestamp())
    return local.strftime("%H:%M:%S")


def monotonic() -> float:
    return time_module.monotonic()
