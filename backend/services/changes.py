"""Changes the console makes to a community, addressed by slug.

Each function runs inside the caller's transaction and writes its audit event
through the service it calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Course
from backend.services import integrations, schools


@dataclass(frozen=True)
class CoursesSwitchOn:
    """Effect of switching Courses on for a community's custom courses."""

    replaced_codes: list[str]
    # ISO time Courses was first switched on, when it replaced custom courses;
    # None if it never was, so the next switch-on replaces them.
    replaced_at: str | None
    active_custom: int


def courses_switch_on(session: Session, community_slug: str) -> CoursesSwitchOn:
    """Return which custom courses switching Courses on replaces, and which stay."""
    community = schools.get_community(session, community_slug)
    codes = [
        course.course_code
        for course in integrations.courses_replaced_on_enable(session, community)
    ]
    setting = integrations.get_setting(session, community, "courses")
    replaced_at = setting.options.get("custom_courses_replaced_at")
    active_custom = session.scalar(
        select(func.count())
        .select_from(Course)
        .where(
            Course.community_id == community.id,
            Course.source == "custom",
            Course.active.is_(True),
        )
    )
    return CoursesSwitchOn(
        codes, str(replaced_at) if replaced_at else None, active_custom or 0
    )


def set_integration(
    session: Session, community_slug: str, kind: str, enabled: bool
) -> bool:
    """Switch one integration of one community and return its new state."""
    community = schools.get_community(session, community_slug)
    return integrations.set_enabled(session, community, kind, enabled).enabled


def set_integration_options(
    session: Session, community_slug: str, kind: str, options: dict[str, Any]
) -> dict[str, Any]:
    """Change options of one integration and return all its options."""
    community = schools.get_community(session, community_slug)
    setting = integrations.set_options(session, community, kind, **options)
    return dict(setting.options)


def update_settings(
    session: Session, community_slug: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change community settings and return the old value of each changed one."""
    community = schools.get_community(session, community_slug)
    return schools.update_community(session, community, **changes)
