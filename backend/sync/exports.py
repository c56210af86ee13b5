"""The four export files of a community, as CSV bytes.

Each file contains all history from the start through the export day. Times are
ISO 8601 with their UTC offset, in the zone the Data Exports integration names
(option ``time_zone``, UTC by default). Columns are documented in
docs/exports.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidValue
from backend.models import (
    Community,
    DropInCheckIn,
    Membership,
    ProviderSignUp,
    Student,
    TutoringSession,
    User,
)
from backend.services.integrations import get_setting

MAX_CELL_CHARS = 30_000
TRUNCATION_MARKER = " [truncated at 30000 characters]"
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

EXPORT_FILES = (
    "sessions.csv",
    "drop_in_check_ins.csv",
    "tutor_sign_ups.csv",
    "student_sign_ups.csv",
)


def safe_cell(value: object) -> str:
    """Return ``value`` as a cell a spreadsheet shows as text.

    A cell starting with a formula character gets a leading apostrophe, and a
    cell longer than MAX_CELL_CHARS is cut to that length, ending in
    TRUNCATION_MARKER.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
    return text


def export_zone(session: Session, community: Community) -> ZoneInfo:
    """Return the zone the community's export times are written in."""
    name = get_setting(session, community, "data_exports").options.get(
        "time_zone", "UTC"
    )
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"invalid time_zone {name!r} in the data_exports options of "
            f"{community.slug!r}; use an IANA name such as America/Chicago"
        ) from None


def _time(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).isoformat()


def _minutes(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return str(round((end - start).total_seconds() / 60))


def _to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _names(session: Session, community: Community) -> dict[str, tuple[str, str]]:
    users = session.execute(
        select(User.email, User.first_name, User.last_name).where(
            User.school_id == community.school_id
        )
    )
    return {email.lower(): (first or "", last or "") for email, first, last in users}


def sessions_csv(
    session: Session, community: Community, cutoff: datetime, zone: ZoneInfo
) -> bytes:
    names = _names(session, community)
    rows = session.scalars(
        select(TutoringSession)
        .where(
            TutoringSession.community_id == community.id,
            TutoringSession.starts_at < cutoff,
        )
        .order_by(TutoringSession.starts_at, TutoringSession.id)
    )
    header = (
        "session_id",
        "community",
        "session_type",
        "status",
        "course_code",
        "student_email",
        "student_first_name",
        "student_last_name",
        "provider_email",
        "provider_first_name",
        "provider_last_name",
        "location",
        "starts_at",
        "ends_at",
        "duration_minutes",
        "feedback",
        "custom_answers",
        "created_at",
    )

    def lines() -> Iterable[Sequence[object]]:
        for row in rows:
            student = names.get(row.student_email.lower(), ("", ""))
            provider = names.get(row.provider_email.lower(), ("", ""))
            yield (
                row.id,
                community.slug,
                row.session_type,
                row.status,
                row.course_code,
                row.student_email,
                *student,
                row.provider_email,
                *provider,
                row.location,
                _time(row.starts_at, zone),
                _time(row.ends_at, zone),
                _minutes(row.starts_at, row.ends_at),
                row.feedback,
                row.custom_answers,
                _time(row.created_at, zone),
            )

    return _to_csv(header, lines())


def check_ins_csv(
    session: Session, community: Community, cutoff: datetime, zone: ZoneInfo
) -> bytes:
    found = session.execute(
        select(Student.id, Student.student_id).where(
            Student.community_id == community.id
        )
    )
    student_ids = {row_id: student_id for row_id, student_id in found}
    rows = session.scalars(
        select(DropInCheckIn)
        .where(
            DropInCheckIn.community_id == community.id,
            DropInCheckIn.checked_in_at < cutoff,
        )
        .order_by(DropInCheckIn.checked_in_at, DropInCheckIn.id)
    )
    header = (
        "check_in_id",
        "community",
        "identifier",
        "matched",
        "student_id",
        "student_email",
        "first_name",
        "last_name",
        "course_code",
        "method",
        "checked_in_at",
        "checked_out_at",
        "duration_minutes",
    )
    return _to_csv(
        header,
        (
            (
                row.id,
                community.slug,
                row.identifier,
                "yes" if row.student_row_id is not None else "no",
                student_ids.get(row.student_row_id),
                row.student_email,
                row.first_name,
                row.last_name,
                row.course_code,
                row.method,
                _time(row.checked_in_at, zone),
                _time(row.checked_out_at, zone),
                _minutes(row.checked_in_at, row.checked_out_at),
            )
            for row in rows
        ),
    )


def tutor_sign_ups_csv(
    session: Session, community: Community, cutoff: datetime, zone: ZoneInfo
) -> bytes:
    names = _names(session, community)
    rows = session.scalars(
        select(ProviderSignUp)
        .where(
            ProviderSignUp.community_id == community.id,
            ProviderSignUp.starts_at < cutoff,
        )
        .order_by(ProviderSignUp.starts_at, ProviderSignUp.id)
    )
    header = (
        "sign_up_id",
        "community",
        "provider_email",
        "provider_first_name",
        "provider_last_name",
        "session_type",
        "location",
        "starts_at",
        "ends_at",
        "duration_minutes",
        "created_at",
    )
    return _to_csv(
        header,
        (
            (
                row.id,
                community.slug,
                row.provider_email,
                *names.get(row.provider_email.lower(), ("", "")),
                row.session_type,
                row.location,
                _time(row.starts_at, zone),
                _time(row.ends_at, zone),
                _minutes(row.starts_at, row.ends_at),
                _time(row.created_at, zone),
            )
            for row in rows
        ),
    )


def student_sign_ups_csv(
    session: Session, community: Community, cutoff: datetime, zone: ZoneInfo
) -> bytes:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.community_id == community.id,
            Membership.joined_at < cutoff,
            User.role == "student",
        )
        .order_by(Membership.joined_at, Membership.id)
    )
    header = (
        "user_id",
        "community",
        "email",
        "first_name",
        "last_name",
        "sso_id",
        "joined_at",
        "last_active_at",
    )
    return _to_csv(
        header,
        (
            (
                user.id,
                community.slug,
                user.email,
                user.first_name,
                user.last_name,
                user.sso_id,
                _time(membership.joined_at, zone),
                _time(user.last_active_at, zone),
            )
            for membership, user in rows
        ),
    )


BUILDERS = {
    "sessions.csv": sessions_csv,
    "drop_in_check_ins.csv": check_ins_csv,
    "tutor_sign_ups.csv": tutor_sign_ups_csv,
    "student_sign_ups.csv": student_sign_ups_csv,
}


def build_export(
    session: Session, community: Community, name: str, cutoff: datetime
) -> bytes:
    """Build export file ``name`` with every row that starts before ``cutoff``."""
    return BUILDERS[name](session, community, cutoff, export_zone(session, community))
