"""The engagement-by-GPA report on a small data set checked by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.errors import NotFound
from backend.models import DropInCheckIn, Student, TutoringSession
from backend.services import engagement
from backend.services.schools import get_community
from tests.helpers import STUDENT_HEADER, csv_bytes, make_community, run_import

GRADES = (
    "Student ID,Course Code,Term,Grade,Grade Points",
    [
        # s1: (4.0 + 3.7) / 2 = 3.85
        "000001,CHEM1301,2026SP,A,4.0",
        "000001,MATH1301,2026SP,A-,3.7",
        # s2: B from its letter, (3.0 + 3.3) / 2 = 3.15
        "000002,CHEM1301,2026SP,B,",
        "000002,MATH1301,2026SP,B+,3.3",
        # s3: (2.0 + 1.0) / 2 = 1.5; the fall grade is another term
        "000003,CHEM1301,2026SP,C,2.0",
        "000003,MATH1301,2026SP,D,1.0",
        "000003,BIOL110,2026FA,A,4.0",
        # s4: P has no points, so 0.0
        "000004,CHEM1301,2026SP,F,0.0",
        "000004,MATH1301,2026SP,P,",
        # s5: 2.7
        "000005,CHEM1301,2026SP,B-,2.7",
        # s6 named by email: 4.0
        "s6@uni.edu,CHEM1301,2026SP,A,",
        # not on the roster: 2.3
        "999999,CHEM1301,2026SP,C+,2.3",
    ],
)
START = datetime(2026, 2, 1, 15, 0, tzinfo=UTC)


def load(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    rows = [f"s{i}@uni.edu,F{i},L{i},sso{i},{i:06d}" for i in range(1, 7)]
    run_import(factory, "students", csv_bytes(STUDENT_HEADER, rows))
    _preview, run = run_import(factory, "course_grades", csv_bytes(*GRADES))
    assert run is not None

    with transaction(factory) as session:
        community = get_community(session, "lc")
        s3 = session.scalars(
            select(Student).where(Student.student_id == "000003")
        ).one()

        def add_session(email: str, status: str = "completed", days: int = 0) -> None:
            start = START + timedelta(days=days)
            session.add(
                TutoringSession(
                    community_id=community.id,
                    student_email=email,
                    provider_email="tutor@uni.edu",
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    status=status,
                )
            )

        def add_check_in(identifier: str, **values: object) -> None:
            session.add(
                DropInCheckIn(
                    community_id=community.id,
                    identifier=identifier,
                    checked_in_at=START,
                    **values,
                )
            )

        add_session("s1@uni.edu")
        add_session("s1@uni.edu", days=1)
        add_session("s1@uni.edu", status="cancelled")
        for day in range(3):
            add_session("S3@UNI.EDU", days=day)
        add_session("s5@uni.edu", days=-20)
        add_session("s2@uni.edu", days=-60)
        add_session("nobody@uni.edu")
        add_check_in("000003", student_row_id=s3.id)
        add_check_in("000004")
        add_check_in("000004")
        add_check_in("card", student_email="s6@uni.edu")
        add_check_in("x@uni.edu")


def report(
    factory: sessionmaker[Session], term: str = "2026SP", **window: datetime
) -> engagement.EngagementReport:
    with factory() as session:
        community = get_community(session, "lc")
        return engagement.engagement_by_gpa(session, community, term, **window)


def test_band_numbers(factory: sessionmaker[Session]) -> None:
    load(factory)
    result = report(factory)
    rows = {
        band.label: (band.students, band.users, band.sessions, band.check_ins)
        for band in result.bands
    }
    assert rows == {
        "0.0-2.0": (2, 2, 3, 3),
        "2.0-2.5": (1, 0, 0, 0),
        "2.5-3.0": (1, 1, 1, 0),
        "3.0-3.5": (1, 0, 0, 0),
        "3.5+": (2, 2, 2, 1),
    }
    assert result.students == 7
    assert result.users == 5
    assert result.ungraded_users == 2


def test_band_ratios(sqlite_factory: sessionmaker[Session]) -> None:
    load(sqlite_factory)
    low = report(sqlite_factory).bands[0]
    assert low.used_percent == 100.0
    assert low.visits_per_user == 3.0


def test_window_limits_activity(sqlite_factory: sessionmaker[Session]) -> None:
    load(sqlite_factory)
    result = report(sqlite_factory, since=START - timedelta(days=1))
    assert result.bands[2].users == 0
    assert result.bands[2].sessions == 0
    result = report(sqlite_factory, until=START + timedelta(days=1))
    assert result.bands[0].sessions == 1
    assert result.bands[4].sessions == 1


def test_unknown_term_lists_terms(sqlite_factory: sessionmaker[Session]) -> None:
    load(sqlite_factory)
    with pytest.raises(NotFound, match="terms with grades: 2026FA, 2026SP"):
        report(sqlite_factory, term="2025FA")


def test_csv_export(sqlite_factory: sessionmaker[Session]) -> None:
    load(sqlite_factory)
    text = engagement.report_csv(report(sqlite_factory))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Term", "GPA Band", "Students", "Used Tutoring"]
    assert rows[1] == ["2026SP", "0.0-2.0", "2", "2", "100.0", "3", "3", "3.00"]
    assert rows[5] == ["2026SP", "3.5+", "2", "2", "100.0", "2", "1", "1.50"]
    assert len(rows) == 6


def test_semester_code_sets_window() -> None:
    since, until = engagement.term_window("2026SP")
    assert since == datetime(2026, 1, 1, tzinfo=UTC)
    assert until == datetime(2026, 6, 1, tzinfo=UTC)
    since, until = engagement.term_window("2026fa")
    assert since == datetime(2026, 8, 16, tzinfo=UTC)
    assert until == datetime(2027, 1, 1, tzinfo=UTC)
    assert engagement.term_window("Spring 2026") == (None, None)


def test_activity_outside_term_not_counted(
    sqlite_factory: sessionmaker[Session],
) -> None:
    load(sqlite_factory)
    everything = report(sqlite_factory, since=START - timedelta(days=365))
    in_term = report(sqlite_factory)
    assert (
        sum(b.sessions for b in everything.bands)
        == sum(b.sessions for b in in_term.bands) + 1
    )
