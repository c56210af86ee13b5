"""Changes the console makes to a community, addressed by slug.

Each function runs inside the caller's transaction and writes its audit event
through the service it calls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.services import integrations, schools


def replaced_course_codes(session: Session, community_slug: str) -> list[str]:
    """Return the custom course codes that switching Courses on would replace."""
    community = schools.get_community(session, community_slug)
    return [
        course.course_code
        for course in integrations.courses_replaced_on_enable(session, community)
    ]


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
