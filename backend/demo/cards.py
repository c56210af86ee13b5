"""Card reader demo data: a layout per community and a morning of swipes."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from backend.cards import service
from backend.cards.service import SwipeEvent
from backend.db import transaction
from backend.demo.generate import DemoStudent
from backend.services import integrations, schools

# The Learning Commons reads ISO track 2 with the student ID inside a 16-digit
# card number. The Writing Center scans barcodes of "N" and the ID.
CARD_PREFIX = "6397"
DEMO_DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def magstripe(student: DemoStudent) -> str:
    """Return a MagTek-style swipe of a demo student's card: two tracks, one CR."""
    number = f"{CARD_PREFIX}{student.student_id}0001"
    name = f"{student.last_name.upper()}/{student.first_name.upper()}"
    return f"%B{number}^{name}^2812101?;{number}=2812101?\r"


def barcode(student: DemoStudent) -> str:
    return f"N{student.student_id}\r\n"


def _set_up(
    session: Session, slug: str, layout: dict[str, object], sample: str
) -> None:
    community = schools.get_community(session, slug)
    integrations.set_enabled(session, community, service.KIND, True)
    service.save_settings(session, community, layout, samples=[sample])


def load_card_demo(
    factory: sessionmaker[Session],
    rng: random.Random,
    students: list[DemoStudent],
    learning_slug: str,
    writing_slug: str,
) -> None:
    """Set up card layouts and record a morning of swipes, from a fixed seed."""
    with transaction(factory) as session:
        _set_up(
            session,
            learning_slug,
            {"source": "track2", "regex": rf"{CARD_PREFIX}(\d{{8}})\d{{4}}"},
            magstripe(students[0]),
        )
        _set_up(
            session,
            writing_slug,
            {"source": "whole", "regex": r"^N(\d+)$", "strip_leading_zeros": True},
            barcode(students[0]),
        )

    visitors = rng.sample(students[:200], 12)
    swipes: list[tuple[timedelta, str, str]] = []
    for number, student in enumerate(visitors):
        arrive = timedelta(minutes=number * 9 + rng.randrange(5))
        stay = timedelta(minutes=30 + rng.randrange(60))
        swipes.append((arrive, learning_slug, magstripe(student)))
        if number % 3:
            swipes.append((arrive + stay, learning_slug, magstripe(student)))
    swipes.append((timedelta(minutes=20), learning_slug, ";E?\r"))
    swipes.append((timedelta(minutes=47), learning_slug, magstripe_unknown()))
    for number, student in enumerate(visitors[:4]):
        swipes.append((timedelta(minutes=15 * number), writing_slug, barcode(student)))

    for offset, slug, data in sorted(swipes):
        event = SwipeEvent(
            swipe_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            community_slug=slug,
            reader="demo",
            data=data,
            read_at=DEMO_DAY + offset,
        )
        service.record_swipe(factory, event)


def magstripe_unknown() -> str:
    """Return a swipe of a card whose ID is on no roster, so it checks in unmatched."""
    number = f"{CARD_PREFIX}999999990001"
    return f"%B{number}^VISITOR/GUEST^2812101?;{number}=2812101?\r"
