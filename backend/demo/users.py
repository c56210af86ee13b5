"""Demo users, their community joins and last activity, for the landing rules.

About a tenth of the demo students become users: most joined the Learning
Commons, some the Writing Center, some both, a few none. Some used a password
before SSO. The Learning Commons is the onboarding default and the Writing
Center admits its roster only (Use List), so every landing outcome occurs.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from backend.demo.generate import DemoStudent
from backend.models import Community, Membership, School, User
from backend.sso.links import ensure_links

START = datetime(2026, 8, 17, tzinfo=UTC)
USER_SHARE = 10


def add_users(
    session: Session,
    rng: random.Random,
    school: School,
    students: list[DemoStudent],
) -> int:
    """Add users with joins and last activity; return how many were added."""
    learning, writing = school.communities[:2]
    learning.onboarding_default = True
    writing.eligibility = "use_list"

    added = 0
    for student in students[::USER_SHARE]:
        joined = _pick_joins(rng, learning, writing)
        last = rng.choice(joined) if joined else None
        user = User(
            school_id=school.id,
            email=student.email,
            sso_id=student.sso_id,
            first_name=student.first_name,
            last_name=student.last_name,
            has_password=rng.random() < 0.25,
            created_at=START + timedelta(days=rng.randrange(60)),
            last_active_community_id=last.id if last else None,
            last_active_at=START + timedelta(days=60 + rng.randrange(40))
            if last
            else None,
        )
        session.add(user)
        session.flush()
        for community in joined:
            session.add(
                Membership(
                    user_id=user.id,
                    community_id=community.id,
                    joined_at=user.created_at + timedelta(days=rng.randrange(30)),
                )
            )
        added += 1
    ensure_links(session, school)
    return added


def _pick_joins(
    rng: random.Random, learning: Community, writing: Community
) -> list[Community]:
    roll = rng.random()
    if roll < 0.55:
        return [learning]
    if roll < 0.75:
        return [writing]
    if roll < 0.92:
        return [writing, learning]
    return []
