"""Builders for card reader tests: a community with students and a layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from backend.cards import service
from backend.cards.service import SwipeEvent
from backend.db import transaction
from backend.services import integrations, schools
from tests.helpers import csv_bytes, make_community, run_import

STUDENTS = [
    "ada@uni.edu,Ada,Lovelace,ada.sso,000123",
    "alan@uni.edu,Alan,Turing,alan.sso,456",
]
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def card_community(
    factory: sessionmaker[Session], slug: str = "lc", school: str = "uni"
) -> None:
    """Create a community with two students and a track 2 layout."""
    make_community(factory, slug, school, integrations_on=("students", "card_readers"))
    header = "Email,First Name,Last Name,SSO ID,Student ID"
    run_import(factory, "students", csv_bytes(header, STUDENTS), community=slug)
    with transaction(factory) as session:
        community = schools.get_community(session, slug)
        integrations.set_enabled(session, community, "card_readers", True)
        service.save_settings(session, community, {"source": "track2"})


def swipe(
    data: str, seconds: float = 0, slug: str = "lc", reader: str = "test"
) -> SwipeEvent:
    return SwipeEvent.new(slug, reader, data, T0 + timedelta(seconds=seconds))
