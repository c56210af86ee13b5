"""Card layouts per community, student matching and check-in by swipe."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import audit
from backend.cards.layout import CardLayout, Extraction, check_layout, extract
from backend.db import transaction
from backend.errors import InvalidValue
from backend.models import CardSwipe, Community, DropInCheckIn, Student
from backend.services import integrations
from backend.services.schools import get_community

log = logging.getLogger(__name__)

KIND = "card_readers"
MAX_SAMPLES = 20


@dataclass(frozen=True)
class CardSettings:
    """A community's card reader settings, as stored in the integration options."""

    layout: CardLayout
    samples: list[str]
    repeat_seconds: float
    visit_hours: float


@dataclass(frozen=True)
class SwipeEvent:
    """One swipe as read, before it reaches the database.

    ``swipe_uuid`` makes delivery idempotent; ``read_at`` is when the reader
    sent it, which may be long before delivery when the database was down.
    """

    swipe_uuid: str
    community_slug: str
    reader: str
    data: str
    read_at: datetime
    method: str = "card"

    @classmethod
    def new(
        cls, community_slug: str, reader: str, data: str, read_at: datetime
    ) -> SwipeEvent:
        method = "kiosk" if reader == "kiosk" else "card"
        return cls(str(uuid.uuid4()), community_slug, reader, data, read_at, method)


@dataclass(frozen=True)
class SwipeOutcome:
    """The result of one swipe: the outcome, the ID and the matched student's names."""

    outcome: str
    identifier: str | None = None
    matched: bool = False
    first_name: str | None = None
    last_name: str | None = None
    reason: str | None = None
    check_in_id: int | None = None
    already_recorded: bool = False


def _number(value: Any, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"{name} must be a number, not {value!r}") from None
    if not low <= number <= high:
        raise InvalidValue(f"{name} must be from {low:g} to {high:g}, not {number:g}")
    return number


def check_option(name: str, value: Any) -> Any:
    """Check one Card Readers option as ``integrations.set_options`` stores it."""
    if name == "layout":
        return check_layout(dict(value)).as_options()
    if name == "samples":
        if len(value) > MAX_SAMPLES or not all(isinstance(s, str) for s in value):
            raise InvalidValue(f"samples must be at most {MAX_SAMPLES} swipes (text)")
        return value
    if name == "repeat_seconds":
        return _number(value, "repeat_seconds", 0, 600)
    if name == "visit_hours":
        return _number(value, "visit_hours", 0.25, 72)
    return value


def read_settings(session: Session, community: Community) -> CardSettings:
    """Return the stored card settings of ``community``."""
    options = integrations.get_setting(session, community, KIND).options
    try:
        layout = check_layout(dict(options.get("layout") or {}))
    except InvalidValue as error:
        raise InvalidValue(
            f"the stored card layout of {community.slug} is invalid ({error}); "
            f"fix it with 'penji-tui card layout set {community.slug} ...'"
        ) from None
    return CardSettings(
        layout=layout,
        samples=[str(s) for s in options.get("samples") or []],
        repeat_seconds=float(options.get("repeat_seconds", 5)),
        visit_hours=float(options.get("visit_hours", 12)),
    )


def try_samples(layout: CardLayout, samples: list[str]) -> list[Extraction]:
    """Apply ``layout`` to each sample swipe."""
    return [extract(layout, sample) for sample in samples]


def save_settings(
    session: Session,
    community: Community,
    layout_options: dict[str, Any] | None = None,
    samples: list[str] | None = None,
    repeat_seconds: Any = None,
    visit_hours: Any = None,
    force: bool = False,
) -> tuple[CardSettings, list[Extraction]]:
    """Check and store card settings; return them with each sample's extraction.

    The layout is checked, then tried against the samples (the new ones, or the
    stored ones when none are given). A sample that yields no ID rejects the
    change unless ``force`` is set, so a typo cannot stop every card at once.
    """
    current = read_settings(session, community)
    layout = current.layout
    if layout_options is not None:
        layout = check_layout(layout_options)
    if samples is None:
        samples = current.samples
    if len(samples) > MAX_SAMPLES:
        raise InvalidValue(f"{len(samples)} samples given; keep at most {MAX_SAMPLES}")
    changes: dict[str, Any] = {"layout": layout.as_options(), "samples": samples}
    if repeat_seconds is not None:
        changes["repeat_seconds"] = check_option("repeat_seconds", repeat_seconds)
    if visit_hours is not None:
        changes["visit_hours"] = check_option("visit_hours", visit_hours)

    results = try_samples(layout, samples)
    failing = [
        f"sample {number} ({result.reason})"
        for number, result in enumerate(results, start=1)
        if result.status != "ok"
    ]
    if failing and not force:
        raise InvalidValue(
            "the layout extracts no ID from "
            + "; ".join(failing)
            + "; fix the layout or the samples, or save anyway with --force"
        )
    integrations.set_options(session, community, KIND, **changes)
    return read_settings(session, community), results


def school_community_ids(session: Session, community: Community) -> list[int]:
    return list(
        session.scalars(
            select(Community.id).where(Community.school_id == community.school_id)
        )
    )


