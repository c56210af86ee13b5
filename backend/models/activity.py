"""Activity in a community: users, joins, sessions, check-ins and sign-ups.

These rows feed the landing rules of share links and the nightly data exports.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class User(Base):
    """A person who has used Penji at a school: a student or a provider.

    ``has_password`` marks users who signed up with a password before SSO was
    set up for the school.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("school_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    sso_id: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default="student")
    has_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id")
    )
    last_active_at: Mapped[datetime | None]


class Membership(Base):
    """A user's join of a community: the "student sign-ups" of the exports."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class TutoringSession(Base):
    """A tutoring, coaching or advising session, booked or logged afterwards."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_community_start", "community_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    student_email: Mapped[str] = mapped_column(String(320))
    provider_email: Mapped[str] = mapped_column(String(320))
    course_code: Mapped[str | None] = mapped_column(String(64))
    session_type: Mapped[str] = mapped_column(String(16), default="appointment")
    location: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="completed")
    feedback: Mapped[str | None] = mapped_column(Text)
    custom_answers: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DropInCheckIn(Base):
    """A student's check-in at a drop-in desk, from the kiosk or a card reader.

    ``identifier`` is what was given at the kiosk: a card's student ID or an
    email. ``student_row_id`` is the roster student it matched, or ``None`` for
    an unmatched check-in that staff can fix later; unmatched ones are kept.
    """

    __tablename__ = "drop_in_check_ins"
    __table_args__ = (
        Index("ix_drop_in_check_ins_community_in", "community_id", "checked_in_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    identifier: Mapped[str] = mapped_column(String(320))
    student_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id"), index=True
    )
    student_email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    course_code: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16), default="kiosk")
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_out_at: Mapped[datetime | None]


class ProviderSignUp(Base):
    """A provider's sign-up for a block of availability: the "tutor sign-ups"."""

    __tablename__ = "provider_sign_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    provider_email: Mapped[str] = mapped_column(String(320))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    session_type: Mapped[str] = mapped_column(String(16), default="drop_in")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
