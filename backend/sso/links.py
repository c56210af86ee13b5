"""Share links ("Link to School", "Link to Community") and where a user lands.

Landing rules, as Penji applies them to share links:

- A school link takes a signed-in user to the community they were last active
  in. A signed-out user goes, after signing in, to their oldest joined
  community: the earliest created of the communities they joined. A user who
  joined none goes to the school's onboarding default community.
- A community link takes the user to that community.
- A hidden community, or a ``use_list`` community that does not list the
  user, gives the "not eligible" outcome.
- A signed-out user of a school with SSO signs in through SSO first, including
  a user who had a password before SSO was set up.

"Use List" means the community's active roster: a user is listed when an
active student row (custom or IT) has their email or SSO ID, or an active
provider row has their email or SSO ID.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend import audit
from backend.errors import NotFound
from backend.models import (
    Community,
    Membership,
    Provider,
    School,
    ShareLink,
    SsoConfig,
    Student,
    User,
    utcnow,
)
from backend.services.schools import get_community, get_school

LINK_BASE_URL = "https://web.penjiapp.com"
TOKEN_BYTES = 12


@dataclass(frozen=True)
class Landing:
    """The destination of a share link for one user, with the reason.

    ``outcome`` is ``community`` (land in ``community_slug``), ``not_eligible``,
    ``choose_community`` (no joined community and no onboarding default) or
    ``invalid_link``. ``sign_in`` is ``sso``, ``password`` or ``None`` when the
    user is already signed in.
    """

    outcome: str
    community_slug: str | None
    sign_in: str | None
    reason: str


def link_url(link: ShareLink) -> str:
    kind = "c" if link.community_id else "s"
    return f"{LINK_BASE_URL}/{kind}/{link.token}"


def _active_link(
    session: Session, school: School, community: Community | None
) -> ShareLink | None:
    query = select(ShareLink).where(
        ShareLink.school_id == school.id, ShareLink.revoked_at.is_(None)
    )
    if community is None:
        query = query.where(ShareLink.community_id.is_(None))
    else:
        query = query.where(ShareLink.community_id == community.id)
    return session.scalars(query).first()


def _new_link(
    session: Session, school: School, community: Community | None
) -> ShareLink:
    link = ShareLink(
        school_id=school.id,
        community_id=community.id if community else None,
        token=secrets.token_urlsafe(TOKEN_BYTES),
    )
    session.add(link)
    session.flush()
    return link


def ensure_links(session: Session, school: School) -> list[ShareLink]:
    """Create the school link and each community's link where missing; return all.

    Links are stable: an existing active link is returned as it is.
    """
    links = []
    for community in [None, *school.communities]:
        link = _active_link(session, school, community)
        if link is None:
            link = _new_link(session, school, community)
            audit.record(
                session,
                "link.create",
                community=community,
                school_id=school.id,
                url=link_url(link),
            )
        links.append(link)
    return links


def rotate_link(
    session: Session, school_slug: str, community_slug: str | None = None
) -> ShareLink:
    """Replace a share link with a new one; the old link stops working."""
    school = get_school(session, school_slug)
    community = get_community(session, community_slug) if community_slug else None
    if community is not None and community.school_id != school.id:
        raise NotFound(f"community {community_slug!r} is not in school {school_slug!r}")
    old = _active_link(session, school, community)
    if old is not None:
        old.revoked_at = utcnow()
    link = _new_link(session, school, community)
    audit.record(
        session,
        "link.rotate",
        community=community,
        school_id=school.id,
        old=link_url(old) if old else None,
        new=link_url(link),
    )
    return link


def token_from(text: str) -> str:
    """Return the token of a share link given as a URL or as the bare token."""
    return text.strip().rstrip("/").rpartition("/")[2]


def _listed(session: Session, community: Community, user: User | None) -> bool:
    if user is None:
        return False
    keys = [user.email.lower()]
    if user.sso_id:
        keys.append(user.sso_id)
    for model in (Student, Provider):
        found = session.scalars(
            select(model.id).where(
                model.community_id == community.id,
                model.active.is_(True),
                or_(model.email.in_(keys), model.sso_id.in_(keys)),
            )
        ).first()
        if found is not None:
            return True
    return False


def _eligible(
    session: Session, community: Community, user: User | None, sign_in: str | None
) -> Landing:
    if community.hidden:
        return Landing(
            "not_eligible", community.slug, sign_in, f"{community.slug} is hidden"
        )
    if community.eligibility == "use_list" and not _listed(session, community, user):
        return Landing(
            "not_eligible",
            community.slug,
            sign_in,
            f"{community.slug} admits listed students and providers only, and the "
            "user is not on its roster",
        )
    return Landing("community", community.slug, sign_in, "")


def _joined(session: Session, user: User) -> list[Community]:
    return list(
        session.scalars(
            select(Community)
            .join(Membership, Membership.community_id == Community.id)
            .where(Membership.user_id == user.id)
            .order_by(Community.created_at, Community.id)
        )
    )


def _school_target(
    session: Session, school: School, user: User | None, signed_in: bool
) -> tuple[Community | None, str]:
    if user is not None and signed_in and user.last_active_community_id:
        last = session.get(Community, user.last_active_community_id)
        if last is not None and last.school_id == school.id:
            return last, "last active community"
    joined = (
        [c for c in _joined(session, user) if c.school_id == school.id] if user else []
    )
    if joined:
        return joined[0], "oldest joined community (earliest created)"
    default = session.scalars(
        select(Community).where(
            Community.school_id == school.id, Community.onboarding_default.is_(True)
        )
    ).first()
    if default is not None:
        return default, "joined no community: the school's onboarding default"
    return None, "joined no community, and the school has no onboarding default"


def where_will_user_land(
    session: Session, link_text: str, email: str | None, signed_in: bool
) -> Landing:
    """Apply the landing rules to a share link and a user (None: a new user)."""
    token = token_from(link_text)
    link = session.scalars(select(ShareLink).where(ShareLink.token == token)).first()
    if link is None or link.revoked_at is not None:
        state = "was rotated and no longer works" if link else "is not a share link"
        return Landing("invalid_link", None, None, f"{token!r} {state}")

    school = session.get(School, link.school_id)
    assert school is not None
    user = None
    if email:
        user = session.scalars(
            select(User).where(
                User.school_id == school.id, User.email == email.strip().lower()
            )
        ).first()
    signed_in = signed_in and user is not None
    has_sso = session.scalars(
        select(SsoConfig.id).where(SsoConfig.school_id == school.id)
    ).first()
    if signed_in:
        sign_in = None
    elif has_sso:
        sign_in = "sso"
    else:
        sign_in = "password"
    if sign_in == "sso" and user is not None and user.has_password:
        # The website and app still accept the password; a share link does not.
        prefix = "used a password before SSO, so signs in through SSO first; "
    else:
        prefix = ""

    if link.community_id is not None:
        community = session.get(Community, link.community_id)
        assert community is not None
        landing = _eligible(session, community, user, sign_in)
        return _with_reason(landing, prefix + "community link")

    target, rule = _school_target(session, school, user, signed_in)
    if target is None:
        return Landing("choose_community", None, sign_in, prefix + rule)
    return _with_reason(_eligible(session, target, user, sign_in), prefix + rule)


def _with_reason(landing: Landing, rule: str) -> Landing:
    reason = f"{rule}; {landing.reason}" if landing.reason else rule
    return Landing(landing.outcome, landing.community_slug, landing.sign_in, reason)


def school_links(session: Session, school_slug: str) -> list[tuple[str, str]]:
    """Return (target, URL) of each active share link of a school, school first."""
    school = get_school(session, school_slug)
    rows = [("school", _active_link(session, school, None))]
    rows += [(c.slug, _active_link(session, school, c)) for c in school.communities]
    return [(name, link_url(link)) for name, link in rows if link is not None]


def community_link(session: Session, community_slug: str) -> str:
    """Return a community's "Link to Community", creating the school's links if new."""
    community = get_community(session, community_slug)
    ensure_links(session, community.school)
    link = _active_link(session, community.school, community)
    assert link is not None
    return link_url(link)
