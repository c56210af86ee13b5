"""Builders for test data: schools, communities and CSV files."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.imports import service
from backend.imports.service import Preview
from backend.models import ImportRun
from backend.services import integrations, schools

STUDENT_HEADER = "Email,First Name,Last Name,SSO ID,Student ID"


def make_community(
    factory: sessionmaker[Session],
    slug: str = "lc",
    school: str = "uni",
    integrations_on: tuple[str, ...] = (
        "students",
        "courses",
        "course_enrollment",
        "student_metadata",
        "course_grades",
    ),
) -> None:
    """Create a school (if new) and a community with the given integrations on."""
    with transaction(factory) as session:
        try:
            schools.get_school(session, school)
        except Exception:
            schools.add_school(session, school, school.title())
        community = schools.add_community(session, school, slug, slug.upper())
        for kind in integrations_on:
            integrations.set_enabled(session, community, kind, True)


def student_rows(count: int, last_name: str = "Doe", start: int = 0) -> list[str]:
    return [
        f"s{i}@uni.edu,First{i},{last_name},sso{i},{i:06d}"
        for i in range(start, start + count)
    ]


def csv_bytes(header: str, rows: list[str], newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


def run_import(
    factory: sessionmaker[Session],
    kind: str,
    data: bytes,
    source: str = "sftp",
    community: str = "lc",
    force: bool = False,
) -> tuple[Preview, ImportRun | None]:
    """Preview ``data`` and apply it when it previewed cleanly."""
    preview = service.preview_import(
        factory, community, kind, source, data, f"{kind}.csv"
    )
    if preview.status != "previewed":
        return preview, None
    return preview, service.apply_preview(factory, preview, force=force)
