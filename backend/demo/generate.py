"""Generate demo roster files as CSV bytes, the same way a school's IT would send them.

Everything derives from one seeded ``random.Random``, so a seed gives the same
school every time.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backend.demo.names import FIRST_NAMES, LAST_NAMES, MAJORS, PROFESSORS, SUBJECTS

TERM = "2026FA"
PAST_TERM = "2026SP"
DAYS = ("MWF", "TTH", "MW", "TH")
TIMES = ("8-9", "9-10", "10-11", "11:15-12:30", "1-2", "2:30-3:45", "6-8:30")


@dataclass(frozen=True)
class DemoStudent:
    student_id: str
    sso_id: str
    email: str
    first_name: str
    last_name: str


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def make_students(
    rng: random.Random, count: int, domain: str, used: set[str] | None = None
) -> list[DemoStudent]:
    """Make ``count`` students whose SSO IDs are not in ``used``, and add them to it."""
    students = []
    used = set() if used is None else used
    for number in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        base = f"{first[0]}{last}".lower()
        sso = base
        suffix = 1
        while sso in used:
            suffix += 1
            sso = f"{base}{suffix}"
        used.add(sso)
        student_id = f"{100000 + number * 7 + rng.randrange(7):08d}"
        students.append(DemoStudent(student_id, sso, f"{sso}@{domain}", first, last))
    return students


def make_courses(rng: random.Random) -> list[tuple[str, str]]:
    """Return (code, name) pairs; some codes name a professor: ``BIOL110-Smith``."""
    courses = []
    for subject, title in SUBJECTS.items():
        for number in sorted(rng.sample(range(100, 480, 10), 10)):
            name = f"{title} {number}"
            if rng.random() < 0.15:
                for professor in rng.sample(PROFESSORS, 2):
                    courses.append((f"{subject}{number}-{professor}", name))
            else:
                courses.append((f"{subject}{number}", name))
    return courses


def students_csv(students: Sequence[DemoStudent]) -> bytes:
    return to_csv(
        ("Student ID", "First Name", "Last Name", "Email", "SSO ID"),
        (
            (s.student_id, s.first_name, s.last_name, s.email, s.sso_id)
            for s in students
        ),
    )


def courses_csv(courses: Sequence[tuple[str, str]]) -> bytes:
    return to_csv(
        ("Course Code", "Course Name", "Term"), ((c, n, TERM) for c, n in courses)
    )


def enrollments(
    rng: random.Random,
    students: Sequence[DemoStudent],
    courses: Sequence[tuple[str, str]],
) -> list[tuple[str, str, str, str]]:
    """Return (student ID, course code, days, time) for 3 to 5 courses a student."""
    rows = []
    for student in students:
        for code, _name in rng.sample(courses, rng.randint(3, 5)):
            rows.append((student.student_id, code, rng.choice(DAYS), rng.choice(TIMES)))
    return rows


def enrollment_csv(rows: Sequence[tuple[str, str, str, str]]) -> bytes:
    return to_csv(
        ("Student ID", "Course Code", "Term", "Meeting Days", "Meeting Time"),
        ((sid, code, TERM, days, time) for sid, code, days, time in rows),
    )


def metadata_csv(
    rng: random.Random,
    students: Sequence[DemoStudent],
    enrolled: Sequence[tuple[str, str, str, str]],
) -> bytes:
    by_student: dict[str, list[str]] = {}
    for sid, code, days, time in enrolled:
        by_student.setdefault(sid, []).append(f"{code} {days} {time}")
    years = ("Freshman", "Sophomore", "Junior", "Senior")
    rows = []
    for student in students:
        year = rng.randrange(4)
        rows.append(
            (
                student.student_id,
                years[year],
                rng.choice(("Full-time", "Full-time", "Full-time", "Part-time")),
                rng.choice(("Good Standing",) * 8 + ("Probation", "Dean's List")),
                rng.choice(MAJORS),
                str(year * 30 + rng.randint(0, 29)),
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                f"{2030 - year}-05",
                rng.choice(("", "", "", "", "Bursar", "Advising")),
                " | ".join(by_student.get(student.student_id, [])),
            )
        )
    return to_csv(
        (
            "Student ID",
            "Year in School",
            "Status",
            "Academic Standing",
            "Major",
            "Credits Earned",
            "Advisor",
            "Expected Graduation",
            "Holds",
            "Enrolled Courses",
        ),
        rows,
    )


GRADES = (
    ("A", "4.0"),
    ("A-", "3.7"),
    ("B+", "3.3"),
    ("B", "3.0"),
    ("B-", "2.7"),
    ("C+", "2.3"),
    ("C", "2.0"),
    ("D", "1.0"),
    ("F", "0.0"),
)


GradeRow = tuple[str, str, str, str, str]


def grade_rows(
    rng: random.Random,
    students: Sequence[DemoStudent],
    courses: Sequence[tuple[str, str]],
) -> list[GradeRow]:
    """Return (student ID, course code, term, grade, points) for last term."""
    rows = []
    for student in students:
        ability = rng.random()
        for code, _name in rng.sample(courses, rng.randint(3, 5)):
            index = min(
                len(GRADES) - 1, max(0, int((1 - ability) * 6 + rng.gauss(0, 1.2)))
            )
            grade, points = GRADES[index]
            rows.append((student.student_id, code, PAST_TERM, grade, points))
    return rows


def grades_csv(rows: Sequence[GradeRow]) -> bytes:
    return to_csv(("Student ID", "Course Code", "Term", "Grade", "Grade Points"), rows)


def providers_csv(
    rng: random.Random, courses: Sequence[tuple[str, str]], count: int, domain: str
) -> bytes:
    codes = [code for code, _ in courses]
    rows = []
    for number in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        subject = rng.choice(list(SUBJECTS))
        picks = rng.sample([c for c in codes if c.startswith(subject)], 2)
        certifications = [f"{picks[0].split('-')[0]}*", picks[1]]
        if rng.random() < 0.3:
            certifications.append(f"{rng.choice(list(SUBJECTS))}*")
        trailing = "|" if rng.random() < 0.1 else ""
        email = f"tutor{number:03d}.{last.lower()}@{domain}"
        rows.append((email, first, last, "|".join(certifications) + trailing))
    return to_csv(("Email", "First Name", "Last Name", "Courses"), rows)


def next_night_students(
    rng: random.Random, students: Sequence[DemoStudent], domain: str
) -> list[DemoStudent]:
    """Return the roster a night later: 1% renamed, 0.5% gone, 0.5% new."""
    kept = [s for s in students if rng.random() >= 0.005]
    changed = []
    for student in kept:
        if rng.random() < 0.01:
            student = DemoStudent(
                student.student_id,
                student.sso_id,
                student.email,
                student.first_name,
                rng.choice(LAST_NAMES),
            )
        changed.append(student)
    taken = {s.sso_id for s in students}
    new = make_students(rng, max(1, len(students) // 200), domain, taken)
    return changed + [
        DemoStudent(
            f"9{s.student_id[1:]}", s.sso_id, s.email, s.first_name, s.last_name
        )
        for s in new
    ]
