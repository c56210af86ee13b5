"""Values longer than their column must be rejected by the preview.

PostgreSQL raises on a value longer than its VARCHAR column, and SQLite stores
it, so only a check in the preview gives one result on both.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from backend.imports import service
from tests.backend.test_baseline_preview import encode, first_night
from tests.helpers import make_community


def test_long_first_name_is_rejected(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    lines = first_night("students", 5)
    # students.first_name is VARCHAR(120).
    lines.append("long@uni.edu," + "A" * 200 + ",Last,sso900,000900")

    preview = service.preview_import(
        factory, "lc", "students", "sftp", encode(lines), "s.csv"
    )
    assert preview.status == "rejected"
    [problem] = preview.parsed.errors.items
    assert problem.line == 7
    assert problem.column == "First Name"
    assert problem.message == (
        "First Name is 200 characters long; at most 120 are kept, so shorten it"
    )


def test_long_composite_key_is_rejected(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    # Each part fits its column, but joined they pass the key's 320.
    student = "s" * 300
    lines = [
        "Student ID,Course Code,Term,Meeting Days,Meeting Time",
        f"{student},{'C' * 60},2026FA,MWF,8-9",
    ]
    preview = service.preview_import(
        factory, "lc", "course_enrollment", "custom", encode(lines), "e.csv"
    )
    assert preview.status == "rejected"
    [problem] = preview.parsed.errors.items
    assert problem.column == ""
    assert problem.message == (
        "Student ID and Course Code together make a key of 361 characters; at "
        "most 320 are kept, so shorten them"
    )
