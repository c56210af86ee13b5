"""Demo last activity, pre-SSO passwords and share links, for the landing rules.

The term's activity already made users and their community joins. This step
gives each joined user a last active community, marks about a quarter as
having used a password before SSO, and adds users who joined no community.
The Learning Commons is the onboarding default and the Writing Center admits
its roster only (Use List), so every landing outcome occurs.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.demo.generate import DemoStudent
from backend.models import Membership, School, User
from backend.sso.links import ensure_links

PASSWORD_SHARE = 0.25
UNJOINED_EVERY = 25


def add_landing_data(
    session: Session,
    rng: random.Random,
    school: School,
    students: list[DemoStudent],
) -> int:
    """Set last activity and add unjoined users; return how many users were added."""
    learning, writing = school.communities[:2]
    learning.onboarding_default = True
    writing.eligibility = "use_list"

    joins: dict[int, list[Membership]] = defaultdict(list)
    for membership in session.scalars(select(Membership).order_by(Membership.id)):
        joins[membership.user_id].append(membership)
    users = list(
        session.scalars(
            select(User).where(User.school_id == school.id).order_by(User.id)
        )
    )
    for user in users:
        user.has_password = rng.random() < PASSWORD_SHARE
        joined = joins.get(user.id)
        if joined:
            last = rng.choice(joined)
            user.last_active_community_id = last.community_id
            user.last_active_at = last.joined_at + timedelta(days=rng.randrange(1, 60))

    known = {user.email for user in users}
    added = 0
    for student in students[::UNJOINED_EVERY]:
        if student.email in known:
            continue
        session.add(
            User(
                school_id=school.id,
                email=student.email,
                sso_id=student.sso_id,
                first_name=student.first_name,
                last_name=student.last_name,
                has_password=rng.random() < PASSWORD_SHARE,
            )
        )
        added += 1
    session.flush()
    ensure_links(session, school)
    return added
