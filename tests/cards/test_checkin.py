"""Check-in and check-out by swipe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.cards import service
from backend.cards.service import record_swipe
from backend.db import transaction
from backend.errors import InvalidValue
from backend.models import AuditEvent, CardSwipe, DropInCheckIn
from backend.services import integrations, schools
from tests.cards.helpers import card_community, swipe
from tests.helpers import csv_bytes, make_community, run_import


def check_ins(factory: sessionmaker[Session]) -> list[DropInCheckIn]:
    with factory() as session:
        return list(session.scalars(select(DropInCheckIn).order_by(DropInCheckIn.id)))


def test_swipe_checks_in_then_out(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    first = record_swipe(factory, swipe(";000123=99?\r"))
    second = record_swipe(factory, swipe(";000123=99?\r", seconds=600))
    assert first.outcome == "checked_in"
    assert first.first_name == "Ada"
    assert second.outcome == "checked_out"
    rows = check_ins(factory)
    assert len(rows) == 1
    assert rows[0].checked_out_at is not None
    assert rows[0].method == "card"


def test_double_swipe_ignored(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    record_swipe(factory, swipe(";456=1?\r"))
    repeat = record_swipe(factory, swipe(";456=1?\r", seconds=2))
    assert repeat.outcome == "repeat"
    assert check_ins(factory)[0].checked_out_at is None


def test_unmatched_id_recorded(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    outcome = record_swipe(factory, swipe(";999999=1?\r"))
    assert outcome.outcome == "checked_in"
    assert not outcome.matched
    rows = check_ins(factory)
    assert rows[0].identifier == "999999"
    assert rows[0].student_row_id is None


def test_failed_read_checks_nobody_in(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    outcome = record_swipe(factory, swipe("%B1^X^?;E?\r"))
    assert outcome.outcome == "failed_read"
    assert check_ins(factory) == []
    with factory() as session:
        row = session.scalars(select(CardSwipe)).one()
    assert row.outcome == "failed_read"


def test_same_swipe_recorded_once(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    event = swipe(";456=1?\r")
    record_swipe(factory, event)
    again = record_swipe(factory, event)
    assert again.already_recorded
    assert again.outcome == "checked_in"
    assert len(check_ins(factory)) == 1


def test_match_by_sso_and_email(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        by_sso = service.match_student(session, community, "alan.sso")
        by_email = service.match_student(session, community, "ADA@uni.edu")
        by_zeros = service.match_student(session, community, "123")
    assert by_sso is not None
    assert by_sso.first_name == "Alan"
    assert by_email is not None
    assert by_email.first_name == "Ada"
    assert by_zeros is not None
    assert by_zeros.first_name == "Ada"


def test_match_prefers_own_community(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    make_community(factory, "wc", "uni", integrations_on=("students",))
    header = "Email,First Name,Last Name,SSO ID,Student ID"
    rows = ["ada.w@uni.edu,Adelaide,Writer,x.sso,000123"]
    run_import(factory, "students", csv_bytes(header, rows), community="wc")
    with transaction(factory) as session:
        lc = schools.get_community(session, "lc")
        wc = schools.get_community(session, "wc")
        in_lc = service.match_student(session, lc, "000123")
        in_wc = service.match_student(session, wc, "000123")
        alan_from_wc = service.match_student(session, wc, "456")
    assert in_lc is not None
    assert in_lc.first_name == "Ada"
    assert in_wc is not None
    assert in_wc.first_name == "Adelaide"
    assert alan_from_wc is not None
    assert alan_from_wc.community_id == lc.id


def test_other_school_not_matched(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    make_community(factory, "far", "other", integrations_on=())
    with transaction(factory) as session:
        far = schools.get_community(session, "far")
        assert service.match_student(session, far, "456") is None


def test_old_open_visit_starts_new(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    record_swipe(factory, swipe(";456=1?\r"))
    later = record_swipe(factory, swipe(";456=1?\r", seconds=13 * 3600))
    assert later.outcome == "checked_in"
    assert len(check_ins(factory)) == 2


def test_swipe_writes_audit_event(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    record_swipe(factory, swipe(";456=1?\r"))
    with factory() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "card.swipe" in actions


def test_save_rejects_failing_sample(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        with pytest.raises(InvalidValue, match="sample 2"):
            service.save_settings(
                session,
                community,
                {"source": "track2", "regex": r"^;(\d{6})"},
                samples=[";000123=1?", ";45=1?"],
            )


def test_save_keeps_samples(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        settings, results = service.save_settings(
            session, community, {"source": "2", "mask": "uiiiiii"}, samples=[";000123?"]
        )
    assert settings.samples == [";000123?"]
    assert results[0].id == "000123"


def test_save_checks_repeat_seconds(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        with pytest.raises(InvalidValue, match="repeat_seconds"):
            service.save_settings(session, community, repeat_seconds="soon")


def test_set_options_checks_layout(factory: sessionmaker[Session]) -> None:
    card_community(factory)
    with transaction(factory) as session:
        community = schools.get_community(session, "lc")
        with pytest.raises(InvalidValue, match="invalid layout mask"):
            integrations.set_options(
                session, community, "card_readers", layout={"mask": "zz"}
            )
        with pytest.raises(InvalidValue, match="must be a mapping"):
            integrations.set_options(
                session, community, "card_readers", layout="track 2"
            )
        with pytest.raises(InvalidValue, match="visit_hours"):
            integrations.set_options(session, community, "card_readers", visit_hours=0)
