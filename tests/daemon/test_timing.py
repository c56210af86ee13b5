"""Nightly slots in a named zone, and the schedule job in the machine's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.errors import InvalidValue
from backend.sync.timing import DailySlot, box_local_time_of_day


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_utc_midnight_latest_due() -> None:
    slot = DailySlot.parse("00:00", "UTC")
    assert slot.latest_due(utc(2026, 12, 4, 15, 0)) == utc(2026, 12, 4)


def test_slot_exactly_now_is_due() -> None:
    slot = DailySlot.parse("00:00", "UTC")
    assert slot.latest_due(utc(2026, 12, 4)) == utc(2026, 12, 4)
    assert slot.next_after(utc(2026, 12, 4)) == utc(2026, 12, 5)


def test_zone_slot_in_utc() -> None:
    slot = DailySlot.parse("18:30", "America/Chicago")
    # 00:00 UTC on 4 December is 18:00 CST on the 3rd.
    assert slot.next_after(utc(2026, 12, 4, 0, 0)) == utc(2026, 12, 4, 0, 30)
    assert slot.next_after(utc(2026, 7, 4, 0, 0)) == utc(2026, 7, 4, 23, 30)


def test_spring_forward_gap() -> None:
    slot = DailySlot.parse("02:30", "America/Chicago")
    # 2026-03-08 02:30 does not exist in Chicago; the slot is 03:30 CDT.
    assert slot.next_after(utc(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 8, 30)


def test_fall_back_first_occurrence() -> None:
    slot = DailySlot.parse("01:30", "America/Chicago")
    # 2026-11-01 01:30 occurs twice; the slot is the first, in CDT.
    assert slot.next_after(utc(2026, 11, 1, 0, 0)) == utc(2026, 11, 1, 6, 30)


def test_invalid_time_rejected() -> None:
    with pytest.raises(InvalidValue, match="invalid time of day '25:00'"):
        DailySlot.parse("25:00", "UTC")


def test_unknown_zone_rejected() -> None:
    with pytest.raises(InvalidValue, match="unknown time zone 'Mars/Base'"):
        DailySlot.parse("00:00", "Mars/Base")


def test_box_local_time_of_day(box_zone: None) -> None:
    # Midnight UTC in December is 13:00 in Auckland (NZDT, +13).
    assert box_local_time_of_day(utc(2026, 12, 5)) == "13:00:00"
