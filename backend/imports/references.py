"""Checks of course codes that a file names against the community's course list.

An enrollment, grade or certification naming an unknown course is a warning,
not an error: IT sends courses and enrollments as separate files, and the
course may arrive in the next file. The rows are kept.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.formats.parse import ParsedFile
from backend.formats.values import split_certifications
from backend.models import Course

MAX_NAMED = 20


def active_course_codes(session: Session, community_id: int) -> set[str]:
    """Return the codes of the active courses of both sources."""
    query = select(Course.course_code).where(
        Course.community_id == community_id, Course.active.is_(True)
    )
    return set(session.scalars(query))


def certification_matches(pattern: str, codes: set[str]) -> bool:
    """Tell whether a certification covers at least one course code."""
    if pattern == "*":
        return bool(codes)
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return any(code.startswith(prefix) for code in codes)
    return pattern in codes


def warn_unknown_courses(
    session: Session, community_id: int, parsed: ParsedFile
) -> None:
    """Add a warning for each row naming a course the community does not have."""
    if parsed.spec.name == "courses":
        return
    if "course_code" in parsed.fields:
        position = parsed.fields.index("course_code")
        check = lambda value, codes: value in codes  # noqa: E731
    elif parsed.spec.name == "providers":
        position = parsed.fields.index("courses")
        check = lambda value, codes: all(  # noqa: E731
            certification_matches(p, codes) for p in split_certifications(value)
        )
    else:
        return
    codes = active_course_codes(session, community_id)
    if parsed.spec.name != "providers":
        # Check each distinct code once; the row loop below then runs only
        # when some code is unknown.
        distinct = {values[position] for values in parsed.rows.values()}
        if distinct <= codes:
            return
    unknown = 0
    for key, values in parsed.rows.items():
        if not check(values[position], codes):
            unknown += 1
            parsed.warnings.add(
                parsed.lines[key],
                "Courses" if parsed.spec.name == "providers" else "Course Code",
                f"{values[position]!r} matches no course of this community",
            )
    if unknown > MAX_NAMED:
        parsed.warnings.add(
            0, "", f"{unknown:,} rows name courses this community lacks"
        )
