"""Next nights whose lines alone do not show what a whole read reports.

Each test applies a first night, previews a next night against the baseline
and reading the whole file, and checks that both agree.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import Conflict
from backend.formats.kinds import KINDS
from backend.formats.parse import parse_bytes
from backend.imports import service
from backend.imports.service import Preview
from backend.models import Student
from tests.backend.test_baseline_preview import (
    COURSES,
    HEADERS,
    assert_same,
    encode,
    first_night,
    line_of,
)
from tests.helpers import make_community, run_import


def preview_both(
    factory: sessionmaker[Session], kind: str, lines: list[str]
) -> tuple[Preview, Preview]:
    data = encode(lines)
    fast = service.preview_import(factory, "lc", kind, "sftp", data, "n.csv")
    whole = service.preview_import(
        factory, "lc", kind, "sftp", data, "n.csv", baseline=False
    )
    return fast, whole


def test_no_rows_left_is_rejected(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    # Spreadsheets often export empty rows past the data as lines of commas.
    first = [HEADERS["students"], line_of("students", 1)] + [",,,,"] * 8
    _, run = run_import(factory, "students", encode(first))
    assert run is not None and run.baseline is not None
    second = [HEADERS["students"]] + [",,,,"] * 8

    fast, whole = preview_both(factory, "students", second)
    assert whole.status == "rejected"
    assert fast.status == "rejected"
    assert_same(fast, whole)


def test_repeated_metadata_field_matches_whole_read(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    # "Major" and "major" both become the field major.
    first = ["Student ID,Major,major"]
    first += [f"{number:06d},Biology,Chemistry" for number in range(40)]
    run_import(factory, "student_metadata", encode(first), force=True)
    second = list(first)
    second[3] = "000002,Art,Chemistry"

    fast, whole = preview_both(factory, "student_metadata", second)
    assert_same(fast, whole)
    assert fast.counts["changed"] == 1
    assert fast.parsed.fields == ("student_key", "major")


def test_repeated_metadata_field_stays_unchanged(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    lines = ["Student ID,Major,major"]
    lines += [f"{number:06d},Biology,Chemistry" for number in range(40)]
    run_import(factory, "student_metadata", encode(lines), force=True)

    _, whole = preview_both(factory, "student_metadata", lines)
    assert whole.counts["changed"] == 0


def test_metadata_empty_course_code_warns(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "courses", encode(first_night("courses", COURSES)))
    # A metadata column named Course Code is checked against the course list,
    # and an empty value matches no course.
    first = ["Student ID,Major,Course Code"]
    first += [f"{n:06d},Biology,C{n % COURSES:03d}" for n in range(40)]
    first.append("000900,Biology,")
    run_import(factory, "student_metadata", encode(first), force=True)
    second = list(first)
    second[3] = "000002,Art,C002"

    fast, whole = preview_both(factory, "student_metadata", second)
    messages = [problem.message for problem in fast.parsed.warnings.items]
    assert "'' matches no course of this community" in messages
    assert_same(fast, whole)


def test_older_preview_is_not_applied_over_newer(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    first = first_night("students", 100)
    run_import(factory, "students", encode(first))
    earlier = list(first)
    earlier.append(line_of("students", 500))
    later = list(first)
    del later[10]
    earlier_preview = service.preview_import(
        factory, "lc", "students", "sftp", encode(earlier), "a.csv"
    )
    later_preview = service.preview_import(
        factory, "lc", "students", "sftp", encode(later), "b.csv"
    )
    service.apply_preview(factory, later_preview, force=True)

    # The earlier preview was shown against rows the later file changed.
    with pytest.raises(Conflict, match="would bring back older data"):
        service.apply_preview(factory, earlier_preview, force=True)
    later_keys = set(parse_bytes(KINDS["students"], encode(later), "b.csv").rows)
    with factory() as session:
        active = set(
            session.scalars(select(Student.key).where(Student.active.is_(True)))
        )
    assert active == later_keys
    rolled_back = service.rollback_run(factory, later_preview.run_id)
    assert rolled_back.status == "rolled_back"