def match_student(
    session: Session, community: Community, identifier: str
) -> Student | None:
    """Find the roster student a card ID belongs to.

    Looks in the active roster rows of every community of the school, matching
    the student ID, then the SSO ID, then the email (case-insensitive), and
    prefers a row of ``community`` itself. A numeric ID that matches nothing
    is tried once more with leading zeros ignored on both sides, because
    spreadsheets often drop them.
    """
    identifier = identifier.strip()
    if not identifier:
        return None
    ids = school_community_ids(session, community)
    own_first = (Student.community_id != community.id, Student.id)
    conditions = [
        Student.student_id == identifier,
        Student.sso_id == identifier,
        func.lower(Student.email) == identifier.lower(),
    ]
    if identifier.isdigit() and identifier.lstrip("0"):
        conditions.append(func.ltrim(Student.student_id, "0") == identifier.lstrip("0"))
    for condition in conditions:
        student = session.scalars(
            select(Student)
            .where(Student.community_id.in_(ids), Student.active.is_(True), condition)
            .order_by(*own_first)
            .limit(1)
        ).first()
        if student is not None:
            return student
    return None


def _recorded_outcome(session: Session, swipe: CardSwipe) -> SwipeOutcome:
    check_in = (
        session.get(DropInCheckIn, swipe.check_in_id) if swipe.check_in_id else None
    )
    return SwipeOutcome(
        outcome=swipe.outcome,
        identifier=swipe.identifier,
        matched=swipe.matched,
        first_name=check_in.first_name if check_in else None,
        last_name=check_in.last_name if check_in else None,
        reason=swipe.reason,
        check_in_id=swipe.check_in_id,
        already_recorded=True,
    )


def _is_repeat(
    session: Session,
    community: Community,
    identifier: str,
    read_at: datetime,
    window: float,
) -> bool:
    if window <= 0:
        return False
    earlier = session.scalars(
        select(CardSwipe.read_at)
        .where(
            CardSwipe.community_id == community.id,
            CardSwipe.identifier == identifier,
            CardSwipe.outcome.in_(("checked_in", "checked_out", "repeat")),
            CardSwipe.read_at <= read_at,
        )
        .order_by(CardSwipe.read_at.desc())
        .limit(1)
    ).first()
    return earlier is not None and read_at - earlier < timedelta(seconds=window)


def _toggle_check_in(
    session: Session,
    community: Community,
    identifier: str,
    student: Student | None,
    event: SwipeEvent,
    visit_hours: float,
) -> tuple[str, DropInCheckIn]:
    """Check out the open visit of ``identifier``, or check in a new one."""
    open_visit = session.scalars(
        select(DropInCheckIn)
        .where(
            DropInCheckIn.community_id == community.id,
            DropInCheckIn.identifier == identifier,
            DropInCheckIn.checked_out_at.is_(None),
            DropInCheckIn.checked_in_at >= event.read_at - timedelta(hours=visit_hours),
            DropInCheckIn.checked_in_at <= event.read_at,
        )
        .order_by(DropInCheckIn.checked_in_at.desc())
        .limit(1)
    ).first()
    if open_visit is not None:
        open_visit.checked_out_at = event.read_at
        return "checked_out", open_visit
    check_in = DropInCheckIn(
        community_id=community.id,
        identifier=identifier,
        student_row_id=student.id if student else None,
        student_email=student.email if student else None,
        first_name=student.first_name if student else None,
        last_name=student.last_name if student else None,
        method=event.method,
        checked_in_at=event.read_at,
    )
    session.add(check_in)
    session.flush()
    return "checked_in", check_in


def _record(session: Session, event: SwipeEvent) -> SwipeOutcome:
    community = get_community(session, event.community_slug)
    settings = read_settings(session, community)
    extraction = extract(settings.layout, event.data)
    swipe = CardSwipe(
        swipe_uuid=event.swipe_uuid,
        community_id=community.id,
        reader=event.reader[:200],
        identifier=extraction.id,
        read_at=event.read_at,
        outcome=extraction.status,
        reason=(extraction.reason or "")[:500] or None,
    )
    result = SwipeOutcome(extraction.status, reason=extraction.reason)
    if extraction.id is not None:
        identifier = extraction.id
        student = match_student(session, community, identifier)
        names = (student.first_name, student.last_name) if student else (None, None)
        swipe.matched = student is not None
        if _is_repeat(
            session, community, identifier, event.read_at, settings.repeat_seconds
        ):
            swipe.outcome = "repeat"
            swipe.reason = f"same card within {settings.repeat_seconds:g} seconds"
            result = SwipeOutcome(
                "repeat", identifier, swipe.matched, *names, reason=swipe.reason
            )
        else:
            action, check_in = _toggle_check_in(
                session, community, identifier, student, event, settings.visit_hours
            )
            swipe.outcome = action
            swipe.check_in_id = check_in.id
            result = SwipeOutcome(
                action, identifier, swipe.matched, *names, check_in_id=check_in.id
            )
    session.add(swipe)
    audit.record(
        session,
        "card.swipe",
        community=community,
        kind=KIND,
        reader=event.reader,
        swipe=event.swipe_uuid,
        outcome=result.outcome,
        identifier=result.identifier,
        matched=result.matched,
    )
    return result


def record_swipe(factory: sessionmaker[Session], event: SwipeEvent) -> SwipeOutcome:
    """Record one swipe: check the student in or out, in one transaction.

    A swipe already recorded (same ``swipe_uuid``) returns its first outcome
    and changes nothing. Unmatched IDs check in too, with no roster student.
    """
    with transaction(factory) as session:
        existing = session.scalars(
            select(CardSwipe).where(CardSwipe.swipe_uuid == event.swipe_uuid)
        ).first()
        if existing is not None:
            return _recorded_outcome(session, existing)
        outcome = _record(session, event)
    log.info(
        "swipe %s from %s at %s for %s: %s, id %s, %s",
        event.swipe_uuid,
        event.reader,
        event.read_at.isoformat(),
        event.community_slug,
        outcome.outcome,
        outcome.identifier,
        "matched" if outcome.matched else "unmatched",
    )
    return outcome
