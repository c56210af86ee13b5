"""Opening schools and communities, help and the command palette."""

from __future__ import annotations

from textual.widgets import DataTable

from penji_tui.app import PenjiApp
from screens.community import CommunityScreen
from screens.dialogs import HelpModal
from screens.school import SchoolScreen
from screens.schools import SchoolsScreen
from tests.console.pilot import settle


async def test_schools_list_shows_school(app: PenjiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#schools", DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[0] == "uni"


async def test_open_school_then_community(app: PenjiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SchoolScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CommunityScreen)
        assert app.screen.detail is not None
        assert app.screen.detail.slug == "lc"


async def test_search_without_match_empties_list(app: PenjiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzz")
        await settle(pilot)
        assert app.screen.query_one("#schools", DataTable).row_count == 0


async def test_f1_opens_help(app: PenjiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpModal)
        await pilot.press("escape")
        assert isinstance(app.screen, SchoolsScreen)


async def test_palette_lists_screen_keys(app: PenjiApp) -> None:
    from screens.palette import ScreenCommands

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        provider = ScreenCommands(app.screen)
        names = [hit.text async for hit in provider.discover()]
        assert "Students" in names
        assert "Audit log" in names


async def test_help_lists_screen_keys(app: PenjiApp) -> None:
    from screens.dialogs import help_text

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = help_text(app.screen)
        assert "Audit log" in text
        assert "Every school" in text
