"""Checks and normal forms for single cell values.

Each check takes a stripped, non-empty cell and returns its normal form, or raises
``ValueError`` with a message that states what is wrong and how to fix it.
"""

from __future__ import annotations

import re

EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")
SCIENTIFIC_RE = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
DECIMAL_ZERO_RE = re.compile(r"^\d+\.0+$")
COURSE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.&/_]*(?:-[^\s|*,]+)?$")
CERTIFICATION_RE = re.compile(r"^(?:\*|[A-Za-z0-9][A-Za-z0-9.&/_-]*\*?)$")
GRADE_POINTS_RE = re.compile(r"^\d(?:\.\d{1,3})?$")


def check_email(value: str) -> str:
    """Lower-case an email address after checking its shape."""
    if not EMAIL_RE.match(value):
        raise ValueError(f"invalid email address {value!r}")
    return value.lower()


def check_identifier(value: str) -> str:
    """Reject IDs that a spreadsheet turned into numbers; keep leading zeros."""
    if value.isdigit():
        return value
    if SCIENTIFIC_RE.match(value):
        raise ValueError(
            f"ID {value!r} was turned into scientific notation by a spreadsheet and "
            "its digits are lost; format the column as Text and export it again"
        )
    if DECIMAL_ZERO_RE.match(value):
        raise ValueError(
            f"ID {value!r} was written as a decimal number by a spreadsheet; "
            "format the column as Text and export it again"
        )
    return value


def check_student_ref(value: str) -> str:
    """Check a student reference: an email address or a student ID."""
    if "@" in value:
        return check_email(value)
    return check_identifier(value)


def check_course_code(value: str) -> str:
    """Check a course code such as ``CHEM1301`` or ``BIOL110-Smith``."""
    if COURSE_CODE_RE.match(value):
        return value
    if " " in value:
        joined = value.replace(" ", "", 1) if value.count(" ") == 1 else None
        hint = f" (write it as {joined!r})" if joined else ""
        raise ValueError(
            f"invalid course code {value!r}: a code is the subject abbreviation and "
            f"course number with no spaces{hint}"
        )
    raise ValueError(
        f"invalid course code {value!r}: use letters and digits, then an optional "
        "'-Suffix' for a professor or section, with no '|' or '*'"
    )


def split_certifications(value: str) -> list[str]:
    """Split a provider's course list on ``|``, dropping empty parts."""
    return [part.strip() for part in value.split("|") if part.strip()]


def check_certifications(value: str) -> str:
    """Check a ``|``-separated list of course codes and ``PREFIX*`` wildcards.

    A trailing ``|``, as some exported files have, is dropped.
    """
    parts = split_certifications(value)
    if not parts:
        raise ValueError("no course codes in the list; write codes separated by '|'")
    for part in parts:
        if not CERTIFICATION_RE.match(part):
            raise ValueError(
                f"invalid certification {part!r}: write a course code, a code prefix "
                "ending in '*' (such as BIOL110*), or '*' alone for every course"
            )
    return "|".join(parts)


def check_grade(value: str) -> str:
    """Check a final grade: a letter grade or a short code such as P, NP or W."""
    if len(value) > 8:
        raise ValueError(f"grade {value!r} is longer than 8 characters")
    return value.upper()


def check_grade_points(value: str) -> str:
    """Check grade points on a 0 to 5 scale, such as ``3.7``."""
    if not GRADE_POINTS_RE.match(value) or float(value) > 5:
        raise ValueError(f"grade points {value!r} are not a number from 0 to 5")
    return value
