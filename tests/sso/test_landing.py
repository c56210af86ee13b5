"""Share links and the landing rules, as a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models import Community, Membership, Student, User
from backend.services.schools import get_community, get_school
from backend.sso import links, service
from tests.helpers import make_community

START = datetime(2025, 1, 1, tzinfo=UTC)


def build_school(factory: sessionmaker[Session], keys_dir: Path) -> None:
    """Communities a (oldest), b, hidden, listed (Use List), welcome (default)."""
    for slug in ("b", "a", "hidden", "listed", "welcome"):
        make_community(factory, slug, "uni", integrations_on=())
    with transaction(factory) as session:
        order = {"a": 0, "b": 1, "hidden": 2, "listed": 3, "welcome": 4}
        for slug, days in order.items():
            get_community(session, slug).created_at = START + timedelta(days=days)
        get_community(session, "hidden").hidden = True
        listed = get_community(session, "listed")
        listed.eligibility = "use_list"
        get_community(session, "welcome").onboarding_default = True
        school = get_school(session, "uni")
        session.add(
            Student(
                community_id=listed.id,
                source="sftp",
                key="onlist@uni.edu",
                email="onlist@uni.edu",
                sso_id="onlist",
            )
        )
        add_user(session, school.id, "both@uni.edu", ["b", "a"], last="b")
        add_user(session, school.id, "lastb@uni.edu", ["a", "b"], last="b")
        add_user(session, school.id, "none@uni.edu", [], last=None)
        add_user(session, school.id, "old@uni.edu", ["a"], last="a", password=True)
        add_user(session, school.id, "onlist@uni.edu", ["listed"], last="listed")
        add_user(session, school.id, "offlist@uni.edu", ["listed"], last="listed")
        add_user(session, school.id, "inhidden@uni.edu", ["hidden"], last="hidden")
        service.setup_sso(session, "uni", keys_dir=keys_dir)


def add_user(
    session: Session,
    school_id: int,
    email: str,
    joined: list[str],
    last: str | None,
    password: bool = False,
) -> None:
    user = User(
        school_id=school_id,
        email=email,
        sso_id=email.split("@")[0],
        has_password=password,
        last_active_community_id=get_community(session, last).id if last else None,
    )
    session.add(user)
    session.flush()
    for number, slug in enumerate(joined):
        community = get_community(session, slug)
        session.add(
            Membership(
                user_id=user.id,
                community_id=community.id,
                joined_at=START + timedelta(days=30 - number),
            )
        )


@pytest.fixture
def school(
    sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> sessionmaker[Session]:
    build_school(sqlite_factory, tmp_path / "keys")
    return sqlite_factory


def link_for(session: Session, target: str) -> str:
    return dict(links.school_links(session, "uni"))[target]


# link target, user email (None: new user), signed in, outcome, community, sign-in
CASES = [
    ("school", "lastb@uni.edu", True, "community", "b", None),
    ("school", "both@uni.edu", False, "community", "a", "sso"),
    ("school", "lastb@uni.edu", False, "community", "a", "sso"),
    ("school", "none@uni.edu", False, "community", "welcome", "sso"),
    ("school", None, False, "community", "welcome", "sso"),
    ("school", "old@uni.edu", False, "community", "a", "sso"),
    ("school", "old@uni.edu", True, "community", "a", None),
    ("school", "inhidden@uni.edu", True, "not_eligible", "hidden", None),
    ("school", "onlist@uni.edu", True, "community", "listed", None),
    ("school", "offlist@uni.edu", True, "not_eligible", "listed", None),
    ("b", "both@uni.edu", True, "community", "b", None),
    ("b", None, False, "community", "b", "sso"),
    ("hidden", "both@uni.edu", True, "not_eligible", "hidden", None),
    ("listed", "onlist@uni.edu", False, "community", "listed", "sso"),
    ("listed", "offlist@uni.edu", False, "not_eligible", "listed", "sso"),
    ("listed", None, False, "not_eligible", "listed", "sso"),
]


@pytest.mark.parametrize(
    ("target", "email", "signed_in", "outcome", "community", "sign_in"), CASES
)
def test_landing_rules(
    school: sessionmaker[Session],
    target: str,
    email: str | None,
    signed_in: bool,
    outcome: str,
    community: str,
    sign_in: str | None,
) -> None:
    with school() as session:
        landing = links.where_will_user_land(
            session, link_for(session, target), email, signed_in
        )
    assert landing.outcome == outcome, landing.reason
    assert landing.community_slug == community
    assert landing.sign_in == sign_in


def test_password_user_told_sso(school: sessionmaker[Session]) -> None:
    with school() as session:
        landing = links.where_will_user_land(
            session, link_for(session, "school"), "old@uni.edu", False
        )
    assert "password before SSO" in landing.reason


def test_no_default_offers_choice(sqlite_factory: sessionmaker[Session]) -> None:
    make_community(sqlite_factory, "a", "uni", integrations_on=())
    with transaction(sqlite_factory) as session:
        links.ensure_links(session, get_school(session, "uni"))
        landing = links.where_will_user_land(
            session, link_for(session, "school"), None, False
        )
    assert landing.outcome == "choose_community"
    assert landing.sign_in == "password"


def test_links_stable(school: sessionmaker[Session], tmp_path: Path) -> None:
    with transaction(school) as session:
        before = links.school_links(session, "uni")
        links.ensure_links(session, get_school(session, "uni"))
        service.setup_sso(session, "uni", keys_dir=tmp_path / "keys")
        after = links.school_links(session, "uni")
    assert before == after


def test_rotated_link_stops_working(school: sessionmaker[Session]) -> None:
    with transaction(school) as session:
        old = link_for(session, "b")
        new = links.link_url(links.rotate_link(session, "uni", "b"))
        stale = links.where_will_user_land(session, old, None, False)
        fresh = links.where_will_user_land(session, new, None, False)
    assert new != old
    assert stale.outcome == "invalid_link"
    assert "rotated" in stale.reason
    assert fresh.community_slug == "b"


def test_every_community_has_link(school: sessionmaker[Session]) -> None:
    with school() as session:
        targets = [name for name, _url in links.school_links(session, "uni")]
        communities = session.query(Community).count()
    assert targets[0] == "school"
    assert len(targets) == communities + 1


def test_email_domain_routes_to_school(school: sessionmaker[Session]) -> None:
    with transaction(school) as session:
        service.update_settings(session, "uni", email_domains="uni.edu, @Uni.org")
        found = service.school_for_email(session, "jdoe@UNI.ORG")
        missing = service.school_for_email(session, "jdoe@other.edu")
    assert found is not None
    assert found.slug == "uni"
    assert missing is None


def test_email_domain_claimed_once(
    school: sessionmaker[Session], tmp_path: Path
) -> None:
    from backend.errors import Conflict
    from backend.services.schools import add_school

    with transaction(school) as session:
        service.update_settings(session, "uni", email_domains="uni.edu")
        add_school(session, "other", "Other")
        service.setup_sso(session, "other", keys_dir=tmp_path / "keys")
    with transaction(school) as session, pytest.raises(Conflict, match=r"uni\.edu"):
        service.update_settings(session, "other", email_domains="uni.edu")
