"""Backend jobs of the SSO screen, run in thread workers; they touch no widgets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from backend.errors import PenjiError


@dataclass(frozen=True)
class SsoPage:
    """The content of the SSO screen, as plain lines loaded in one transaction."""

    set_up: bool
    state: list[str]
    idp: list[str]
    links: list[tuple[str, str]]


def load_page(session: Session, slug: str) -> SsoPage:
    from backend.services.schools import get_school
    from backend.sso import service
    from backend.sso.links import ensure_links, school_links
    from backend.sso.report import config_lines, idp_lines
    from backend.sso.saml import sp_acs_url, sp_entity_id

    school = get_school(session, slug)
    config = service.get_config(session, school)
    if config is None:
        return SsoPage(False, ["SSO is not set up. Press s to set it up."], [], [])
    ensure_links(session, school)
    state = config_lines(
        config, sp_entity_id(config.base_url, slug), sp_acs_url(config.base_url, slug)
    )
    preview = service.idp_preview(config)
    idp = idp_lines(preview) if preview else ["No IdP metadata yet. Press i."]
    return SsoPage(True, state, idp, school_links(session, slug))


def store_idp(session: Session, slug: str, text: str) -> list[str]:
    """Store IdP metadata given as XML, an HTTPS URL or a file path."""
    from backend.sso import service
    from backend.sso.metadata import fetch_metadata
    from backend.sso.report import idp_lines

    if text.startswith("<"):
        data, source = text.encode(), "pasted"
    elif text.lower().startswith(("https://", "http://")):
        data, source = fetch_metadata(text), f"url {text}"
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise PenjiError(f"file {path} not found; paste the XML, a path or a URL")
        data, source = path.read_bytes(), f"file {path}"
    return idp_lines(service.set_idp_metadata(session, slug, data, source))


def change_setting(session: Session, slug: str, line: str) -> str:
    from backend.errors import InvalidValue
    from backend.sso import service

    name, sep, value = line.partition("=")
    if not sep or not name.strip():
        raise InvalidValue(f"invalid setting {line!r}; write NAME=VALUE")
    old = service.update_settings(session, slug, **{name.strip(): value.strip()})
    return f"{name.strip()} changed" if old else f"{name.strip()} unchanged"


def land(session: Session, slug: str, line: str) -> list[str]:
    from backend.sso.links import school_links, where_will_user_land

    words = line.split()
    target = words[0] if words else "school"
    email = next((w for w in words[1:] if "@" in w), None)
    signed_in = "signed-in" in words[1:]
    links = dict(school_links(session, slug))
    if target not in links:
        raise PenjiError(
            f"no share link for {target!r}; use school or one of: "
            + ", ".join(name for name in links if name != "school")
        )
    landing = where_will_user_land(session, links[target], email, signed_in)
    user_text = email or "a new user"
    state = "signed in" if signed_in else "signed out"
    return [
        f"{user_text}, {state}, following the {target} link:",
        f"sign-in: {landing.sign_in or 'none, already signed in'}",
        f"outcome: {landing.outcome} {landing.community_slug or ''}".rstrip(),
        f"why: {landing.reason}",
    ]
