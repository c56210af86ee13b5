"""The SSO screen, driven with the pilot inside a minimal app."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from backend.db import transaction
from backend.sso import service
from penji_tui.app import PenjiApp
from screens.school import SchoolScreen
from screens.sso import SsoScreen
from tests.helpers import make_community
from tests.sso.conftest import SsoSchool


class SsoApp(App[None]):
    """Opens the SSO screen of school ``uni``; screens read ``self.factory``."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__()
        self.factory = factory

    def on_mount(self) -> None:
        self.push_screen(SsoScreen("uni"))


def text_of(app: App[None], widget_id: str) -> str:
    return str(app.screen.query_one(widget_id, Static).render())


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_screen_sets_up_sso(
    sqlite_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PENJI_SSO_KEYS_DIR", str(tmp_path / "keys"))
    make_community(sqlite_factory, "lc", "uni")
    app = SsoApp(sqlite_factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert "not set up" in text_of(app, "#state")
        await pilot.press("s")
        await settle(pilot)
        await settle(pilot)
        assert "/saml/uni/login/callback" in text_of(app, "#state")
        assert "Link to School: https://web.penjiapp.com/s/" in text_of(app, "#links")


async def test_screen_copies_school_link(sso_school: SsoSchool) -> None:
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard.startswith("https://web.penjiapp.com/s/")


async def test_screen_copies_sp_metadata(sso_school: SsoSchool) -> None:
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert "EntityDescriptor" in app.clipboard


async def test_screen_checks_pasted_response(sso_school: SsoSchool) -> None:
    xml = sso_school.idp.respond(
        sso_school.request(), sso_school.entity_id, sso_school.acs_url
    )
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one(TextArea).text = base64.b64encode(xml.encode()).decode()
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = text_of(app, "#result")
        assert result.startswith("accepted: the response is valid")
        assert "NameID: jdoe-persistent" in result
        assert "(uid): jdoe" in result


async def test_screen_shows_idp_preview(sso_school: SsoSchool) -> None:
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        idp = text_of(app, "#idp")
        assert "IdP entity ID: https://idp.uni.test/idp/shibboleth" in idp
        assert "signing certificate" in idp


async def test_screen_where_user_lands(sso_school: SsoSchool) -> None:
    with transaction(sso_school.factory) as session:
        service.update_settings(session, "uni", email_domains="uni.edu")
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"lc", "enter")
        await settle(pilot)
        result = text_of(app, "#result")
        assert "outcome: community lc" in result
        assert "sign-in: sso" in result


async def test_school_screen_shows_link(sso_school: SsoSchool) -> None:
    app = PenjiApp(sso_school.factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SchoolScreen)
        facts = text_of(app, "#facts")
        assert "on, IdP https://idp.uni.test/idp/shibboleth" in facts
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard.startswith("https://web.penjiapp.com/s/")


async def test_school_screen_opens_sso(sso_school: SsoSchool) -> None:
    app = PenjiApp(sso_school.factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SsoScreen)
        assert "SP entity ID" in text_of(app, "#state")


async def test_palette_lists_sso(sso_school: SsoSchool) -> None:
    from screens.palette import ScreenCommands

    app = PenjiApp(sso_school.factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        provider = ScreenCommands(app.screen)
        names = [name for name, _key, _run in provider._commands()]
        assert "SSO" in names


async def test_screen_copies_community_link(sso_school: SsoSchool) -> None:
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.clipboard.startswith("https://web.penjiapp.com/c/")


async def test_screen_rotates_after_confirm(sso_school: SsoSchool) -> None:
    app = SsoApp(sso_school.factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        before = text_of(app, "#links")
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        after = text_of(app, "#links")
    assert before.splitlines()[0] != after.splitlines()[0]
    assert before.splitlines()[1] == after.splitlines()[1]
