"""The import engine on SQLite and PostgreSQL: diff, guards, apply and rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import Conflict
from backend.imports import service
from backend.models import AuditEvent, Student
from tests.helpers import (
    STUDENT_HEADER,
    csv_bytes,
    make_community,
    run_import,
    student_rows,
)


def active_students(
    factory: sessionmaker[Session], source: str = "sftp"
) -> dict[str, str]:
    with factory() as session:
        rows = session.execute(
            select(Student.key, Student.last_name).where(
                Student.active.is_(True), Student.source == source
            )
        )
        return {key: last_name for key, last_name in rows}


def test_first_import_adds_every_row(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    preview, run = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(50))
    )
    assert preview.counts["added"] == 50
    assert run is not None
    assert run.status == "applied"
    assert len(active_students(factory)) == 50


def test_preview_writes_no_roster_row(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    data = csv_bytes(STUDENT_HEADER, student_rows(10))
    preview = service.preview_import(factory, "lc", "students", "sftp", data, "s.csv")
    assert preview.status == "previewed"
    assert active_students(factory) == {}


def test_change_shows_old_and_new(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(40)))
    rows = student_rows(40)
    rows[3] = rows[3].replace(",Doe,", ",Roe,")
    preview = service.preview_import(
        factory, "lc", "students", "sftp", csv_bytes(STUDENT_HEADER, rows), "s.csv"
    )
    assert preview.counts["changed"] == 1
    assert preview.counts["unchanged"] == 39
    key = preview.diff.changed[0]
    assert key == "s3@uni.edu"
    last_name = preview.diff.fields.index("last_name")
    assert preview.old[key][last_name] == "Doe"
    assert preview.parsed.rows[key][last_name] == "Roe"


def test_mass_removal_is_held(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(100)))
    _, run = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(80))
    )
    assert run is not None
    assert run.status == "held"
    assert "20 of 100 students (20.0%)" in run.hold_reason
    assert len(active_students(factory)) == 100

    approved = service.approve_run(factory, run.id)
    assert approved.status == "applied"
    assert len(active_students(factory)) == 80


def test_removed_students_become_inactive_and_return(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(100)))
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(95)))
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(Student))
    assert total == 100
    preview, _ = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(100))
    )
    assert preview.diff.reactivated == {f"s{i}@uni.edu" for i in range(95, 100)}
    assert len(active_students(factory)) == 100


def test_rollback_restores_previous_state(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(100)))
    rows = student_rows(95, last_name="Roe") + student_rows(3, start=200)
    _, run = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, rows), force=True
    )
    assert run.status == "applied"

    service.rollback_run(factory, run.id)
    students = active_students(factory)
    assert len(students) == 100
    assert set(students.values()) == {"Doe"}


def test_rollback_only_newest_run(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    _, first = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10))
    )
    run_import(
        factory,
        "students",
        csv_bytes(STUDENT_HEADER, student_rows(10, "Roe")),
        force=True,
    )
    with pytest.raises(Conflict, match="roll back run"):
        service.rollback_run(factory, first.id)


def test_apply_is_audited(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(5)))
    with factory() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "import.apply" in actions
