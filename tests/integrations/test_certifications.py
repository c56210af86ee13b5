"""Certification wildcards, course coverage and stale certifications."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.formats.values import check_certifications
from backend.services.certifications import (
    community_coverage,
    resolve_certifications,
    suggest_codes,
)
from backend.services.schools import get_community
from tests.helpers import csv_bytes, make_community, run_import

CODES = [
    "BIOL110",
    "BIOL110-Lim",
    "BIOL110-Smith",
    "BIOL1100",
    "BIOL210",
    "CHEM1301",
    "CHEM1302",
    "MATH1301",
]


@pytest.mark.parametrize(
    ("courses", "expected"),
    [
        ("*", CODES),
        ("*|", CODES),
        ("BIOL110*", ["BIOL110", "BIOL110-Lim", "BIOL110-Smith", "BIOL1100"]),
        ("BIOL110-*", ["BIOL110-Lim", "BIOL110-Smith"]),
        ("BIOL110", ["BIOL110"]),
        ("BIOL110-Smith", ["BIOL110-Smith"]),
        ("CHEM*|MATH1301", ["CHEM1301", "CHEM1302", "MATH1301"]),
        ("CHEM*|MATH1301|", ["CHEM1301", "CHEM1302", "MATH1301"]),
        ("CHEM1301|CHEM*", ["CHEM1301", "CHEM1302"]),
        ("chem*", []),
        ("PHYS*", []),
        ("MATH130", []),
        ("MATH1301-Lim", []),
    ],
)
def test_wildcard_resolution(courses: str, expected: list[str]) -> None:
    assert resolve_certifications(check_certifications(courses), CODES) == expected


def test_suggestions_prefer_extended_codes() -> None:
    codes = ["MATH1301-Chen", "MATH1301-Lim", "MATH2401"]
    assert suggest_codes("MATH1301", codes)[:2] == ("MATH1301-Chen", "MATH1301-Lim")


def test_suggestions_for_renamed_code() -> None:
    assert suggest_codes("CHEM130", ["CHEM1300", "BIOL110"]) == ("CHEM1300",)
    assert suggest_codes("CHM1301", ["CHEM1301", "BIOL110"]) == ("CHEM1301",)


def test_suggestions_empty_when_nothing_close() -> None:
    assert suggest_codes("ZOOL999", ["CHEM1301", "BIOL110"]) == ()


PROVIDERS = (
    "Email,First Name,Last Name,Courses",
    [
        "ana@uni.edu,Ana,Ito,CHEM*|MATH1301|",
        "ben@uni.edu,Ben,Lee,BIOL110*",
        "cy@uni.edu,Cy,Ruiz,MATH1301",
        "dee@uni.edu,Dee,Kim,*",
    ],
)


def courses_file(codes: list[str]) -> bytes:
    return csv_bytes("Course Code,Course Name", [f"{c},{c} name" for c in codes])


def test_coverage_both_ways(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    run_import(
        factory, "courses", courses_file(["BIOL110-Lim", "CHEM1301", "MATH1301"])
    )
    run_import(factory, "providers", csv_bytes(*PROVIDERS), source="custom")
    with factory() as session:
        coverage = community_coverage(session, get_community(session, "lc"))
    assert coverage.by_course["MATH1301"] == [
        "ana@uni.edu",
        "cy@uni.edu",
        "dee@uni.edu",
    ]
    assert coverage.by_course["BIOL110-Lim"] == ["ben@uni.edu", "dee@uni.edu"]
    assert coverage.by_provider["ana@uni.edu"] == ["CHEM1301", "MATH1301"]
    assert coverage.by_provider["dee@uni.edu"] == [
        "BIOL110-Lim",
        "CHEM1301",
        "MATH1301",
    ]
    assert coverage.stale == []
    assert coverage.uncovered_courses == []


def test_stale_after_course_import(factory: sessionmaker[Session]) -> None:
    """Turning Courses on renames codes; old certifications show as stale."""
    make_community(factory, integrations_on=("students",))
    run_import(
        factory,
        "courses",
        courses_file(["BIOL110", "CHEM1301", "MATH1301"]),
        source="custom",
    )
    run_import(factory, "providers", csv_bytes(*PROVIDERS), source="custom")
    from backend.db import transaction
    from backend.services import integrations

    with transaction(factory) as session:
        community = get_community(session, "lc")
        integrations.set_enabled(session, community, "courses", True)
    run_import(
        factory,
        "courses",
        courses_file(["BIOL110-Lim", "CHEM1301", "MATH1301-Chen", "MATH1301-Lim"]),
    )

    with factory() as session:
        coverage = community_coverage(session, get_community(session, "lc"))
    stale = {(s.provider_email, s.pattern): s.suggestions for s in coverage.stale}
    assert set(stale) == {("ana@uni.edu", "MATH1301"), ("cy@uni.edu", "MATH1301")}
    assert stale["cy@uni.edu", "MATH1301"] == ("MATH1301-Chen", "MATH1301-Lim")
    assert coverage.by_provider["ben@uni.edu"] == ["BIOL110-Lim"]
    assert coverage.by_provider["cy@uni.edu"] == []
    assert coverage.by_course["MATH1301-Lim"] == ["dee@uni.edu"]
