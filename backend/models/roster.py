"""Roster rows: students, courses, enrollments, metadata, grades and providers.

Every row belongs to one community and records its source: ``custom`` for an
admin's CSV upload, ``sftp`` for an import from the school's IT. ``key`` is the
row's identity within its community and source, as the import format defines it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from backend.models.base import Base, utcnow

SOURCES = ("custom", "sftp")


class RosterRow:
    """Columns every roster table shares."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    source: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return scope_constraints(cls.__tablename__)  # type: ignore[attr-defined]


def scope_constraints(table: str) -> tuple[Any, ...]:
    """Return the unique key of a roster table and its index of write times.

    The index lets the newest ``updated_at`` of a scope, part of the fingerprint
    previews compare, be found without reading every row.
    """
    return (
        UniqueConstraint("community_id", "source", "key"),
        Index(f"ix_{table}_scope_updated", "community_id", "source", "updated_at"),
    )


class Student(RosterRow, Base):
    """A student on a community's roster."""

    __tablename__ = "students"

    student_id: Mapped[str | None] = mapped_column(String(64))
    sso_id: Mapped[str | None] = mapped_column(String(320))
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        *scope_constraints("students"),
        Index("ix_students_community_student_id", "community_id", "student_id"),
        Index("ix_students_community_email", "community_id", "email"),
        Index("ix_students_community_sso_id", "community_id", "sso_id"),
    )


class Course(RosterRow, Base):
    """A course a community offers help in, like ``CHEM1301`` or ``BIOL110-Smith``."""

    __tablename__ = "courses"

    course_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    term: Mapped[str | None] = mapped_column(String(40))


class Enrollment(RosterRow, Base):
    """A student's enrollment in a course, with meeting times when IT sends them."""

    __tablename__ = "course_enrollments"

    student_key: Mapped[str] = mapped_column(String(320))
    course_code: Mapped[str] = mapped_column(String(64))
    term: Mapped[str | None] = mapped_column(String(40))
    meeting_days: Mapped[str | None] = mapped_column(String(20))
    meeting_time: Mapped[str | None] = mapped_column(String(40))


class StudentMetadata(RosterRow, Base):
    """The metadata fields a community keeps for one student."""

    __tablename__ = "student_metadata"

    student_key: Mapped[str] = mapped_column(String(320))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CourseGrade(RosterRow, Base):
    """A student's final grade in a course for one term."""

    __tablename__ = "course_grades"

    student_key: Mapped[str] = mapped_column(String(320))
    course_code: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(40))
    grade: Mapped[str] = mapped_column(String(8))
    grade_points: Mapped[str | None] = mapped_column(String(8))


class Provider(RosterRow, Base):
    """A tutor, coach or advisor, with the course codes they are certified in.

    ``courses`` keeps the certification list as written in the file, such as
    ``CHEM*|MATH1301``; a trailing ``*`` is a prefix wildcard.
    """

    __tablename__ = "providers"

    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    sso_id: Mapped[str | None] = mapped_column(String(320))
    courses: Mapped[str] = mapped_column(Text)
