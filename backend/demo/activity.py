"""Demo tutoring activity that follows grades, and demo Canvas settings.

Students with higher term GPAs use tutoring more often in the demo, so that the
engagement-by-GPA report has a visible trend. Everything derives from the
``random.Random`` passed in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.demo.generate import DemoStudent, GradeRow
from backend.models import DropInCheckIn, Student, TutoringSession
from backend.services import canvas, integrations
from backend.services.schools import get_community

log = logging.getLogger(__name__)

# The spring term whose grades the demo imports.
TERM_START = datetime(2026, 1, 20, tzinfo=UTC)
TERM_DAYS = 105
LOCATIONS = ("Library 2nd floor", "Science Hall 140", "Online")


def provider_emails(providers_file: bytes) -> list[str]:
    """Read the Email column of a demo providers file."""
    reader = csv.DictReader(io.StringIO(providers_file.decode("utf-8")))
    return [row["Email"] for row in reader]


def stale_providers_csv(courses: Sequence[tuple[str, str]], domain: str) -> bytes:
    """Return provider rows, without a header, whose certifications went stale.

    One names a course without the professor suffix its code now has, the
    other a subject prefix misspelled, as after a course list was renamed.
    """
    codes = [code for code, _name in courses]
    suffixed = next(code for code in codes if "-" in code)
    base = suffixed.split("-")[0]
    subject = codes[0][:4]
    swapped = subject[:2] + subject[3] + subject[2]
    rows = [
        (f"tutor900.okafor@{domain}", "Grace", "Okafor", f"{base}|{subject}*"),
        (f"tutor901.hall@{domain}", "Omar", "Hall", f"{swapped}*|{codes[1]}"),
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def term_gpas(grades: Sequence[GradeRow]) -> dict[str, tuple[float, list[str]]]:
    """Map each student ID to their term GPA and graded course codes."""
    points: dict[str, list[float]] = {}
    courses: dict[str, list[str]] = {}
    for student_id, code, _term, _grade, value in grades:
        points.setdefault(student_id, []).append(float(value))
        courses.setdefault(student_id, []).append(code)
    return {
        sid: (sum(values) / len(values), courses[sid]) for sid, values in points.items()
    }


def _when(rng: random.Random) -> datetime:
    day = TERM_START + timedelta(days=rng.randrange(TERM_DAYS))
    return day.replace(hour=rng.randint(9, 19), minute=rng.choice((0, 15, 30, 45)))


def add_activity(
    factory: sessionmaker[Session],
    slug: str,
    students: Sequence[DemoStudent],
    grades: Sequence[GradeRow],
    providers: Sequence[str],
    rng: random.Random,
) -> None:
    """Add completed sessions and drop-in check-ins over the spring term.

    The chance that a student uses tutoring grows from about a quarter at a
    0.0 GPA to about two thirds at 4.0, and frequent users are likelier among
    higher GPAs too.
    """
    gpas = term_gpas(grades)
    with transaction(factory) as session:
        community = get_community(session, slug)
        row_ids = dict(
            session.execute(
                select(Student.student_id, Student.id).where(
                    Student.community_id == community.id
                )
            ).all()
        )
        sessions: list[TutoringSession] = []
        check_ins: list[DropInCheckIn] = []
        for student in students:
            gpa, codes = gpas.get(student.student_id, (2.0, []))
            if rng.random() >= 0.22 + 0.11 * gpa:
                continue
            visits = 1 + int(rng.expovariate(1 / (1 + 1.2 * gpa)))
            for _ in range(visits):
                start = _when(rng)
                code = rng.choice(codes) if codes else None
                if rng.random() < 0.55:
                    sessions.append(
                        TutoringSession(
                            community_id=community.id,
                            student_email=student.email,
                            provider_email=rng.choice(providers),
                            course_code=code,
                            session_type=rng.choice(("appointment", "drop_in")),
                            location=rng.choice(LOCATIONS),
                            starts_at=start,
                            ends_at=start + timedelta(minutes=rng.choice((30, 60))),
                            status=rng.choice(("completed",) * 9 + ("no_show",)),
                        )
                    )
                else:
                    card = rng.random() < 0.6
                    check_ins.append(
                        DropInCheckIn(
                            community_id=community.id,
                            identifier=student.student_id if card else student.email,
                            student_row_id=row_ids.get(student.student_id),
                            student_email=student.email,
                            first_name=student.first_name,
                            last_name=student.last_name,
                            course_code=code,
                            method="card_reader" if card else "kiosk",
                            checked_in_at=start,
                            checked_out_at=start + timedelta(minutes=45),
                        )
                    )
        session.add_all(sessions)
        session.add_all(check_ins)
    log.info(
        "demo activity for %s: %d sessions, %d check-ins",
        slug,
        len(sessions),
        len(check_ins),
    )


def set_up_canvas(factory: sessionmaker[Session], slug: str) -> None:
    """Turn Canvas on for one community, as if the school had sent its IDs back."""
    deployment = "1:" + hashlib.sha1(slug.encode()).hexdigest()
    with transaction(factory) as session:
        community = get_community(session, slug)
        integrations.set_enabled(session, community, "canvas", True)
        canvas.update_settings(
            session,
            community,
            {"placement": "both", "course_default": "disabled"},
        )
        canvas.record_ids(session, community, "10000000000047", [deployment])
