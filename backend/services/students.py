"""Finding students across both roster sources, and a student's profile.

A community's student list is the union of its custom rows (admin uploads) and
its IT rows (SFTP imports); each row found keeps its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.errors import InvalidValue, NotFound
from backend.models import (
    Community,
    CourseGrade,
    Enrollment,
    School,
    Student,
    StudentMetadata,
)

SEARCH_LIMIT = 500


@dataclass(frozen=True)
class StudentRow:
    """One roster row of a student, from one source of one community."""

    id: int
    community_slug: str
    source: str
    key: str
    email: str | None
    first_name: str | None
    last_name: str | None
    student_id: str | None
    sso_id: str | None
    active: bool

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class StudentProfile:
    """A student's roster row with their metadata, enrollments and grades.

    Metadata, enrollments and grades match the student by student ID or email,
    from either source, as the import files refer to students either way.
    """

    student: StudentRow
    metadata: dict[str, Any] = field(default_factory=dict)
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)


def _row(student: Student, slug: str) -> StudentRow:
    return StudentRow(
        id=student.id,
        community_slug=slug,
        source=student.source,
        key=student.key,
        email=student.email,
        first_name=student.first_name,
        last_name=student.last_name,
        student_id=student.student_id,
        sso_id=student.sso_id,
        active=student.active,
    )


def search_students(
    session: Session,
    *,
    community_slug: str | None = None,
    school_slug: str | None = None,
    text: str = "",
    include_inactive: bool = False,
    limit: int = SEARCH_LIMIT,
) -> list[StudentRow]:
    """Return students of both sources whose name, email or IDs contain ``text``.

    Narrow to one community or one school; with neither, search every school.
    Results are ordered by last name, first name and source, at most ``limit``.
    """
    query = select(Student, Community.slug).join(
        Community, Community.id == Student.community_id
    )
    if community_slug:
        query = query.where(Community.slug == community_slug)
    if school_slug:
        query = query.join(School, School.id == Community.school_id).where(
            School.slug == school_slug
        )
    if not include_inactive:
        query = query.where(Student.active.is_(True))
    words = text.split()
    for word in words:
        pattern = f"%{word.lower()}%"
        query = query.where(
            or_(
                Student.email.ilike(pattern),
                Student.first_name.ilike(pattern),
                Student.last_name.ilike(pattern),
                Student.student_id.ilike(pattern),
                Student.sso_id.ilike(pattern),
            )
        )
    query = query.order_by(
        Student.last_name, Student.first_name, Community.slug, Student.source
    ).limit(limit)
    return [_row(student, slug) for student, slug in session.execute(query)]


def student_profile(session: Session, student_row_id: int) -> StudentProfile:
    """Return one student row with the metadata, enrollments and grades that match."""
    student = session.get(Student, student_row_id)
    if student is None:
        raise NotFound(f"student row {student_row_id} not found; search again")
    community = session.get(Community, student.community_id)
    if community is None:
        raise InvalidValue(f"student row {student_row_id} has no community")
    refs = [ref for ref in (student.student_id, student.email, student.key) if ref]
    scope = (
        StudentMetadata.community_id == student.community_id,
        StudentMetadata.student_key.in_(refs),
        StudentMetadata.active.is_(True),
    )
    metadata: dict[str, Any] = {}
    for row in session.scalars(select(StudentMetadata).where(*scope)):
        metadata.update(row.fields)
    enrollments = [
        {
            "course_code": e.course_code,
            "term": e.term,
            "meeting_days": e.meeting_days,
            "meeting_time": e.meeting_time,
            "source": e.source,
        }
        for e in session.scalars(
            select(Enrollment)
            .where(
                Enrollment.community_id == student.community_id,
                Enrollment.student_key.in_(refs),
                Enrollment.active.is_(True),
            )
            .order_by(Enrollment.course_code)
        )
    ]
    grades = [
        {
            "course_code": g.course_code,
            "term": g.term,
            "grade": g.grade,
            "grade_points": g.grade_points,
            "source": g.source,
        }
        for g in session.scalars(
            select(CourseGrade)
            .where(
                CourseGrade.community_id == student.community_id,
                CourseGrade.student_key.in_(refs),
                CourseGrade.active.is_(True),
            )
            .order_by(CourseGrade.term, CourseGrade.course_code)
        )
    ]
    return StudentProfile(_row(student, community.slug), metadata, enrollments, grades)
