"""Generate a term of activity for a demo community: joins, sessions, check-ins.

Everything derives from one seeded ``random.Random`` and fixed term dates, so the
nightly exports of the demo school are the same on every machine.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.models import (
    Community,
    Course,
    DropInCheckIn,
    Membership,
    Provider,
    ProviderSignUp,
    Student,
    TutoringSession,
    User,
)

TERM_START = date(2026, 8, 24)
TERM_END = date(2026, 12, 11)
# Sessions after this moment are still to come: booked, not yet held.
DEMO_NOW = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
LOCATIONS = ("Library 2F", "Science Hall 104", "Online", "Student Union 3")
FEEDBACK = (
    "Very helpful, we worked through the practice exam.",
    "Went over lab report structure.",
    "Great session!",
    "Could use more time on stoichiometry.",
    "",
    "",
)
# Hours are UTC: 14:00 to 01:00 UTC covers 9 am to 8 pm Central time.
OPENING_HOURS_UTC = (14, 15, 16, 17, 18, 19, 20, 21, 22, 23)


def _term_days() -> list[date]:
    days = []
    day = TERM_START
    while day <= TERM_END:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _users(
    session: Session, school_id: int, students: list[Student], providers: list[Provider]
) -> tuple[dict[str, int], dict[str, int]]:
    """Create the users who joined, reusing those of other communities."""
    known = {
        email: user_id
        for email, user_id in session.execute(
            select(User.email, User.id).where(User.school_id == school_id)
        )
    }
    rows: list[dict[str, Any]] = []
    for people, role in ((students, "student"), (providers, "provider")):
        for person in people:
            if person.email and person.email not in known:
                known[person.email] = -1
                rows.append(
                    {
                        "school_id": school_id,
                        "email": person.email,
                        "sso_id": person.sso_id,
                        "first_name": person.first_name,
                        "last_name": person.last_name,
                        "role": role,
                        "created_at": _at(TERM_START, 15),
                    }
                )
    if rows:
        session.execute(insert(User), rows)
    ids = {
        email: user_id
        for email, user_id in session.execute(
            select(User.email, User.id).where(User.school_id == school_id)
        )
    }
    return (
        {s.email: ids[s.email] for s in students if s.email},
        {p.email: ids[p.email] for p in providers},
    )


def add_activity(session: Session, community: Community, rng: random.Random) -> None:
    """Fill a community with a term of joins, sign-ups, sessions and check-ins."""
    all_students = list(
        session.scalars(
            select(Student)
            .where(Student.community_id == community.id, Student.source == "sftp")
            .order_by(Student.id)
        )
    )
    providers = list(
        session.scalars(
            select(Provider)
            .where(Provider.community_id == community.id)
            .order_by(Provider.id)
        )
    )
    codes = list(
        session.scalars(
            select(Course.course_code)
            .where(Course.community_id == community.id)
            .order_by(Course.course_code)
        )
    )
    joined = rng.sample(all_students, len(all_students) // 3)
    student_ids, _provider_ids = _users(session, community.school_id, joined, providers)
    days = _term_days()

    session.execute(
        insert(Membership),
        [
            {
                "user_id": student_ids[s.email],
                "community_id": community.id,
                "joined_at": _at(rng.choice(days[:40]), rng.choice(OPENING_HOURS_UTC)),
            }
            for s in joined
            if s.email
        ],
    )
    sign_ups = []
    for provider in providers:
        weekday_hours = {
            weekday: rng.choice(OPENING_HOURS_UTC[:-2])
            for weekday in rng.sample(range(5), 2)
        }
        for day in days:
            hour = weekday_hours.get(day.weekday())
            if hour is not None:
                sign_ups.append(
                    {
                        "community_id": community.id,
                        "provider_email": provider.email,
                        "starts_at": _at(day, hour),
                        "ends_at": _at(day, hour + 2),
                        "location": rng.choice(LOCATIONS),
                        "session_type": rng.choice(("drop_in", "appointment")),
                        "created_at": _at(TERM_START - timedelta(days=7), 16),
                    }
                )
    session.execute(insert(ProviderSignUp), sign_ups)

    sessions = []
    for _ in range(len(joined) * 2):
        student = rng.choice(joined)
        provider = rng.choice(providers)
        day = rng.choice(days)
        starts = _at(day, rng.choice(OPENING_HOURS_UTC), rng.choice((0, 30)))
        minutes = rng.choice((30, 45, 60, 60, 90))
        upcoming = starts > DEMO_NOW
        status = (
            "scheduled"
            if upcoming
            else rng.choice(("completed",) * 8 + ("no_show", "cancelled"))
        )
        sessions.append(
            {
                "community_id": community.id,
                "student_email": student.email,
                "provider_email": provider.email,
                "course_code": rng.choice(codes) if codes else None,
                "session_type": rng.choice(("appointment", "appointment", "drop_in")),
                "location": rng.choice(LOCATIONS),
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=minutes),
                "status": status,
                "feedback": rng.choice(FEEDBACK) if status == "completed" else None,
                "custom_answers": None,
                "created_at": starts - timedelta(days=rng.randint(0, 10)),
            }
        )
    session.execute(insert(TutoringSession), sessions)

    check_ins = []
    for day in days:
        if _at(day, 0) > DEMO_NOW:
            break
        for _ in range(rng.randint(5, 25)):
            student = rng.choice(all_students)
            arrived = _at(day, rng.choice(OPENING_HOURS_UTC), rng.randrange(60))
            matched = rng.random() < 0.93
            check_ins.append(
                {
                    "community_id": community.id,
                    "identifier": student.student_id
                    if matched
                    else f"{rng.randrange(10**8):08d}",
                    "student_row_id": student.id if matched else None,
                    "student_email": student.email if matched else None,
                    "first_name": student.first_name if matched else None,
                    "last_name": student.last_name if matched else None,
                    "course_code": rng.choice(codes) if codes else None,
                    "method": rng.choice(("kiosk", "card_reader", "card_reader")),
                    "checked_in_at": arrived,
                    "checked_out_at": arrived + timedelta(minutes=rng.randint(10, 120)),
                }
            )
    session.execute(insert(DropInCheckIn), check_ins)
