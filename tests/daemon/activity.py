"""Builders for the activity rows the exports read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models import (
    Community,
    DropInCheckIn,
    Membership,
    ProviderSignUp,
    TutoringSession,
    User,
)

START = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)


def add_activity(
    factory: sessionmaker[Session],
    slug: str,
    sessions: int = 3,
    feedback: str | None = "Helpful",
    start: datetime = START,
) -> None:
    """Add a student, a provider, sessions, check-ins, sign-ups and a join."""
    with transaction(factory) as session:
        community = session.scalars(
            select(Community).where(Community.slug == slug)
        ).one()
        student = session.scalars(
            select(User).where(
                User.school_id == community.school_id, User.email == "ada@uni.edu"
            )
        ).first()
        if student is None:
            student = User(
                school_id=community.school_id,
                email="ada@uni.edu",
                first_name="Ada",
                last_name="Lovelace",
                role="student",
            )
            provider = User(
                school_id=community.school_id,
                email="tutor@uni.edu",
                first_name="Tom",
                last_name="Tutor",
                role="provider",
            )
            session.add_all([student, provider])
            session.flush()
        joined = session.scalars(
            select(Membership).where(
                Membership.user_id == student.id,
                Membership.community_id == community.id,
            )
        ).first()
        if joined is None:
            session.add(
                Membership(
                    user_id=student.id, community_id=community.id, joined_at=start
                )
            )
        for number in range(sessions):
            begins = start + timedelta(days=number)
            session.add(
                TutoringSession(
                    community_id=community.id,
                    student_email="ada@uni.edu",
                    provider_email="tutor@uni.edu",
                    course_code="CHEM1301",
                    starts_at=begins,
                    ends_at=begins + timedelta(minutes=45),
                    feedback=feedback,
                )
            )
            session.add(
                DropInCheckIn(
                    community_id=community.id,
                    identifier="000123",
                    first_name="Ada",
                    course_code="CHEM1301",
                    checked_in_at=begins,
                    checked_out_at=begins + timedelta(minutes=30),
                )
            )
            session.add(
                ProviderSignUp(
                    community_id=community.id,
                    provider_email="tutor@uni.edu",
                    starts_at=begins,
                    ends_at=begins + timedelta(hours=2),
                    location="Library 2F",
                )
            )
