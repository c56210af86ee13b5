"""Metadata field selection and the student profile's metadata section."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.errors import InvalidValue, NotFound
from backend.models import StudentMetadata
from backend.services import metadata
from backend.services.schools import get_community
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, run_import

METADATA = (
    "Student ID,Year in School,Major,Advisor,Holds,Enrolled Courses",
    [
        "000001,Junior,Chemistry,Dr. Reyes,Bursar,CHEM1300 MWF 8-9",
        "000002,Senior,History,Dr. Lim,,HIST200",
    ],
)


def keep(factory: sessionmaker[Session], names: list[str]) -> list[str]:
    with transaction(factory) as session:
        return metadata.set_kept_fields(session, get_community(session, "lc"), names)


def test_kept_fields_normalised(sqlite_factory: sessionmaker[Session]) -> None:
    make_community(sqlite_factory)
    kept = keep(sqlite_factory, ["Year in School", "major", "year_in_school"])
    assert kept == ["year_in_school", "major"]


def test_blank_field_rejected(sqlite_factory: sessionmaker[Session]) -> None:
    make_community(sqlite_factory)
    with pytest.raises(InvalidValue, match="invalid metadata field"):
        keep(sqlite_factory, ["Major", " - "])


def test_unkept_columns_dropped(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    keep(factory, ["Year in School", "Major"])
    preview, run = run_import(factory, "student_metadata", csv_bytes(*METADATA))
    assert run is not None
    assert preview.parsed.dropped_columns == ["Advisor", "Holds", "Enrolled Courses"]
    dropped_warnings = [
        w.column for w in preview.parsed.warnings.items if "dropped" in w.message
    ]
    assert dropped_warnings == ["Advisor", "Holds", "Enrolled Courses"]
    with factory() as session:
        stored = session.scalars(
            select(StudentMetadata).order_by(StudentMetadata.student_key)
        ).all()
        available = metadata.available_fields(session, get_community(session, "lc"))
    assert stored[0].fields == {"year_in_school": "Junior", "major": "Chemistry"}
    assert available == [
        "advisor",
        "enrolled_courses",
        "holds",
        "major",
        "year_in_school",
    ]


def test_empty_selection_keeps_all(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    preview, _run = run_import(factory, "student_metadata", csv_bytes(*METADATA))
    assert preview.parsed.dropped_columns == []
    with factory() as session:
        row = session.scalars(
            select(StudentMetadata).where(StudentMetadata.student_key == "000001")
        ).one()
    assert set(row.fields) == {
        "year_in_school",
        "major",
        "advisor",
        "holds",
        "enrolled_courses",
    }


def load_student(factory: sessionmaker[Session]) -> None:
    run_import(
        factory,
        "students",
        csv_bytes(
            STUDENT_HEADER,
            ["s1@uni.edu,Ada,Ito,sso1,000001", "s2@uni.edu,Bo,Lee,sso2,000002"],
        ),
    )
    run_import(factory, "student_metadata", csv_bytes(*METADATA))


def profile(factory: sessionmaker[Session], reference: str) -> metadata.ProfileMetadata:
    with factory() as session:
        community = get_community(session, "lc")
        student = metadata.find_student(session, community, reference)
        return metadata.student_profile_metadata(session, community, student)


def test_profile_builds_enrolled_courses(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    load_student(factory)
    run_import(
        factory,
        "course_enrollment",
        csv_bytes(
            "Student ID,Course Code,Meeting Days,Meeting Time",
            ["000001,MATH212,TTH,11:15-1", "000001,CHEM1300,MWF,8-9"],
        ),
    )
    keep(factory, ["Year in School", "Major", "Enrolled Courses"])
    shown = profile(factory, "s1@uni.edu")
    assert shown.fields == [("Year In School", "Junior"), ("Major", "Chemistry")]
    assert shown.enrolled_courses == "CHEM1300 MWF 8-9 | MATH212 TTH 11:15-1"


def test_profile_falls_back_to_metadata_column(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    load_student(factory)
    run_import(
        factory,
        "course_enrollment",
        csv_bytes("Student ID,Course Code", ["000002,HIST200"]),
    )
    assert profile(factory, "000001").enrolled_courses == "CHEM1300 MWF 8-9"
    assert profile(factory, "sso2").enrolled_courses == "HIST200"


def test_profile_hides_fields_no_longer_kept(
    sqlite_factory: sessionmaker[Session],
) -> None:
    make_community(sqlite_factory)
    load_student(sqlite_factory)
    keep(sqlite_factory, ["Major"])
    assert profile(sqlite_factory, "000002").fields == [("Major", "History")]


def test_unknown_student_not_found(sqlite_factory: sessionmaker[Session]) -> None:
    make_community(sqlite_factory)
    with pytest.raises(NotFound, match=r"no student 'x@uni\.edu'"):
        profile(sqlite_factory, "x@uni.edu")


def test_generic_options_normalise_fields(
    sqlite_factory: sessionmaker[Session],
) -> None:
    """The console's generic options form stores field names, not headers."""
    from backend.services import integrations

    make_community(sqlite_factory)
    with transaction(sqlite_factory) as session:
        community = get_community(session, "lc")
        integrations.set_options(
            session, community, "student_metadata", keep_fields=["Year in School"]
        )
    with sqlite_factory() as session:
        kept = metadata.kept_fields(session, get_community(session, "lc"))
    assert kept == ["year_in_school"]
