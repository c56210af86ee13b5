"""The six import kinds: their columns, keys and target tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from backend.formats import values
from backend.models import (
    Course,
    CourseGrade,
    Enrollment,
    Provider,
    Student,
    StudentMetadata,
)
from backend.models.roster import RosterRow

Check = Callable[[str], str]


def normalize_header(header: str) -> str:
    """Reduce a header to lower-case letters and digits, so ``First Name`` matches."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


@dataclass(frozen=True)
class Field:
    """A column of an import kind and the stored attribute it fills.

    ``aliases`` are header spellings after ``normalize_header``. When a file has
    several of them, the first in this order is read, and the others only where
    it is empty, with a warning.
    """

    name: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    check: Check | None = None


@dataclass(frozen=True)
class KindSpec:
    """An import kind.

    ``key`` fields identify a row within a community and source. Each of the
    ``unique`` fields may appear once per file, since each identifies one student.
    ``soft_delete`` kinds keep removed rows as inactive so that history survives.
    ``open_fields`` kinds keep every other column as a free-form field.
    ``code_from_subject`` kinds build the course code from Subject and Course
    Number columns when the file has no course code column.
    """

    name: str
    label: str
    model: type[RosterRow]
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    unique: tuple[str, ...] = ()
    soft_delete: bool = False
    open_fields: bool = False
    code_from_subject: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


STUDENT_ID = ("studentid", "sisid", "schoolid", "universityid", "id")
EMAIL = ("email", "emailaddress", "mail", "studentemail")
STUDENT_REF = Field(
    "student_key",
    "Student ID or Email",
    STUDENT_ID + EMAIL,
    required=True,
    check=values.check_student_ref,
)
COURSE_CODE = Field(
    "course_code",
    "Course Code",
    ("coursecode", "code", "course", "courseid"),
    required=True,
    check=values.check_course_code,
)
SUBJECT = Field("subject", "Subject", ("subject", "subjectabbreviation", "subjectcode"))
COURSE_NUMBER = Field(
    "course_number", "Course Number", ("coursenumber", "number", "catalognumber")
)
TERM = Field("term", "Term", ("term", "semester", "termcode"))
FIRST_NAME = Field("first_name", "First Name", ("firstname", "first", "givenname"))
LAST_NAME = Field("last_name", "Last Name", ("lastname", "last", "surname"))
SSO_ID = Field(
    "sso_id", "SSO ID", ("ssoid", "sso", "netid"), check=values.check_identifier
)

STUDENTS = KindSpec(
    name="students",
    label="Students",
    model=Student,
    fields=(
        Field("email", "Email", EMAIL, required=True, check=values.check_email),
        FIRST_NAME,
        LAST_NAME,
        SSO_ID,
        Field("student_id", "Student ID", STUDENT_ID, check=values.check_identifier),
    ),
    key=("email",),
    unique=("email", "sso_id", "student_id"),
    soft_delete=True,
)

COURSES = KindSpec(
    name="courses",
    label="Courses",
    model=Course,
    fields=(
        COURSE_CODE,
        Field("name", "Course Name", ("coursename", "name", "title", "coursetitle")),
        TERM,
    ),
    key=("course_code",),
    soft_delete=True,
    code_from_subject=True,
)

COURSE_ENROLLMENT = KindSpec(
    name="course_enrollment",
    label="Course Enrollment",
    model=Enrollment,
    fields=(
        STUDENT_REF,
        COURSE_CODE,
        TERM,
        Field("meeting_days", "Meeting Days", ("meetingdays", "days")),
        Field("meeting_time", "Meeting Time", ("meetingtime", "time", "times")),
    ),
    key=("student_key", "course_code"),
    code_from_subject=True,
)

STUDENT_METADATA = KindSpec(
    name="student_metadata",
    label="Student Metadata",
    model=StudentMetadata,
    fields=(STUDENT_REF,),
    key=("student_key",),
    open_fields=True,
)

COURSE_GRADES = KindSpec(
    name="course_grades",
    label="Course Grades",
    model=CourseGrade,
    fields=(
        STUDENT_REF,
        COURSE_CODE,
        Field("term", "Term", TERM.aliases, required=True),
        Field(
            "grade",
            "Grade",
            ("grade", "finalgrade"),
            required=True,
            check=values.check_grade,
        ),
        Field(
            "grade_points",
            "Grade Points",
            ("gradepoints", "points", "gpa", "qualitypoints"),
            check=values.check_grade_points,
        ),
    ),
    key=("student_key", "course_code", "term"),
    code_from_subject=True,
)

PROVIDERS = KindSpec(
    name="providers",
    label="Providers",
    model=Provider,
    fields=(
        Field("email", "Email", EMAIL, required=True, check=values.check_email),
        FIRST_NAME,
        LAST_NAME,
        SSO_ID,
        Field(
            "courses",
            "Courses",
            ("courses", "certifications", "coursecodes", "certifiedcourses"),
            required=True,
            check=values.check_certifications,
        ),
    ),
    key=("email",),
)

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        STUDENTS,
        COURSES,
        COURSE_ENROLLMENT,
        STUDENT_METADATA,
        COURSE_GRADES,
        PROVIDERS,
    )
}


def get_kind(name: str) -> KindSpec:
    """Return the spec of import kind ``name``, or raise ``KeyError`` with the list."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown import kind {name!r}; use one of: {', '.join(KINDS)}"
        ) from None
