"""Previews read against the last applied file give what a whole read gives.

Each example applies a first night and edits it into a next night with
hypothesis: changed, dropped, new and repeated lines, repeated keys, quoted
newlines, blank and noisy lines, bad values, unknown courses and line endings.
It then previews the next night twice, against the baseline and reading the
whole file. Both must agree on every count, key, value, line and problem.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database, transaction
from backend.formats.kinds import KINDS
from backend.formats.parse import parse_bytes
from backend.imports import service
from backend.imports.rows import load_existing
from backend.imports.service import Preview
from backend.models import Community, ImportRun
from backend.services import integrations
from backend.services.schools import get_community
from tests.fuzzcount import count_example
from tests.helpers import STUDENT_HEADER, make_community, run_import

COURSES = 30
HEADERS = {
    "students": STUDENT_HEADER,
    "courses": "Course Code,Course Name,Term",
    "course_enrollment": "Student ID,Course Code,Term,Meeting Days,Meeting Time",
    "student_metadata": "Student ID,Year in School,Major",
    "course_grades": "Student ID,Course Code,Term,Grade,Grade Points",
}


def line_of(kind: str, number: int, variant: int = 0) -> str:
    """Return a valid row; ``variant`` changes a value that is not the key."""
    course = f"C{number % COURSES:03d}"
    if kind == "students":
        return f"s{number}@uni.edu,First{number},Last{variant},sso{number},{number:06d}"
    if kind == "courses":
        return f"C{number:03d},Course {number} v{variant},2026FA"
    if kind == "course_enrollment":
        student = number // COURSES
        return f"{student:06d},{course},2026FA,MWF,{8 + variant}-9"
    if kind == "student_metadata":
        return f"{number:06d},Year{variant},Major{number % 7}"
    return f"{number // COURSES:06d},{course},2026SP,B,{variant % 4}.0"


def first_night(kind: str, rows: int) -> list[str]:
    if kind == "courses":
        rows = min(rows, COURSES)
    return [HEADERS[kind]] + [line_of(kind, n) for n in range(rows)]


# A column that is not part of the key, and a value it may take instead.
CHANGEABLE = {
    "students": (2, "Changed"),
    "courses": (1, "Renamed course"),
    "course_enrollment": (3, "TTH"),
    "student_metadata": (1, "Senior"),
    "course_grades": (3, "A-"),
}


def with_cell(line: str, index: int, value: str) -> str:
    cells = line.split(",")
    cells += [""] * (index + 1 - len(cells))
    cells[index] = value
    return ",".join(cells)


def quoted_newline(line: str, kind: str) -> str:
    index, value = CHANGEABLE[kind]
    return with_cell(line, index, f'"{value}\nmore"')


def padded(line: str, kind: str) -> str:
    index = CHANGEABLE[kind][0]
    cells = line.split(",")
    value = cells[index] if index < len(cells) else ""
    return with_cell(line, index, f"  {value} ")


def changed(line: str, kind: str) -> str:
    index, value = CHANGEABLE[kind]
    return with_cell(line, index, value)


def rekeyed(line: str, kind: str) -> str:
    """The same key as ``line`` with another value: a repeated key."""
    return changed(line, kind)


# Edits of a file's lines: each gets the lines, a position past the header and
# a number for a new row, and changes the lines in place.
Edit = Callable[[list[str], int, int, str], None]


def _set(lines: list[str], at: int, line: str) -> None:
    lines[at] = line


def _move(lines: list[str], at: int) -> None:
    lines.append(lines.pop(at))


def _shuffle(lines: list[str], at: int) -> None:
    body = lines[1:]
    random.Random(at).shuffle(body)
    lines[1:] = body


def _repeat(lines: list[str], at: int, times: int) -> None:
    lines[at:at] = [lines[at]] * times


def _insert_twice(lines: list[str], at: int, new: int, kind: str) -> None:
    lines[at:at] = [line_of(kind, new)] * 2


EDITS: dict[str, Edit] = {
    "change": lambda lines, at, new, kind: _set(lines, at, changed(lines[at], kind)),
    "drop": lambda lines, at, new, kind: lines.pop(at) and None,
    "insert": lambda lines, at, new, kind: lines.insert(at, line_of(kind, new)),
    "repeat line": lambda lines, at, new, kind: lines.insert(at, lines[at]),
    "move line": lambda lines, at, new, kind: _move(lines, at),
    "shuffle": lambda lines, at, new, kind: _shuffle(lines, at),
    "line three times": lambda lines, at, new, kind: _repeat(lines, at, 2),
    "new line twice": lambda lines, at, new, kind: _insert_twice(lines, at, new, kind),
    "repeat key": lambda lines, at, new, kind: lines.insert(
        at, rekeyed(lines[at], kind)
    ),
    "quoted newline": lambda lines, at, new, kind: _set(
        lines, at, quoted_newline(lines[at], kind)
    ),
    "padding": lambda lines, at, new, kind: _set(lines, at, padded(lines[at], kind)),
    "extra cell": lambda lines, at, new, kind: _set(lines, at, lines[at] + ",extra"),
    "blank": lambda lines, at, new, kind: lines.insert(at, ""),
    "commas only": lambda lines, at, new, kind: lines.insert(at, ",,,,"),
    "open quote": lambda lines, at, new, kind: lines.insert(at, '"open,quote'),
    "bare CR": lambda lines, at, new, kind: _set(
        lines, at, lines[at] + "\r" + line_of(kind, new)
    ),
    "bad value": lambda lines, at, new, kind: lines.insert(
        at, line_of(kind, new).replace("@uni.edu", "@").replace(",B,", ",Q,")
    ),
    "unknown course": lambda lines, at, new, kind: lines.insert(
        at, line_of(kind, new).replace(",C0", ",NOPE", 1)
    ),
}


@st.composite
def nights(draw: st.DrawFn) -> tuple[str, list[str], list[str], str]:
    kind = draw(st.sampled_from(sorted(HEADERS)))
    first = first_night(kind, draw(st.one_of(st.integers(1, 9), st.integers(40, 150))))
    # The first night itself may have lines that keep it from being a baseline.
    if draw(st.integers(0, 5)) == 0:
        edit = draw(st.sampled_from(["padding", "extra cell", "quoted newline"]))
        EDITS[edit](first, draw(st.integers(1, len(first) - 1)), 0, kind)
    second = list(first)
    numbers = itertools.count(1000)
    # Edits a nightly file usually has come three times as often as the others.
    usual = ["change", "drop", "insert", "padding", "blank"] * 3
    edits = st.sampled_from(sorted(EDITS) + usual)
    for name in draw(st.lists(edits, max_size=8)):
        if len(second) < 2:
            break
        at = draw(st.integers(1, len(second) - 1))
        EDITS[name](second, at, next(numbers), kind)
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    return kind, first, second, newline


def encode(lines: list[str], newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode()


def assert_same(fast: Preview, whole: Preview) -> None:
    """Check that two previews of one file agree on everything staff see."""
    assert fast.status == whole.status
    assert fast.hold_reason == whole.hold_reason
    assert fast.parsed.errors.items == whole.parsed.errors.items
    assert fast.parsed.errors.total == whole.parsed.errors.total
    assert fast.parsed.warnings.items == whole.parsed.warnings.items
    assert fast.parsed.warnings.total == whole.parsed.warnings.total
    if whole.diff is None:
        assert fast.diff is None
        return
    assert fast.diff is not None
    assert fast.counts == whole.counts
    assert fast.diff.fields == whole.diff.fields
    assert fast.diff.added == whole.diff.added
    assert fast.diff.changed == whole.diff.changed
    assert sorted(fast.diff.removed) == sorted(whole.diff.removed)
    assert fast.diff.reactivated == whole.diff.reactivated
    assert fast.diff.replaced == whole.diff.replaced
    assert fast.old == whole.old
    for key in (*whole.diff.added, *whole.diff.changed):
        assert fast.parsed.rows[key] == whole.parsed.rows[key]
        assert fast.parsed.lines[key] == whole.parsed.lines[key]


def stored_rows(
    factory: sessionmaker[Session], slug: str, kind: str, fields: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    with factory() as session:
        community = session.scalars(
            select(Community).where(Community.slug == slug)
        ).one()
        existing = load_existing(session, KINDS[kind], community.id, "sftp", fields)
    return {key: row.values for key, row in existing.rows.items() if row.active}


@pytest.fixture(scope="module")
def shared_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("baseline") / "penji.db"
    factory = open_database(f"sqlite:///{path}")
    yield factory
    factory.kw["bind"].dispose()


slugs = (f"b{number}" for number in itertools.count())


def start_community(factory: sessionmaker[Session], kind: str) -> str:
    slug = next(slugs)
    make_community(factory, slug=slug)
    courses = encode(first_night("courses", COURSES))
    if kind != "courses":
        run_import(factory, "courses", courses, community=slug)
    return slug


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(night=nights(), apply_fast=st.booleans())
def test_baseline_preview_matches_whole_read(
    shared_factory: sessionmaker[Session],
    night: tuple[str, list[str], list[str], str],
    apply_fast: bool,
) -> None:
    count_example("imports: next nights read against the baseline")
    kind, first, second, newline = night
    factory = shared_factory
    slug = start_community(factory, kind)
    _, run = run_import(factory, kind, encode(first), community=slug, force=True)
    assert run is not None and run.status == "applied"

    data = encode(second, newline)
    fast = service.preview_import(factory, slug, kind, "sftp", data, "n.csv")
    whole = service.preview_import(
        factory, slug, kind, "sftp", data, "n.csv", baseline=False
    )
    assert not whole.parsed.partial
    event("changed lines only" if fast.parsed.partial else "whole file")
    assert_same(fast, whole)
    if not apply_fast or fast.status != "previewed":
        return

    applied = service.apply_preview(factory, fast, force=True)
    assert applied.status == "applied"
    expected = parse_bytes(KINDS[kind], data, "n.csv")
    assert stored_rows(factory, slug, kind, expected.fields) == expected.rows
    again = service.preview_import(factory, slug, kind, "sftp", data, "n.csv")
    assert again.counts["unchanged"] == len(expected.rows)
    assert sum(again.counts.values()) == len(expected.rows)


def changed_line(line: str) -> str:
    return changed(line, "students")


def test_next_night_reads_only_changed_lines(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", encode(first_night("students", 200)))
    second = first_night("students", 200)
    second[1] = changed_line(second[1])
    second[2] = changed_line(second[2])
    del second[3]
    second.append(line_of("students", 500))

    preview = service.preview_import(
        factory, "lc", "students", "sftp", encode(second), "s.csv"
    )
    assert preview.parsed.partial
    assert sorted(preview.parsed.rows) == ["s0@uni.edu", "s1@uni.edu", "s500@uni.edu"]
    assert preview.parsed.lines["s500@uni.edu"] == 201
    assert preview.counts == {
        "added": 1,
        "changed": 2,
        "removed": 1,
        "unchanged": 197,
        "replaced": 0,
    }
    assert preview.old["s2@uni.edu"][2] == "Last0"

    run = service.apply_preview(factory, preview)
    assert run.status == "applied"
    expected = parse_bytes(KINDS["students"], encode(second), "s.csv")
    assert stored_rows(factory, "lc", "students", expected.fields) == expected.rows
    with factory() as session:
        kept = session.scalars(
            select(ImportRun.id).where(ImportRun.file_data.is_not(None))
        ).all()
    assert kept == [run.id]


def test_course_gone_since_reads_whole_file(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "courses", encode(first_night("courses", COURSES)))
    enrollment = first_night("course_enrollment", 90)
    run_import(factory, "course_enrollment", encode(enrollment))
    # C001 leaves the course list; unchanged enrollment lines still name it.
    courses = [line for line in first_night("courses", COURSES) if "C001," not in line]
    run_import(factory, "courses", encode(courses), force=True)
    enrollment[5] = changed(enrollment[5], "course_enrollment")

    data = encode(enrollment)
    fast = service.preview_import(factory, "lc", "course_enrollment", "sftp", data, "e")
    whole = service.preview_import(
        factory, "lc", "course_enrollment", "sftp", data, "e", baseline=False
    )
    assert not fast.parsed.partial
    assert_same(fast, whole)
    assert any(
        "'C001' matches no course" in p.message for p in fast.parsed.warnings.items
    )


def test_rows_changed_after_preview_are_read_whole(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    run_import(factory, "students", encode(first_night("students", 100)))
    second = first_night("students", 100)[:-10]
    _, applied = run_import(factory, "students", encode(second), force=True)
    assert applied is not None
    third = first_night("students", 100)
    third[1] = changed_line(third[1])
    preview = service.preview_import(
        factory, "lc", "students", "sftp", encode(third), "s.csv"
    )
    assert preview.parsed.partial
    assert preview.counts["added"] == 10
    # The second night is rolled back between this preview and its apply, so
    # the rows it was compared with are gone.
    service.rollback_run(factory, applied.id)

    run = service.apply_preview(factory, preview)
    assert run.status == "applied"
    assert run.counts["added"] == 0
    assert run.counts["changed"] == 1
    expected = parse_bytes(KINDS["students"], encode(third), "s.csv")
    assert stored_rows(factory, "lc", "students", expected.fields) == expected.rows


def test_rollback_leaves_no_baseline(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", encode(first_night("students", 50)))
    second = first_night("students", 50)
    second[4] = changed_line(second[4])
    _, run = run_import(factory, "students", encode(second))
    assert run is not None
    service.rollback_run(factory, run.id)

    preview = service.preview_import(
        factory, "lc", "students", "sftp", encode(second), "s.csv"
    )
    assert not preview.parsed.partial
    assert preview.counts["changed"] == 1
    assert preview.old["s3@uni.edu"][2] == "Last0"


def test_other_kept_fields_read_whole_file(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    first = first_night("student_metadata", 40)
    run_import(factory, "student_metadata", encode(first))
    with transaction(factory) as session:
        community = get_community(session, "lc")
        integrations.set_options(
            session, community, "student_metadata", keep_fields=["major"]
        )
    second = list(first)
    second[2] = changed(second[2], "student_metadata")
    data = encode(second)
    fast = service.preview_import(factory, "lc", "student_metadata", "sftp", data, "m")
    whole = service.preview_import(
        factory, "lc", "student_metadata", "sftp", data, "m", baseline=False
    )
    assert not fast.parsed.partial
    assert_same(fast, whole)
    assert fast.parsed.dropped_columns == ["Year in School"]


def test_preview_reports_its_stages(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    stages: list[tuple[str, float | None]] = []
    first = encode(first_night("students", 50_000))
    preview = service.preview_import(
        factory, "lc", "students", "sftp", first, "s.csv", progress=_record(stages)
    )
    names = [name for name, _ in stages]
    assert names[0] == service.STAGE_BASELINE
    assert names[-1] == service.STAGE_COMPARE
    shares = [share for name, share in stages if name == service.STAGE_READ]
    assert len(shares) >= 3
    assert shares == sorted(shares)
    assert shares[-1] == 1.0
    service.apply_preview(factory, preview)

    stages.clear()
    second = first_night("students", 50_000)
    second[7] = changed_line(second[7])
    service.preview_import(
        factory,
        "lc",
        "students",
        "sftp",
        encode(second),
        "s.csv",
        progress=_record(stages),
    )
    assert [name for name, _ in stages] == [
        service.STAGE_BASELINE,
        service.STAGE_COMPARE,
    ]


def _record(
    stages: list[tuple[str, float | None]],
) -> Callable[[str, float | None], None]:
    def record(stage: str, share: float | None) -> None:
        stages.append((stage, share))

    return record
