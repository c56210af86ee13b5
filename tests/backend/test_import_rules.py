"""Source rules, guards, locking and atomicity of imports, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import leases
from backend.db import transaction
from backend.errors import Conflict, InvalidValue
from backend.imports import apply as apply_module
from backend.imports import service
from backend.models import (
    Course,
    DropInCheckIn,
    Enrollment,
    ImportRun,
    Student,
    StudentMetadata,
)
from backend.services import integrations, schools
from tests.helpers import (
    STUDENT_HEADER,
    csv_bytes,
    make_community,
    run_import,
    student_rows,
)

COURSE_HEADER = "Course Code,Course Name"
ENROLLMENT_HEADER = "Student ID,Course Code"


def count(factory: sessionmaker[Session], model: type, **filters: object) -> int:
    with factory() as session:
        query = select(func.count()).select_from(model)
        for name, value in filters.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query) or 0


def test_custom_upload_leaves_it_rows(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(20)))
    custom = csv_bytes(STUDENT_HEADER, student_rows(5, start=500))
    run_import(factory, "students", custom, source="custom")
    run_import(
        factory,
        "students",
        csv_bytes(STUDENT_HEADER, student_rows(1, start=900)),
        source="custom",
        force=True,
    )
    assert count(factory, Student, source="sftp", active=True) == 20
    assert count(factory, Student, source="custom", active=True) == 1


def test_it_import_leaves_custom_rows(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(5)), source="custom"
    )
    preview, _ = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(8, start=50))
    )
    assert preview.counts["removed"] == 0
    assert count(factory, Student, source="custom", active=True) == 5
    assert count(factory, Student, source="sftp", active=True) == 8


def test_other_community_untouched(factory: sessionmaker[Session]) -> None:
    make_community(factory, "lc")
    make_community(factory, "wc")
    run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)), community="wc"
    )
    run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(3)), community="lc"
    )
    with factory() as session:
        wc = schools.get_community(session, "wc")
        assert (
            session.scalar(
                select(func.count()).where(
                    Student.community_id == wc.id, Student.active.is_(True)
                )
            )
            == 10
        )


def test_sftp_import_needs_integration_on(factory: sessionmaker[Session]) -> None:
    make_community(factory, integrations_on=())
    data = csv_bytes(STUDENT_HEADER, student_rows(3))
    with pytest.raises(InvalidValue, match="integration is off"):
        service.preview_import(factory, "lc", "students", "sftp", data, "s.csv")
    preview = service.preview_import(factory, "lc", "students", "custom", data, "s.csv")
    assert preview.status == "previewed"


def test_providers_are_custom_only(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    with pytest.raises(InvalidValue, match="--source custom"):
        service.preview_import(
            factory, "lc", "providers", "sftp", b"Email,Courses\n", "p.csv"
        )


def test_courses_switch_replaces_custom_once(factory: sessionmaker[Session]) -> None:
    make_community(factory, integrations_on=())
    run_import(
        factory,
        "courses",
        csv_bytes(COURSE_HEADER, ["CHEM1,Chem", "BIOL1,Bio"]),
        source="custom",
    )
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        shown = integrations.courses_replaced_on_enable(session, community)
        assert [c.course_code for c in shown] == ["BIOL1", "CHEM1"]
        integrations.set_enabled(session, community, "courses", True)
    assert count(factory, Course, source="custom", active=True) == 0

    run_import(
        factory, "courses", csv_bytes(COURSE_HEADER, ["MATH9,Math"]), source="custom"
    )
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        integrations.set_enabled(session, community, "courses", False)
        assert integrations.courses_replaced_on_enable(session, community) == []
        integrations.set_enabled(session, community, "courses", True)
    assert count(factory, Course, source="custom", active=True) == 1


def test_it_enrollment_replaces_manual_file(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    manual = csv_bytes(ENROLLMENT_HEADER, ["1,CHEM1", "2,CHEM1"])
    run_import(factory, "course_enrollment", manual, source="custom")
    it_file = csv_bytes(ENROLLMENT_HEADER, ["1,BIOL1", "3,BIOL1", "4,BIOL1"])
    preview, run = run_import(factory, "course_enrollment", it_file)
    assert preview.counts["replaced"] == 2
    assert run.status == "applied"
    assert count(factory, Enrollment, source="custom") == 0
    assert count(factory, Enrollment, source="sftp") == 3

    service.rollback_run(factory, run.id)
    assert count(factory, Enrollment, source="custom") == 2
    assert count(factory, Enrollment, source="sftp") == 0


def test_change_guard_holds(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)))
    _, run = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10, "Roe"))
    )
    assert run.status == "held"
    assert "change 10 of 10 students (100.0%)" in run.hold_reason
    assert "limit of 75%" in run.hold_reason


def test_guard_thresholds_per_community(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        schools.update_community(session, community, remove_guard_percent=50)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)))
    _, run = run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(6)))
    assert run.status == "applied"


def test_rejected_run_cannot_be_approved(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    preview = service.preview_import(
        factory, "lc", "students", "sftp", b"Email\nbad\n", "s.csv"
    )
    assert preview.status == "rejected"
    with pytest.raises(Conflict, match="rejected"):
        service.approve_run(factory, preview.run_id)


def test_held_run_rejected(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)))
    _, run = run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(1)))
    service.reject_run(factory, run.id)
    assert count(factory, Student, active=True) == 10
    with pytest.raises(Conflict):
        service.approve_run(factory, run.id)


def test_second_import_gets_already_running(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    preview = service.preview_import(
        factory,
        "lc",
        "students",
        "sftp",
        csv_bytes(STUDENT_HEADER, student_rows(3)),
        "s.csv",
    )
    holder = leases.acquire(factory, f"import:{preview.community_id}:students")
    with factory() as session, session.begin():
        lease = session.get(leases.Lease, f"import:{preview.community_id}:students")
        lease.holder = "kiosk-7:1"
    try:
        with pytest.raises(Conflict, match="already running"):
            service.apply_preview(factory, preview)
    finally:
        leases.release(factory, f"import:{preview.community_id}:students", "kiosk-7:1")
    assert holder
    assert service.apply_preview(factory, preview).status == "applied"


def test_failed_apply_leaves_database_as_it_was(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(20)))
    rows = student_rows(19, "Roe") + student_rows(5, start=100)
    preview = service.preview_import(
        factory, "lc", "students", "sftp", csv_bytes(STUDENT_HEADER, rows), "s.csv"
    )

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply_module, "_update_by_id", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        service.apply_preview(factory, preview, force=True)
    assert count(factory, Student) == 20
    assert count(factory, Student, last_name="Doe", active=True) == 20
    with factory() as session:
        assert session.get(ImportRun, preview.run_id).status == "previewed"
        assert (
            leases.current_holder(session, f"import:{preview.community_id}:students")
            is None
        )


def test_same_file_twice_warns(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    data = csv_bytes(STUDENT_HEADER, student_rows(4))
    run_import(factory, "students", data)
    preview, _ = run_import(factory, "students", data)
    assert preview.counts["unchanged"] == 4
    assert "identical to run" in preview.parsed.warnings.items[0].message


def test_unknown_course_in_enrollment_warns(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "courses", csv_bytes(COURSE_HEADER, ["CHEM1,Chem"]))
    preview, run = run_import(
        factory,
        "course_enrollment",
        csv_bytes(ENROLLMENT_HEADER, ["1,CHEM1", "1,XYZ9"]),
    )
    assert run.status == "applied"
    warning = preview.parsed.warnings.items[0]
    assert (warning.line, warning.message) == (
        3,
        "'XYZ9' matches no course of this community",
    )


def test_metadata_column_dropped_by_it_shows_as_change(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    first = csv_bytes("Student ID,Major,Holds", ["1,Bio,", "2,Chem,Bursar"])
    run_import(factory, "student_metadata", first)
    second = csv_bytes("Student ID,Major", ["1,Bio", "2,Chem"])
    preview, _ = run_import(factory, "student_metadata", second, force=True)
    assert preview.diff.fields == ("student_key", "major", "holds")
    assert preview.diff.changed == ["2"]
    with factory() as session:
        stored = session.scalars(
            select(StudentMetadata.fields).where(StudentMetadata.key == "2")
        ).one()
    assert stored == {"major": "Chem"}


def test_rollback_of_soft_deleted_courses(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(
        factory, "courses", csv_bytes(COURSE_HEADER, [f"C{i},n" for i in range(10)])
    )
    _, run = run_import(
        factory, "courses", csv_bytes(COURSE_HEADER, ["C0,n", "NEW1,n"]), force=True
    )
    assert count(factory, Course, active=True) == 2
    service.rollback_run(factory, run.id)
    assert count(factory, Course, active=True) == 10
    assert count(factory, Course, key="NEW1", active=False) == 1


def test_held_run_stale_after_newer_apply(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)))
    _, held = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(2))
    )
    assert held.status == "held"
    _, newer = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(11))
    )
    assert newer.status == "applied"
    with pytest.raises(
        Conflict, match=f"run {newer.id}, a students file previewed after run"
    ):
        service.approve_run(factory, held.id)
    assert count(factory, Student, active=True) == 11
    assert service.reject_run(factory, held.id).status == "rejected"


def test_previewed_run_cannot_be_approved(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)))
    data = csv_bytes(STUDENT_HEADER, student_rows(1))
    preview = service.preview_import(factory, "lc", "students", "sftp", data, "s.csv")
    assert preview.status == "previewed"
    assert preview.hold_reason is not None
    with pytest.raises(Conflict, match="only a held run can be approved"):
        service.approve_run(factory, preview.run_id)
    assert count(factory, Student, active=True) == 10


def test_courses_file_names_no_unknown_course(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    preview, _ = run_import(factory, "courses", csv_bytes(COURSE_HEADER, ["NEW1,New"]))
    assert preview.parsed.warnings.total == 0


def test_rollback_keeps_students_with_history(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(10)))
    rows = student_rows(10) + student_rows(1, start=50)
    _, run = run_import(factory, "students", csv_bytes(STUDENT_HEADER, rows))
    with transaction(factory) as session:
        newcomer = session.scalars(
            select(Student).where(Student.key == "s50@uni.edu")
        ).one()
        session.add(
            DropInCheckIn(
                community_id=newcomer.community_id,
                identifier="000050",
                student_row_id=newcomer.id,
            )
        )
    service.rollback_run(factory, run.id)
    with factory() as session:
        newcomer = session.scalars(
            select(Student).where(Student.key == "s50@uni.edu")
        ).one()
        visit = session.scalars(select(DropInCheckIn)).one()
    assert newcomer.active is False
    assert visit.student_row_id == newcomer.id
    assert count(factory, Student, active=True) == 10


def test_stale_preview_diffs_again(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    _, first = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(5))
    )
    assert first is not None
    data = csv_bytes(STUDENT_HEADER, student_rows(7))
    stale = service.preview_import(factory, "lc", "students", "sftp", data, "a.csv")
    assert stale.counts["added"] == 2
    # The rows the preview was compared with change before its apply.
    service.rollback_run(factory, first.id)
    run = service.apply_preview(factory, stale)
    assert run.status == "applied"
    assert run.counts["added"] == 7
    assert count(factory, Student, active=True) == 7


def test_older_preview_refused_after_newer_apply(
    factory: sessionmaker[Session],
) -> None:
    make_community(factory)
    data = csv_bytes(STUDENT_HEADER, student_rows(5))
    older = service.preview_import(factory, "lc", "students", "sftp", data, "a.csv")
    _, newer = run_import(
        factory, "students", csv_bytes(STUDENT_HEADER, student_rows(7))
    )
    assert newer is not None
    with pytest.raises(Conflict, match="would bring back older data"):
        service.apply_preview(factory, older)
    assert count(factory, Student, active=True) == 7


def test_fresh_preview_diff_is_reused(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, student_rows(20)))
    rows = student_rows(20, "Roe")[:2] + student_rows(20)[2:]
    data = csv_bytes(STUDENT_HEADER, rows)
    preview = service.preview_import(factory, "lc", "students", "sftp", data, "b.csv")
    assert preview.scope_state is not None
    with factory() as session:
        assert preview.scope_state.fingerprint == service.scope_fingerprint(
            session, preview.spec, preview.community_id, "sftp"
        )
    run = service.apply_preview(factory, preview)
    assert run.counts["changed"] == 2
    assert count(factory, Student, last_name="Roe") == 2
    with factory() as session:
        assert preview.scope_state.fingerprint != service.scope_fingerprint(
            session, preview.spec, preview.community_id, "sftp"
        )
