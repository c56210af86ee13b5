"""Reading the audit log, filtered by school, community, user and kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from backend.models import AuditEvent, Community, School

AUDIT_LIMIT = 1000


@dataclass(frozen=True)
class AuditRow:
    """One audit event with its school and community slugs."""

    id: int
    at: datetime
    os_user: str
    ssh_client: str | None
    school_slug: str | None
    community_slug: str | None
    action: str
    kind: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditFilter:
    """Conditions on audit events; an empty field matches every event."""

    school_slug: str = ""
    community_slug: str = ""
    os_user: str = ""
    kind: str = ""
    action: str = ""


def search_audit(
    session: Session, where: AuditFilter, limit: int = AUDIT_LIMIT
) -> list[AuditRow]:
    """Return the newest events matching ``where``, newest first, at most ``limit``.

    ``action`` matches a prefix, so ``import`` finds every import event.
    """
    school = aliased(School)
    community = aliased(Community)
    query = (
        select(AuditEvent, school.slug, community.slug)
        .outerjoin(school, school.id == AuditEvent.school_id)
        .outerjoin(community, community.id == AuditEvent.community_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if where.school_slug:
        query = query.where(school.slug == where.school_slug)
    if where.community_slug:
        query = query.where(community.slug == where.community_slug)
    if where.os_user:
        query = query.where(AuditEvent.os_user == where.os_user)
    if where.kind:
        query = query.where(AuditEvent.kind == where.kind)
    if where.action:
        query = query.where(AuditEvent.action.startswith(where.action))
    return [
        AuditRow(
            id=event.id,
            at=event.at,
            os_user=event.os_user,
            ssh_client=event.ssh_client,
            school_slug=school_slug,
            community_slug=community_slug,
            action=event.action,
            kind=event.kind,
            detail=dict(event.detail or {}),
        )
        for event, school_slug, community_slug in session.execute(query)
    ]


def audit_users(session: Session) -> list[str]:
    """Return every OS user that appears in the audit log, sorted."""
    return list(
        session.scalars(
            select(AuditEvent.os_user).distinct().order_by(AuditEvent.os_user)
        )
    )
