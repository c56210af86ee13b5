"""The card reader set-up screen: live parsing, matching and saving."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from backend.cards import service
from backend.services import schools
from penji_tui.app import PenjiApp
from screens.card_reader import CardReaderScreen
from screens.community import CommunityScreen
from tests.cards.helpers import card_community

WAIT_SECONDS = 20
SAMPLE = ";1234567899991082?"


async def settle(pilot: Pilot[int]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text_of(app: PenjiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def wait_for_text(pilot: Pilot[int], selector: str, part: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while part not in text_of(pilot.app, selector):  # type: ignore[arg-type]
        if time.monotonic() > deadline:
            shown = text_of(pilot.app, selector)  # type: ignore[arg-type]
            raise AssertionError(f"{selector} shows {shown!r}, not {part!r}")
        await pilot.pause(0.05)


async def open_setup(pilot: Pilot[int]) -> CardReaderScreen:
    screen = CardReaderScreen(community_slug="lc")
    await pilot.app.push_screen(screen)
    await settle(pilot)
    return screen


async def test_setup_parses_sample(sqlite_factory: sessionmaker[Session]) -> None:
    card_community(sqlite_factory)
    app = PenjiApp(sqlite_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_setup(pilot)
        screen.query_one("#sample", TextArea).text = ";000123=2512?\r"
        await wait_for_text(pilot, "#result", "ID: 000123")
        assert "Track 2: ';000123=2512?'" in text_of(app, "#result")
        await wait_for_text(pilot, "#student", "Ada Lovelace")


async def test_setup_follows_mask_edits(sqlite_factory: sessionmaker[Session]) -> None:
    card_community(sqlite_factory)
    app = PenjiApp(sqlite_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_setup(pilot)
        screen.query_one("#sample", TextArea).text = SAMPLE
        await wait_for_text(pilot, "#result", "ID: 1234567899991082")
        screen.query_one("#mask", Input).focus()
        await pilot.press(*"uuuuuuuuuuiiiiiiiu")
        await wait_for_text(pilot, "#result", "ID: 9991082")
        await pilot.press("backspace", "backspace", "x")
        await wait_for_text(pilot, "#result", "Layout not valid")


async def test_setup_saves_layout(sqlite_factory: sessionmaker[Session]) -> None:
    card_community(sqlite_factory)
    app = PenjiApp(sqlite_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_setup(pilot)
        screen.query_one("#sample", TextArea).text = SAMPLE
        screen.query_one("#mask", Input).value = "uuuuuuuuuuiiiiiiiu"
        await wait_for_text(pilot, "#result", "ID: 9991082")
        await pilot.press("ctrl+s")
        await settle(pilot)
    with sqlite_factory() as session:
        community = schools.get_community(session, "lc")
        settings = service.read_settings(session, community)
    assert settings.layout.mask == "uuuuuuuuuuiiiiiiiu"
    assert settings.samples == [SAMPLE]


async def test_setup_refuses_failing_layout(
    sqlite_factory: sessionmaker[Session],
) -> None:
    card_community(sqlite_factory)
    app = PenjiApp(sqlite_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_setup(pilot)
        screen.query_one("#sample", TextArea).text = SAMPLE
        screen.query_one("#regex", Input).value = r"^;(\d{20})"
        await wait_for_text(pilot, "#result", "No ID")
        await pilot.press("ctrl+s")
        await settle(pilot)
    with sqlite_factory() as session:
        community = schools.get_community(session, "lc")
        settings = service.read_settings(session, community)
    assert settings.layout.regex == ""


async def test_community_screen_opens_setup(
    sqlite_factory: sessionmaker[Session],
) -> None:
    card_community(sqlite_factory)
    app = PenjiApp(sqlite_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(CommunityScreen("lc"))
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, CardReaderScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, CommunityScreen)
