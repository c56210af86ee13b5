"""Every command and console action that changes data writes an audit event.

Each command, and each console save driven by the pilot, runs against a SQLite
database. Before and after it, the test
takes a fingerprint of every table but the audit log and the leases. A command
that changed any table must have added an audit event with the OS user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, TextArea

from backend.db import open_database, transaction
from backend.models import AuditEvent, Base
from backend.services import integrations
from backend.services.schools import get_community
from penji_tui.app import PenjiApp
from penji_tui.cli import main
from screens.canvas import CanvasScreen
from screens.card_reader import CardReaderScreen
from screens.metadata_fields import MetadataFieldsScreen
from tests.cards.helpers import card_community
from tests.cards.test_setup_screen import SAMPLE, settle, wait_for_text
from tests.daemon.test_daemon_process import _write_config
from tests.helpers import STUDENT_HEADER, csv_bytes, run_import, student_rows
from tests.services.sshd import SshdServer
from tests.sso.idp import IdpKey, idp_metadata

OS_USER = "audit-tester"
# Leases are locks that a command takes and gives back; they change no data.
UNAUDITED_TABLES = {"audit_log", "leases"}


def _fingerprints(factory: sessionmaker[Session]) -> dict[str, str]:
    prints = {}
    with factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in UNAUDITED_TABLES:
                continue
            rows = session.execute(select(table)).all()
            text = repr(sorted(repr(tuple(row)) for row in rows))
            prints[table.name] = hashlib.sha256(text.encode()).hexdigest()
    return prints


def _audit_users(factory: sessionmaker[Session], after_id: int) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(select(AuditEvent.os_user).where(AuditEvent.id > after_id))
        )


def _last_audit_id(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))


def test_every_cli_change_audited(
    tmp_path: Path,
    sshd: SshdServer,
    known_hosts: Path,
    idp_keys: dict[str, IdpKey],
    restored_logging: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setenv("USER", OS_USER)
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    factory = open_database(url)
    students = tmp_path / "students.csv"
    students.write_bytes(csv_bytes(STUDENT_HEADER, student_rows(40)))
    fewer = tmp_path / "fewer.csv"
    fewer.write_bytes(csv_bytes(STUDENT_HEADER, student_rows(10)))
    idp_file = tmp_path / "idp.xml"
    idp_file.write_text(idp_metadata([idp_keys["current"]]))
    config = tmp_path / "daemon.toml"
    base = f"audit-{tmp_path.name}"
    _write_config(config, sshd, known_hosts, base)
    inbound = sshd.root_dir / base / "c1" / "inbound"
    inbound.mkdir(parents=True)
    (inbound / "students.csv").write_bytes(csv_bytes(STUDENT_HEADER, student_rows(5)))

    commands = [
        ["school", "add", "uni", "--name", "Uni"],
        ["community", "add", "uni", "lc", "--name", "LC"],
        ["community", "add", "uni", "c1", "--name", "C1"],
        ["community", "set", "lc", "hidden=true"],
        ["integration", "set", "lc", "students", "on"],
        ["integration", "set", "c1", "students", "on"],
        ["import", "students", str(students), "--community", "lc", "--dry-run"],
        ["import", "students", str(students), "--community", "lc"],
        ["import", "students", str(fewer), "--community", "lc"],
        ["imports", "reject", "3"],
        ["import", "students", str(fewer), "--community", "lc"],
        ["imports", "approve", "4"],
        ["imports", "rollback", "4"],
        ["card", "layout", "set", "lc", "--source", "track2"],
        ["card", "parse", "lc", ";000123?"],
        ["canvas", "set", "lc", "title=Tutoring"],
        ["canvas", "ids", "lc", "--client-id", "10000000000123"],
        ["metadata", "fields", "lc", "--keep", "Major"],
        ["sso", "setup", "uni"],
        ["sso", "idp", "uni", "--file", str(idp_file)],
        ["sso", "set", "uni", "username_attribute=uid"],
        ["sso", "login-url", "uni"],
        ["sso", "rotate", "uni"],
        ["sync", "--now", "--community", "c1", "--config", str(config)],
        ["school", "list"],
        ["imports", "list"],
    ]
    changed_without_audit = []
    wrong_user = []
    changed = 0
    for command in commands:
        before = _fingerprints(factory)
        last_id = _last_audit_id(factory)
        main(["--db", url, *command])
        after = _fingerprints(factory)
        if after == before:
            continue
        changed += 1
        users = _audit_users(factory, last_id)
        if not users:
            tables = sorted(name for name in after if after[name] != before[name])
            changed_without_audit.append((" ".join(command[:3]), tables))
        elif set(users) != {OS_USER}:
            wrong_user.append((" ".join(command[:3]), users))

    assert changed >= 20
    assert changed_without_audit == []
    assert wrong_user == []
    factory.kw["bind"].dispose()


async def _save_canvas(pilot: Pilot[int]) -> None:
    pilot.app.push_screen(CanvasScreen(community_slug="lc"))
    await settle(pilot)
    pilot.app.screen.query_one("#client_id", Input).value = "10000000000001"
    await pilot.press("ctrl+s")
    await settle(pilot)


async def _save_metadata_fields(pilot: Pilot[int]) -> None:
    pilot.app.push_screen(MetadataFieldsScreen(community_slug="lc"))
    await settle(pilot)
    pilot.app.screen.query_one("#fields", SelectionList).deselect("holds")
    await pilot.press("ctrl+s")
    await settle(pilot)


async def _save_card_layout(pilot: Pilot[int]) -> None:
    pilot.app.push_screen(CardReaderScreen(community_slug="lc"))
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#sample", TextArea).text = SAMPLE
    screen.query_one("#mask", Input).value = "uuuuuuuuuuiiiiiiiu"
    await wait_for_text(pilot, "#result", "ID: 9991082")
    await pilot.press("ctrl+s")
    await settle(pilot)


@pytest.mark.parametrize(
    "action", [_save_canvas, _save_metadata_fields, _save_card_layout]
)
async def test_console_change_audited(
    sqlite_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    action: Callable[[Pilot[int]], Awaitable[None]],
) -> None:
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setenv("USER", OS_USER)
    card_community(sqlite_factory)
    with transaction(sqlite_factory) as session:
        community = get_community(session, "lc")
        integrations.set_enabled(session, community, "student_metadata", True)
    run_import(
        sqlite_factory,
        "student_metadata",
        csv_bytes("Student ID,Major,Holds", ["000001,Chemistry,Bursar"]),
    )
    before = _fingerprints(sqlite_factory)
    last_id = _last_audit_id(sqlite_factory)

    async with PenjiApp(sqlite_factory).run_test(size=(120, 40)) as pilot:
        await action(pilot)

    after = _fingerprints(sqlite_factory)
    assert after != before
    assert _audit_users(sqlite_factory, last_id) != []
    assert set(_audit_users(sqlite_factory, last_id)) == {OS_USER}
