"""Schools and communities: creating them, finding them and changing settings."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit
from backend.errors import Conflict, InvalidValue, NotFound
from backend.models import ELIGIBILITY_VALUES, Community, School

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EDITABLE_SETTINGS = (
    "name",
    "hidden",
    "eligibility",
    "provider_term",
    "remove_guard_percent",
    "change_guard_percent",
)


def check_slug(slug: str) -> str:
    """Return ``slug`` if it is lower-case letters, digits and hyphens."""
    if not SLUG_RE.match(slug):
        raise InvalidValue(
            f"invalid slug {slug!r}: use 1 to 63 lower-case letters, digits and "
            "hyphens, starting with a letter or digit"
        )
    return slug


def get_school(session: Session, slug: str) -> School:
    school = session.scalars(select(School).where(School.slug == slug)).first()
    if school is None:
        raise NotFound(
            f"school {slug!r} not found; list schools with 'penji-tui school list'"
        )
    return school


def get_community(session: Session, slug: str) -> Community:
    community = session.scalars(select(Community).where(Community.slug == slug)).first()
    if community is None:
        raise NotFound(
            f"community {slug!r} not found; list them with 'penji-tui community list'"
        )
    return community


def add_school(session: Session, slug: str, name: str) -> School:
    """Create a school; its slug must be new."""
    check_slug(slug)
    if session.scalars(select(School).where(School.slug == slug)).first():
        raise Conflict(f"school {slug!r} already exists")
    if not name.strip():
        raise InvalidValue("a school needs a name")
    school = School(slug=slug, name=name.strip())
    session.add(school)
    session.flush()
    audit.record(session, "school.add", school_id=school.id, slug=slug, name=name)
    return school


def add_community(
    session: Session, school_slug: str, slug: str, name: str
) -> Community:
    """Create a community in a school, with every integration off."""
    from backend.services.integrations import ensure_settings

    school = get_school(session, school_slug)
    check_slug(slug)
    if session.scalars(select(Community).where(Community.slug == slug)).first():
        raise Conflict(f"community {slug!r} already exists; community slugs are global")
    if not name.strip():
        raise InvalidValue("a community needs a name")
    community = Community(school_id=school.id, slug=slug, name=name.strip())
    session.add(community)
    session.flush()
    ensure_settings(session, community)
    audit.record(session, "community.add", community=community, slug=slug, name=name)
    return community


def list_schools(session: Session, search: str = "") -> list[School]:
    """Return schools whose slug or name contains ``search``, by name."""
    query = select(School).order_by(School.name)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(School.slug.ilike(pattern) | School.name.ilike(pattern))
    return list(session.scalars(query))


def update_community(
    session: Session, community: Community, **changes: Any
) -> dict[str, Any]:
    """Change community settings and return the old value of each changed one."""
    old: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE_SETTINGS:
            raise InvalidValue(
                f"unknown community setting {name!r}; use one of: "
                + ", ".join(EDITABLE_SETTINGS)
            )
        value = _check_setting(name, value)
        if getattr(community, name) != value:
            old[name] = getattr(community, name)
            setattr(community, name, value)
    if old:
        audit.record(
            session,
            "community.update",
            community=community,
            old=old,
            new={name: getattr(community, name) for name in old},
        )
    return old


def _check_setting(name: str, value: Any) -> Any:
    if name == "eligibility" and value not in ELIGIBILITY_VALUES:
        allowed = ", ".join(ELIGIBILITY_VALUES)
        raise InvalidValue(f"invalid eligibility {value!r}; use one of: {allowed}")
    if name.endswith("_percent"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidValue(f"{name} must be a number, not {value!r}") from None
        if not 0 <= number <= 100:
            raise InvalidValue(f"{name} must be from 0 to 100, not {number}")
        return number
    if name in ("name", "provider_term"):
        if not str(value).strip():
            raise InvalidValue(f"{name} cannot be empty")
        return str(value).strip()
    if name == "hidden":
        return bool(value)
    return value
