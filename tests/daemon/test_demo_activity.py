"""The demo school has activity worth exporting."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.demo.load import COMMUNITIES, load_demo
from backend.models import (
    DropInCheckIn,
    Membership,
    ProviderSignUp,
    TutoringSession,
)
from backend.services import schools
from backend.sync.exports import EXPORT_FILES, build_export


def test_demo_fills_activity_and_exports(
    sqlite_factory: sessionmaker[Session],
) -> None:
    load_demo(sqlite_factory)
    cutoff = datetime(2027, 1, 1, tzinfo=UTC)

    with sqlite_factory() as session:
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (TutoringSession, DropInCheckIn, ProviderSignUp, Membership)
        }
        community = schools.get_community(session, COMMUNITIES[0][0])
        files = {
            name: build_export(session, community, name, cutoff)
            for name in EXPORT_FILES
        }

    assert all(count > 100 for count in counts.values()), counts
    for name, data in files.items():
        assert data.count(b"\r\n") > 100, name
    assert b"-06:00" in files["sessions.csv"]
    assert b",scheduled," in files["sessions.csv"]
