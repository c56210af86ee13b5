"""The engagement-by-GPA report: tutoring use per GPA band for one term.

A student's term GPA is the mean of their grade points in that term's course
grades, each course counting once, since the grades format carries no credit
hours. A grade without grade points is read from its letter, so A is 4.0 and
B- is 2.7. Grades with no points value, such as P, W or I, are left out.

Tutoring use is counted per roster student: completed sessions, matched by
email, and drop-in check-ins, matched by the roster row, the email or the
identifier given at the kiosk.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models import (
    Community,
    CourseGrade,
    DropInCheckIn,
    Student,
    TutoringSession,
)

LETTER_POINTS = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.7,
    "B+": 3.3,
    "B": 3.0,
    "B-": 2.7,
    "C+": 2.3,
    "C": 2.0,
    "C-": 1.7,
    "D+": 1.3,
    "D": 1.0,
    "D-": 0.7,
    "F": 0.0,
}

# Lower bounds of the GPA bands; each band runs up to the next bound.
BAND_BOUNDS = (0.0, 2.0, 2.5, 3.0, 3.5)
COUNTED_SESSION_STATUS = "completed"


@dataclass
class Band:
    """One GPA band of the report.

    ``students`` have a GPA in ``[low, high)``, the top band including 4.0 and
    above. ``users`` had at least one session or check-in; ``sessions`` and
    ``check_ins`` add up over all students of the band.
    """

    low: float
    high: float | None
    students: int = 0
    users: int = 0
    sessions: int = 0
    check_ins: int = 0

    @property
    def label(self) -> str:
        if self.high is None:
            return f"{self.low:.1f}+"
        return f"{self.low:.1f}-{self.high:.1f}"

    @property
    def visits(self) -> int:
        return self.sessions + self.check_ins

    @property
    def used_percent(self) -> float:
        return 100.0 * self.users / self.students if self.students else 0.0

    @property
    def visits_per_user(self) -> float:
        return self.visits / self.users if self.users else 0.0


@dataclass
class EngagementReport:
    """The engagement-by-GPA report of one community and term."""

    community_slug: str
    term: str
    bands: list[Band] = field(default_factory=list)
    ungraded_users: int = 0

    @property
    def students(self) -> int:
        return sum(band.students for band in self.bands)

    @property
    def users(self) -> int:
        return sum(band.users for band in self.bands)


def grade_points(grade: str, points: str | None) -> float | None:
    """Return a grade's points, from its grade points or else its letter."""
    if points:
        return float(points)
    return LETTER_POINTS.get(grade.upper())


def band_index(gpa: float) -> int:
    index = 0
    for position, bound in enumerate(BAND_BOUNDS):
        if gpa >= bound:
            index = position
    return index


def list_terms(session: Session, community: Community) -> list[str]:
    """Return the terms that have course grades, sorted by name."""
    query = (
        select(CourseGrade.term)
        .where(CourseGrade.community_id == community.id, CourseGrade.active.is_(True))
        .distinct()
    )
    return sorted(session.scalars(query))


