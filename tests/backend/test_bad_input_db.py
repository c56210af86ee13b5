"""Bad files are rejected on both databases with their line, and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.formats.kinds import KINDS
from backend.imports import service
from backend.models import AuditEvent, ImportRun
from tests.backend.test_formats import VALID_FILES
from tests.helpers import make_community

BAD_ROWS = {
    "students": "bad-email,Bo,Kim,bkim,00124",
    "courses": "CHEM 1301,Chemistry I,2026FA",
    "course_enrollment": "1.23457E+11,CHEM1301,2026FA,MWF,8-9",
    "student_metadata": ",Junior,Biology",
    "course_grades": "00123,CHEM1301,2026SP,,3.7",
    "providers": "tutor2@uni.edu,Tia,Ng,tng2,CH*EM",
}


def source_of(kind: str) -> str:
    return "custom" if kind == "providers" else "sftp"


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_bad_row_rejected_and_nothing_written(
    factory: sessionmaker[Session], kind: str
) -> None:
    make_community(factory)
    text = VALID_FILES[kind] + BAD_ROWS[kind] + "\n"
    preview = service.preview_import(
        factory, "lc", kind, source_of(kind), text.encode(), f"{kind}.csv"
    )
    assert preview.status == "rejected"
    problem = preview.parsed.errors.items[0]
    assert problem.line == text.count("\n")
    assert problem.column

    model = KINDS[kind].model
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(model)) == 0
        run = session.get(ImportRun, preview.run_id)
        assert run.status == "rejected"
        assert run.errors["errors"][0]["line"] == problem.line
        assert run.file_data is None


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_valid_file_applies_on_each_database(
    factory: sessionmaker[Session], kind: str
) -> None:
    make_community(factory)
    data = VALID_FILES[kind].encode()
    preview = service.preview_import(
        factory, "lc", kind, source_of(kind), data, "f.csv"
    )
    run = service.apply_preview(factory, preview)
    assert run.status == "applied"
    model = KINDS[kind].model
    with factory() as session:
        stored = session.scalar(select(func.count()).select_from(model))
    assert stored == len(preview.parsed.rows)


def test_audit_names_sudo_user_and_ssh_client(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUDO_USER", "mrivera")
    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("SSH_CLIENT", "198.51.100.7 52144 22")
    make_community(factory)
    with factory() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "community.add")
        ).one()
    assert event.os_user == "mrivera"
    assert event.ssh_client == "198.51.100.7"
