"""Load the demo school through the same import engine staff use."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.demo import activity, generate, term_activity, users
from backend.demo.cards import load_card_demo
from backend.imports import service
from backend.models import School
from backend.services import integrations, metadata, schools

log = logging.getLogger(__name__)

SCHOOL_SLUG = "northfield"
DOMAIN = "northfield.edu"
COMMUNITIES = (
    ("northfield-learning", "Learning Commons", "Tutors", 3000),
    ("northfield-writing", "Writing Center", "Coaches", 1200),
)
SEED = 20261204
# The Writing Center keeps fewer metadata fields, so its imports drop columns.
KEPT_METADATA = {
    "northfield-writing": ["Year in School", "Major", "Academic Standing", "Holds"],
}


@dataclass(frozen=True)
class DemoFiles:
    """Files for trying an import on the demo school: the next night's students."""

    community_slug: str
    next_students: bytes


def demo_loaded(session: Session) -> bool:
    return (
        session.scalars(select(School).where(School.slug == SCHOOL_SLUG)).first()
        is not None
    )


def _import(
    factory: sessionmaker[Session], slug: str, kind: str, source: str, data: bytes
) -> None:
    preview = service.preview_import(factory, slug, kind, source, data, f"{kind}.csv")
    if preview.status != "previewed":
        problems = [p.describe(f"{kind}.csv") for p in preview.parsed.errors.items[:5]]
        raise RuntimeError(f"demo {kind} file rejected: {problems}")
    service.apply_preview(factory, preview, force=True)


def load_demo(factory: sessionmaker[Session]) -> DemoFiles:
    """Create the demo school once and return files for trying an import.

    A second call loads nothing and returns the same files, since the data
    derives from a fixed seed.
    """
    rng = random.Random(SEED)
    with factory() as session:
        already = demo_loaded(session)
    courses = generate.make_courses(rng)
    everyone = generate.make_students(rng, max(n for *_, n in COMMUNITIES), DOMAIN)
    first_slug = COMMUNITIES[0][0]
    next_students = generate.students_csv(
        generate.next_night_students(random.Random(SEED + 1), everyone, DOMAIN)
    )
    if already:
        return DemoFiles(first_slug, next_students)

    log.info("loading the demo school %s", SCHOOL_SLUG)
    with transaction(factory) as session:
        schools.add_school(session, SCHOOL_SLUG, "Northfield State University")
        for slug, name, term, _count in COMMUNITIES:
            community = schools.add_community(session, SCHOOL_SLUG, slug, name)
            community.provider_term = term
            for kind in (
                "students",
                "courses",
                "course_enrollment",
                "student_metadata",
                "course_grades",
                "data_exports",
            ):
                integrations.set_enabled(session, community, kind, True)
            if slug in KEPT_METADATA:
                metadata.set_kept_fields(session, community, KEPT_METADATA[slug])
            integrations.set_options(
                session, community, "data_exports", time_zone="America/Chicago"
            )

    for slug, _name, _term, count in COMMUNITIES:
        students = everyone[:count]
        enrolled = generate.enrollments(rng, students, courses)
        _import(factory, slug, "courses", "sftp", generate.courses_csv(courses))
        _import(factory, slug, "students", "sftp", generate.students_csv(students))
        _import(
            factory,
            slug,
            "course_enrollment",
            "sftp",
            generate.enrollment_csv(enrolled),
        )
        _import(
            factory,
            slug,
            "student_metadata",
            "sftp",
            generate.metadata_csv(rng, students, enrolled),
        )
        grades = generate.grade_rows(rng, students, courses)
        _import(factory, slug, "course_grades", "sftp", generate.grades_csv(grades))
        providers = generate.providers_csv(rng, courses, 40, DOMAIN)
        if slug == first_slug:
            providers += activity.stale_providers_csv(courses, DOMAIN)
        _import(factory, slug, "providers", "custom", providers)
        activity.add_activity(
            factory,
            slug,
            students,
            grades,
            activity.provider_emails(providers),
            random.Random(f"{SEED}-{slug}"),
        )
    activity.set_up_canvas(factory, first_slug)
    activity_rng = random.Random(SEED + 2)
    with transaction(factory) as session:
        for slug, *_rest in COMMUNITIES:
            community = schools.get_community(session, slug)
            term_activity.add_activity(session, community, activity_rng)
    load_card_demo(factory, rng, everyone, COMMUNITIES[0][0], COMMUNITIES[1][0])
    with transaction(factory) as session:
        school = schools.get_school(session, SCHOOL_SLUG)
        landing_rng = random.Random(SEED + 3)
        count = users.add_landing_data(session, landing_rng, school, everyone)
        log.info("added %d demo users who joined no community", count)
    return DemoFiles(first_slug, next_students)