def latest_term(session: Session, community: Community) -> str | None:
    """Return the term of the most recently imported course grade, if any."""
    query = (
        select(CourseGrade.term)
        .where(CourseGrade.community_id == community.id, CourseGrade.active.is_(True))
        .order_by(CourseGrade.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _person_index(session: Session, community: Community) -> dict[str, int]:
    """Map each student ID and lower-case email of the roster to its student row."""
    index: dict[str, int] = {}
    query = select(Student.id, Student.student_id, Student.email).where(
        Student.community_id == community.id, Student.active.is_(True)
    )
    for row_id, student_id, email in session.execute(query):
        if email:
            index.setdefault(email.lower(), row_id)
        if student_id:
            index.setdefault(student_id, row_id)
    return index


def _term_gpas(
    session: Session, community: Community, term: str, people: dict[str, int]
) -> dict[str, float]:
    by_person: dict[str, list[float]] = {}
    query = select(
        CourseGrade.student_key, CourseGrade.grade, CourseGrade.grade_points
    ).where(
        CourseGrade.community_id == community.id,
        CourseGrade.active.is_(True),
        CourseGrade.term == term,
    )
    for key, grade, points in session.execute(query):
        value = grade_points(grade, points)
        if value is None:
            continue
        person = people.get(key.lower() if "@" in key else key)
        # A student missing from the roster is still counted, under the key
        # the grades file gives.
        name = f"row:{person}" if person else f"key:{key}"
        by_person.setdefault(name, []).append(value)
    return {name: sum(values) / len(values) for name, values in by_person.items()}


def _activity_counts(
    session: Session,
    community: Community,
    people: dict[str, int],
    since: datetime | None,
    until: datetime | None,
) -> tuple[dict[str, int], dict[str, int]]:
    def person_of(*references: str | None) -> str | None:
        for reference in references:
            if not reference:
                continue
            person = people.get(reference.lower() if "@" in reference else reference)
            if person:
                return f"row:{person}"
        first = next((r for r in references if r), None)
        return f"key:{first.lower() if '@' in first else first}" if first else None

    sessions: dict[str, int] = {}
    query = select(TutoringSession.student_email).where(
        TutoringSession.community_id == community.id,
        TutoringSession.status == COUNTED_SESSION_STATUS,
    )
    if since is not None:
        query = query.where(TutoringSession.starts_at >= since)
    if until is not None:
        query = query.where(TutoringSession.starts_at < until)
    for (email,) in session.execute(query):
        person = person_of(email)
        if person:
            sessions[person] = sessions.get(person, 0) + 1

    check_ins: dict[str, int] = {}
    query = select(
        DropInCheckIn.student_row_id,
        DropInCheckIn.student_email,
        DropInCheckIn.identifier,
    ).where(DropInCheckIn.community_id == community.id)
    if since is not None:
        query = query.where(DropInCheckIn.checked_in_at >= since)
    if until is not None:
        query = query.where(DropInCheckIn.checked_in_at < until)
    for row_id, email, identifier in session.execute(query):
        person = f"row:{row_id}" if row_id else person_of(email, identifier)
        if person:
            check_ins[person] = check_ins.get(person, 0) + 1
    return sessions, check_ins


# Term codes such as 2026SP name a semester. Their activity window covers the
# usual US semester dates; a code of another shape gets no window.
TERM_CODE_RE = re.compile(r"^(\d{4})\s*(SP|SU|FA)$", re.IGNORECASE)
TERM_WINDOWS = {"SP": ((1, 1), (6, 1)), "SU": ((6, 1), (8, 16)), "FA": ((8, 16), None)}


def term_window(term: str) -> tuple[datetime | None, datetime | None]:
    """Return the activity window ``[since, until)`` of a semester term code."""
    match = TERM_CODE_RE.match(term.strip())
    if match is None:
        return None, None
    year = int(match.group(1))
    start, end = TERM_WINDOWS[match.group(2).upper()]
    since = datetime(year, *start, tzinfo=UTC)
    until = (
        datetime(year, *end, tzinfo=UTC)
        if end
        else datetime(year + 1, 1, 1, tzinfo=UTC)
    )
    return since, until


def engagement_by_gpa(
    session: Session,
    community: Community,
    term: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> EngagementReport:
    """Group the term's graded students into GPA bands and count their tutoring.

    ``since`` and ``until`` limit the sessions and check-ins counted to
    ``[since, until)``. Terms carry no dates in the import files, so without
    them the window comes from a semester code such as ``2026SP``
    (``term_window``), and a term of another shape counts all activity.
    """
    if since is None and until is None:
        since, until = term_window(term)
    people = _person_index(session, community)
    gpas = _term_gpas(session, community, term, people)
    if not gpas:
        terms = ", ".join(list_terms(session, community)) or "none"
        raise NotFound(
            f"no course grades for term {term!r} in community {community.slug!r}; "
            f"terms with grades: {terms}"
        )
    sessions, check_ins = _activity_counts(session, community, people, since, until)

    highs: list[float | None] = [*BAND_BOUNDS[1:], None]
    report = EngagementReport(
        community.slug,
        term,
        [Band(low, high) for low, high in zip(BAND_BOUNDS, highs, strict=True)],
    )
    for person, gpa in gpas.items():
        band = report.bands[band_index(gpa)]
        band.students += 1
        used_sessions = sessions.get(person, 0)
        used_check_ins = check_ins.get(person, 0)
        band.sessions += used_sessions
        band.check_ins += used_check_ins
        if used_sessions or used_check_ins:
            band.users += 1
    active = set(sessions) | set(check_ins)
    report.ungraded_users = len(active - set(gpas))
    return report


def report_csv(report: EngagementReport) -> str:
    """Write the report as CSV, one line per GPA band."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        (
            "Term",
            "GPA Band",
            "Students",
            "Used Tutoring",
            "Used Tutoring %",
            "Sessions",
            "Drop-in Check-ins",
            "Visits per User",
        )
    )
    for band in report.bands:
        writer.writerow(
            (
                report.term,
                band.label,
                band.students,
                band.users,
                f"{band.used_percent:.1f}",
                band.sessions,
                band.check_ins,
                f"{band.visits_per_user:.2f}",
            )
        )
    return buffer.getvalue()
