"""Switching integrations on and off per community, and their options."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import audit
from backend.errors import InvalidValue
from backend.models import (
    INTEGRATION_KINDS,
    Community,
    Course,
    IntegrationSetting,
    utcnow,
)

# Options each integration accepts, with their defaults. Other integrations may
# add theirs; unknown option names are rejected so that typos do not pass.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "students": {},
    "courses": {},
    "course_enrollment": {"lock_to_enrolled": False},
    "student_metadata": {"keep_fields": []},
    "course_grades": {},
    "data_exports": {"time_zone": "UTC"},
    "canvas": {
        "placement": "both",
        "course_default": "enabled",
        "open_in": "canvas",
        "privacy_level": "public",
        "environment": "production",
        "title": "Penji",
        "base_url_production": "https://cloud.penjiapp.com",
        "base_url_beta": "https://cloud.penjiapp.com",
        "base_url_test": "https://cloud.penjiapp.com",
        "client_id": "",
        "deployment_ids": [],
    },
    # Card readers: the card layout (backend.cards.layout.CardLayout fields),
    # sample swipes tried whenever the layout is saved, the window in which a
    # second swipe of the same card is ignored, and how long a check-in stays
    # open before a swipe starts a new visit instead of checking out.
    "card_readers": {
        "layout": {},
        "samples": [],
        "repeat_seconds": 5,
        "visit_hours": 12,
    },
}


def check_kind(kind: str) -> str:
    if kind not in INTEGRATION_KINDS:
        raise InvalidValue(
            f"unknown integration {kind!r}; use one of: {', '.join(INTEGRATION_KINDS)}"
        )
    return kind


def ensure_settings(session: Session, community: Community) -> list[IntegrationSetting]:
    """Create the missing integration rows of ``community``, all off, and return all."""
    existing = {
        s.kind: s
        for s in session.scalars(
            select(IntegrationSetting).where(
                IntegrationSetting.community_id == community.id
            )
        )
    }
    for kind in INTEGRATION_KINDS:
        if kind not in existing:
            setting = IntegrationSetting(
                community_id=community.id,
                kind=kind,
                enabled=False,
                options=copy.deepcopy(DEFAULT_OPTIONS[kind]),
            )
            session.add(setting)
            existing[kind] = setting
    session.flush()
    return [existing[kind] for kind in INTEGRATION_KINDS]


def get_setting(
    session: Session, community: Community, kind: str
) -> IntegrationSetting:
    check_kind(kind)
    setting = session.scalars(
        select(IntegrationSetting).where(
            IntegrationSetting.community_id == community.id,
            IntegrationSetting.kind == kind,
        )
    ).first()
    if setting is None:
        setting = {s.kind: s for s in ensure_settings(session, community)}[kind]
    return setting


def is_enabled(session: Session, community: Community, kind: str) -> bool:
    return get_setting(session, community, kind).enabled


def courses_replaced_on_enable(session: Session, community: Community) -> list[Course]:
    """Return the custom courses that switching Courses on would replace.

    Custom courses are replaced only the first time the integration is switched
    on; afterwards staff may add custom courses on top of the import.
    """
    setting = get_setting(session, community, "courses")
    if setting.enabled or setting.options.get("custom_courses_replaced_at"):
        return []
    return list(
        session.scalars(
            select(Course)
            .where(
                Course.community_id == community.id,
                Course.source == "custom",
                Course.active.is_(True),
            )
            .order_by(Course.course_code)
        )
    )


def set_enabled(
    session: Session, community: Community, kind: str, enabled: bool
) -> IntegrationSetting:
    """Switch one integration of one community, leaving other communities alone.

    Switching Courses on for the first time makes the custom courses inactive,
    so that the IT import replaces them. The audit event names them.
    """
    setting = get_setting(session, community, kind)
    if setting.enabled == enabled:
        return setting
    actor = audit.current_actor()
    replaced: list[str] = []
    if kind == "courses" and enabled:
        courses = courses_replaced_on_enable(session, community)
        replaced = [c.course_code for c in courses]
        if courses:
            session.execute(
                update(Course)
                .where(Course.id.in_([c.id for c in courses]))
                .values(active=False, updated_at=utcnow())
            )
        options = dict(setting.options)
        options["custom_courses_replaced_at"] = utcnow().isoformat()
        setting.options = options

    setting.enabled = enabled
    setting.changed_by = actor.os_user
    setting.changed_at = utcnow()
    detail: dict[str, Any] = {"enabled": enabled}
    if replaced:
        detail["replaced_custom_courses"] = replaced
    audit.record(
        session,
        "integration.on" if enabled else "integration.off",
        community=community,
        kind=kind,
        actor=actor,
        **detail,
    )
    return setting


def set_options(
    session: Session, community: Community, kind: str, **options: Any
) -> IntegrationSetting:
    """Change options of one integration; each must be one the integration accepts."""
    setting = get_setting(session, community, kind)
    allowed = DEFAULT_OPTIONS[kind]
    new = dict(setting.options)
    options = dict(options)
    for name, value in options.items():
        if name not in allowed:
            names = ", ".join(allowed) or "none"
            raise InvalidValue(
                f"unknown option {name!r} for {kind}; options are: {names}"
            )
        if isinstance(allowed[name], bool) and not isinstance(value, bool):
            raise InvalidValue(f"option {name} of {kind} must be true or false")
        if isinstance(allowed[name], list) and not isinstance(value, list):
            raise InvalidValue(f"option {name} of {kind} must be a list")
        if isinstance(allowed[name], dict) and not isinstance(value, dict):
            raise InvalidValue(f"option {name} of {kind} must be a mapping")
        if kind == "canvas":
            from backend.services.canvas import check_option

            value = check_option(name, value)
        if kind == "card_readers":
            from backend.cards.service import check_option as check_card_option

            value = check_card_option(name, value)
        if kind == "student_metadata" and name == "keep_fields":
            from backend.services.metadata import check_keep_fields

            value = check_keep_fields(value)
        new[name] = options[name] = value
    old = {name: setting.options.get(name) for name in options}
    setting.options = new
    setting.changed_by = audit.current_actor().os_user
    setting.changed_at = utcnow()
    audit.record(
        session,
        "integration.options",
        community=community,
        kind=kind,
        old=old,
        new=options,
    )
    return setting
