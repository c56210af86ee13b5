"""Schools, their communities and each community's integration settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow

INTEGRATION_KINDS = (
    "students",
    "courses",
    "course_enrollment",
    "student_metadata",
    "course_grades",
    "data_exports",
    "canvas",
    "card_readers",
)
ELIGIBILITY_VALUES = ("everyone", "use_list")


class School(Base):
    """A university or college. SSO and the school share link are set per school."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    communities: Mapped[list[Community]] = relationship(
        back_populates="school",
        order_by="Community.created_at",
    )


class Community(Base):
    """A learning center, writing center or advising office of a school.

    ``created_at`` decides a user's "oldest joined community" for the landing rules,
    so it is set once and never changed. At most one community of a school is the
    ``onboarding_default``, where users who joined none land.
    """

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    hidden: Mapped[bool] = mapped_column(default=False)
    eligibility: Mapped[str] = mapped_column(String(16), default="everyone")
    provider_term: Mapped[str] = mapped_column(String(40), default="Tutors")
    remove_guard_percent: Mapped[float] = mapped_column(default=10.0)
    change_guard_percent: Mapped[float] = mapped_column(default=75.0)
    onboarding_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship(back_populates="communities")
    integrations: Mapped[list[IntegrationSetting]] = relationship(
        back_populates="community", order_by="IntegrationSetting.id"
    )


class IntegrationSetting(Base):
    """Whether one integration is on for one community, with its options."""

    __tablename__ = "integration_settings"
    __table_args__ = (UniqueConstraint("community_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(default=False)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime | None]

    community: Mapped[Community] = relationship(back_populates="integrations")
