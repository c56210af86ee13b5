"""Read-only views of schools and communities for the console.

Each function returns plain dataclasses, so that a caller can use them after
the session closes and in another thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import INTEGRATION_KINDS, Community, School, Student
from backend.services.integrations import ensure_settings
from backend.services.schools import get_community, get_school, list_schools

INTEGRATION_LABELS = {
    "students": "Students",
    "courses": "Courses",
    "course_enrollment": "Course Enrollment",
    "student_metadata": "Student Metadata",
    "course_grades": "Course Grades",
    "data_exports": "Data Exports",
    "canvas": "Canvas",
    "card_readers": "Card Readers",
}
assert tuple(INTEGRATION_LABELS) == INTEGRATION_KINDS


@dataclass(frozen=True)
class SchoolSummary:
    """A school as the schools list shows it."""

    id: int
    slug: str
    name: str
    community_count: int


@dataclass(frozen=True)
class CommunitySummary:
    """A community as its school's page lists it."""

    id: int
    slug: str
    name: str
    hidden: bool
    eligibility: str
    enabled_count: int
    student_count: int
    created_at: datetime


@dataclass(frozen=True)
class SchoolDetail:
    """A school with its communities, oldest first."""

    id: int
    slug: str
    name: str
    communities: list[CommunitySummary]


@dataclass(frozen=True)
class IntegrationState:
    """One integration of one community: on or off, its options and last change."""

    kind: str
    label: str
    enabled: bool
    options: dict[str, Any]
    changed_by: str | None
    changed_at: datetime | None


@dataclass(frozen=True)
class CommunityDetail:
    """A community's settings and its eight integrations."""

    id: int
    slug: str
    name: str
    school_slug: str
    school_name: str
    hidden: bool
    eligibility: str
    provider_term: str
    remove_guard_percent: float
    change_guard_percent: float
    integrations: list[IntegrationState] = field(default_factory=list)

    def integration(self, kind: str) -> IntegrationState:
        return next(i for i in self.integrations if i.kind == kind)


def school_summaries(session: Session, search: str = "") -> list[SchoolSummary]:
    """Return schools whose slug or name contains ``search``, by name."""
    counts = dict(
        session.execute(
            select(Community.school_id, func.count()).group_by(Community.school_id)
        ).all()
    )
    return [
        SchoolSummary(s.id, s.slug, s.name, counts.get(s.id, 0))
        for s in list_schools(session, search)
    ]


def _student_counts(session: Session, community_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Student.community_id, func.count())
        .where(Student.community_id.in_(community_ids), Student.active.is_(True))
        .group_by(Student.community_id)
    ).all()
    return dict(rows)


def school_detail(session: Session, slug: str) -> SchoolDetail:
    """Return a school and its communities; raises NotFound for an unknown slug."""
    school: School = get_school(session, slug)
    communities = list(school.communities)
    students = _student_counts(session, [c.id for c in communities])
    summaries = [
        CommunitySummary(
            id=c.id,
            slug=c.slug,
            name=c.name,
            hidden=c.hidden,
            eligibility=c.eligibility,
            enabled_count=sum(1 for s in ensure_settings(session, c) if s.enabled),
            student_count=students.get(c.id, 0),
            created_at=c.created_at,
        )
        for c in communities
    ]
    return SchoolDetail(school.id, school.slug, school.name, summaries)


def community_detail(session: Session, slug: str) -> CommunityDetail:
    """Return a community's settings and integrations, creating missing ones off."""
    community = get_community(session, slug)
    integrations = [
        IntegrationState(
            kind=s.kind,
            label=INTEGRATION_LABELS[s.kind],
            enabled=s.enabled,
            options=dict(s.options),
            changed_by=s.changed_by,
            changed_at=s.changed_at,
        )
        for s in ensure_settings(session, community)
    ]
    return CommunityDetail(
        id=community.id,
        slug=community.slug,
        name=community.name,
        school_slug=community.school.slug,
        school_name=community.school.name,
        hidden=community.hidden,
        eligibility=community.eligibility,
        provider_term=community.provider_term,
        remove_guard_percent=community.remove_guard_percent,
        change_guard_percent=community.change_guard_percent,
        integrations=integrations,
    )
