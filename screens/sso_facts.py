"""The SSO lines of the School screen: SSO state and the share links."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.models import School
from screens.extensions import Fact


def sso_facts(session: Session, school: School) -> list[Fact]:
    """Describe a school's SSO state and list its share links; y copies the first."""
    from backend.sso import service
    from backend.sso.links import ensure_links, school_links

    config = service.get_config(session, school)
    links = school_links(session, school.slug)
    if config is None and not links:
        return [
            Fact("SSO", "not set up (press s)"),
            Fact("Link to School", "created when SSO is set up"),
        ]
    preview = service.idp_preview(config) if config else None
    if config is None:
        state = "not set up (press s)"
    elif preview is None:
        state = "set up, no IdP metadata yet (press s)"
    elif preview.errors:
        state = f"IdP {preview.entity_id}: {preview.errors[0]}"
    elif preview.warnings:
        state = f"IdP {preview.entity_id}: {preview.warnings[0]}"
    else:
        state = f"on, IdP {preview.entity_id}"
    if config is not None:
        ensure_links(session, school)
        links = school_links(session, school.slug)
    facts = [Fact("SSO", state)]
    for target, url in links:
        if target == "school":
            facts.append(Fact("Link to School", url, copy=True))
        else:
            facts.append(Fact(f"Link to {target}", url))
    return facts
