"""Student metadata: which fields a community keeps, and a student's profile.

IT sends whatever columns the school chose. The ``keep_fields`` option of the
``student_metadata`` integration lists the field names to keep; the import
drops the other columns and its preview names them. An empty list keeps all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidValue, NotFound
from backend.formats.parse import metadata_field_name
from backend.models import Community, Enrollment, ImportRun, Student, StudentMetadata
from backend.services import integrations

ENROLLED_COURSES_FIELD = "enrolled_courses"


@dataclass(frozen=True)
class ProfileMetadata:
    """The metadata a student profile shows.

    ``fields`` contains (label, value) pairs in the order of ``keep_fields``, or by
    name when every field is kept. ``enrolled_courses`` is written like
    ``CHEM1300 MWF 8-9 | MATH212 TTH 11:15-1``, or is empty.
    """

    fields: list[tuple[str, str]]
    enrolled_courses: str


def field_label(name: str) -> str:
    """Turn a field name into a label, so ``year_in_school`` is ``Year In School``."""
    return " ".join(part.capitalize() for part in name.split("_"))


def kept_fields(session: Session, community: Community) -> list[str]:
    setting = integrations.get_setting(session, community, "student_metadata")
    return list(setting.options.get("keep_fields") or [])


def check_keep_fields(names: list[str]) -> list[str]:
    """Turn headers or field names into field names, once each, in order.

    ``Year in School`` and ``year_in_school`` name the same field.
    """
    fields: dict[str, None] = {}
    for name in names:
        field = metadata_field_name(str(name))
        if not field:
            raise InvalidValue(
                f"invalid metadata field {name!r}: use the column header as IT sends "
                "it, such as 'Year in School'"
            )
        fields[field] = None
    return list(fields)


def set_kept_fields(
    session: Session, community: Community, names: list[str]
) -> list[str]:
    """Set the metadata fields to keep; headers and field names are both accepted.

    An empty list keeps every column. Rows already stored keep their fields
    until the next import replaces them.
    """
    setting = integrations.set_options(
        session, community, "student_metadata", keep_fields=names
    )
    return list(setting.options["keep_fields"])


def available_fields(session: Session, community: Community) -> list[str]:
    """Return the field names IT has sent: those stored and those last dropped."""
    names: set[str] = set()
    query = select(StudentMetadata.fields).where(
        StudentMetadata.community_id == community.id,
        StudentMetadata.active.is_(True),
    )
    for (stored,) in session.execute(query):
        names.update(stored or {})
    last_run = session.scalars(
        select(ImportRun)
        .where(
            ImportRun.community_id == community.id,
            ImportRun.kind == "student_metadata",
        )
        .order_by(ImportRun.id.desc())
        .limit(1)
    ).first()
    if last_run is not None:
        dropped = (last_run.errors or {}).get("dropped_columns") or []
        names.update(metadata_field_name(header) for header in dropped)
    names.discard("")
    return sorted(names)


def find_student(session: Session, community: Community, reference: str) -> Student:
    """Find an active student of the community by email, student ID or SSO ID."""
    value = reference.strip()
    query = select(Student).where(
        Student.community_id == community.id,
        Student.active.is_(True),
        (Student.email == value.lower())
        | (Student.student_id == value)
        | (Student.sso_id == value),
    )
    student = session.scalars(query.order_by(Student.source)).first()
    if student is None:
        raise NotFound(
            f"no student {reference!r} in community {community.slug!r}; give an "
            "email, student ID or SSO ID from the roster"
        )
    return student


def student_keys(student: Student) -> list[str]:
    """Return the references files may use for a student: student ID and email."""
    return [key for key in (student.student_id, student.email) if key]


def enrolled_courses_text(enrollments: list[Enrollment]) -> str:
    """Write enrollments like ``CHEM1300 MWF 8-9 | MATH212 TTH 11:15-1``."""
    parts = []
    for enrollment in sorted(enrollments, key=lambda e: e.course_code):
        words = [
            enrollment.course_code,
            enrollment.meeting_days,
            enrollment.meeting_time,
        ]
        parts.append(" ".join(word for word in words if word))
    return " | ".join(parts)


def student_profile_metadata(
    session: Session, community: Community, student: Student
) -> ProfileMetadata:
    """Collect the metadata fields and enrolled courses a student profile shows.

    Enrolled courses come from the enrollment data when any enrollment has a
    meeting day or time. Otherwise they come from an ``enrolled_courses``
    metadata column if IT sends one, else from the enrolled course codes alone.
    """
    # TODO: the console's student profile (backend.services.students) still lists
    # every stored field and raw enrollments; it should show this instead.
    keys = student_keys(student)
    stored: dict[str, str] = {}
    rows = session.scalars(
        select(StudentMetadata)
        .where(
            StudentMetadata.community_id == community.id,
            StudentMetadata.active.is_(True),
            StudentMetadata.student_key.in_(keys),
        )
        .order_by(StudentMetadata.source)
    )
    for row in rows:
        for name, value in (row.fields or {}).items():
            stored.setdefault(name, value)

    keep = kept_fields(session, community)
    names = keep or sorted(stored)
    fields = [
        (field_label(name), stored[name])
        for name in names
        if name != ENROLLED_COURSES_FIELD and stored.get(name)
    ]

    enrollments = list(
        session.scalars(
            select(Enrollment).where(
                Enrollment.community_id == community.id,
                Enrollment.active.is_(True),
                Enrollment.student_key.in_(keys),
            )
        )
    )
    if any(e.meeting_days or e.meeting_time for e in enrollments):
        enrolled = enrolled_courses_text(enrollments)
    elif stored.get(ENROLLED_COURSES_FIELD) and (
        not keep or ENROLLED_COURSES_FIELD in keep
    ):
        enrolled = stored[ENROLLED_COURSES_FIELD]
    else:
        enrolled = enrolled_courses_text(enrollments)
    return ProfileMetadata(fields, enrolled)
