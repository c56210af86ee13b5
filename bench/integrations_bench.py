"""Time the engagement report and certification coverage at university size.

Builds a SQLite database with one community of N students (30,000 by default),
four grades each, a tutoring session or check-in for about half of them
(three visits on average), 400 courses and 300 providers with wildcard and
exact certifications. Then times, best of three:

1. ``engagement_by_gpa`` for the term;
2. ``community_coverage``;
3. ``student_profile_metadata`` for one student.

Usage: python bench/integrations_bench.py [--students N] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database, transaction
from backend.models import (
    Course,
    CourseGrade,
    DropInCheckIn,
    Provider,
    Student,
    TutoringSession,
)
from backend.services import engagement, metadata, schools
from backend.services.certifications import community_coverage

SUBJECTS = ("BIOL", "CHEM", "MATH", "PHYS", "ECON", "HIST", "ENGL", "PSYC")
GRADES = (("A", "4.0"), ("B", "3.0"), ("C", "2.0"), ("D", "1.0"), ("F", "0.0"))


def build(factory: sessionmaker[Session], students: int) -> int:
    rng = random.Random(30000)
    with transaction(factory) as session:
        schools.add_school(session, "bench", "Bench University")
        community = schools.add_community(session, "bench", "bench-lc", "Bench LC")
        cid = community.id
    codes = [f"{s}{n}" for s in SUBJECTS for n in range(100, 150)]
    start = datetime(2026, 1, 20, tzinfo=UTC)
    with transaction(factory) as session:
        session.execute(
            insert(Course),
            [
                {"community_id": cid, "source": "sftp", "key": c, "course_code": c}
                for c in codes
            ],
        )
        session.execute(
            insert(Student),
            [
                {
                    "community_id": cid,
                    "source": "sftp",
                    "key": f"s{i}@bench.edu",
                    "email": f"s{i}@bench.edu",
                    "student_id": f"{i:08d}",
                }
                for i in range(students)
            ],
        )
        grades = []
        sessions = []
        check_ins = []
        for i in range(students):
            for code in rng.sample(codes, 4):
                grade, points = rng.choice(GRADES)
                grades.append(
                    {
                        "community_id": cid,
                        "source": "sftp",
                        "key": f"{i:08d}|{code}|2026SP",
                        "student_key": f"{i:08d}",
                        "course_code": code,
                        "term": "2026SP",
                        "grade": grade,
                        "grade_points": points,
                    }
                )
            if rng.random() < 0.5:
                for _ in range(rng.randint(1, 5)):
                    when = start + timedelta(hours=rng.randrange(2400))
                    if rng.random() < 0.5:
                        sessions.append(
                            {
                                "community_id": cid,
                                "student_email": f"s{i}@bench.edu",
                                "provider_email": "t@bench.edu",
                                "starts_at": when,
                                "ends_at": when,
                                "status": "completed",
                            }
                        )
                    else:
                        check_ins.append(
                            {
                                "community_id": cid,
                                "identifier": f"{i:08d}",
                                "checked_in_at": when,
                            }
                        )
        session.execute(insert(CourseGrade), grades)
        session.execute(insert(TutoringSession), sessions)
        session.execute(insert(DropInCheckIn), check_ins)
        providers = []
        for n in range(300):
            subject = rng.choice(SUBJECTS)
            certs = f"{subject}1*|{rng.choice(codes)}|{subject}99"
            providers.append(
                {
                    "community_id": cid,
                    "source": "custom",
                    "key": f"p{n}@bench.edu",
                    "email": f"p{n}@bench.edu",
                    "courses": certs,
                }
            )
        session.execute(insert(Provider), providers)
    return cid


def best_of(runs: int, step: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--smoke", action="store_true", help="1,000 students, once")
    args = parser.parse_args()
    students = 1000 if args.smoke else args.students
    runs = 1 if args.smoke else 3

    with tempfile.TemporaryDirectory() as folder:
        factory = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        began = time.perf_counter()
        build(factory, students)
        print(f"build {students:,} students: {time.perf_counter() - began:.2f} s")
        with factory() as session:
            community = schools.get_community(session, "bench-lc")
            student = metadata.find_student(session, community, "s1@bench.edu")
            steps = {
                "engagement_by_gpa": lambda: engagement.engagement_by_gpa(
                    session, community, "2026SP"
                ),
                "community_coverage": lambda: community_coverage(session, community),
                "student_profile_metadata": lambda: metadata.student_profile_metadata(
                    session, community, student
                ),
            }
            for name, step in steps.items():
                print(f"{name}: {best_of(runs, step):.3f} s (best of {runs})")
        factory.kw["bind"].dispose()


if __name__ == "__main__":
    main()
