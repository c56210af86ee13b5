"""The Canvas, coverage, engagement and metadata screens, driven by the pilot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import (
    DataTable,
    Input,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TextArea,
)

from backend.db import transaction
from backend.models import TutoringSession
from backend.services import canvas, metadata
from backend.services.schools import get_community
from penji_tui.app import PenjiApp
from screens.canvas import CanvasScreen
from screens.community import CommunityScreen
from screens.coverage import CoverageScreen
from screens.engagement import EngagementScreen, bar
from screens.metadata_fields import MetadataFieldsScreen
from tests.helpers import STUDENT_HEADER, csv_bytes, run_import


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_community(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommunityScreen)


def canvas_settings(factory: sessionmaker[Session]) -> canvas.CanvasSettings:
    with factory() as session:
        return canvas.load_settings(session, get_community(session, "lc"))


async def test_canvas_key_opens_screen(app: PenjiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CanvasScreen)
        config = json.loads(app.screen.query_one("#json", TextArea).text)
        placements = config["extensions"][0]["settings"]["placements"]
        assert [p["placement"] for p in placements] == [
            "global_navigation",
            "course_navigation",
        ]


async def test_canvas_preview_follows_form(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(CanvasScreen(community_slug="lc"))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#placement", Select).value = "course"
        screen.query_one("#open_in", Select).value = "new_tab"
        await pilot.pause()
        config = json.loads(screen.query_one("#json", TextArea).text)
        (entry,) = config["extensions"][0]["settings"]["placements"]
        assert entry["placement"] == "course_navigation"
        assert entry["windowTarget"] == "_blank"
        assert canvas_settings(school_factory).placement == "both"


async def test_canvas_save_records_ids(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(CanvasScreen(community_slug="lc"))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#course_default", Select).value = "disabled"
        screen.query_one("#client_id", Input).value = "10000000000001"
        screen.query_one(
            "#deployment_ids", Input
        ).value = "5:d3a2504bba5184799a38f141e8df2335cfa8206d"
        await pilot.press("ctrl+s")
        await settle(pilot)
    saved = canvas_settings(school_factory)
    assert saved.course_default == "disabled"
    assert saved.client_id == "10000000000001"
    assert saved.deployment_ids == ("5:d3a2504bba5184799a38f141e8df2335cfa8206d",)


async def test_canvas_bad_client_id_not_saved(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(CanvasScreen(community_slug="lc"))
        await settle(pilot)
        app.screen.query_one("#client_id", Input).value = "key-1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CanvasScreen)
    assert canvas_settings(school_factory).client_id == ""


async def test_canvas_copy_and_write(
    app: PenjiApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(CanvasScreen(community_slug="lc"))
        await settle(pilot)
        app.screen.query_one("#json", TextArea).focus()
        await pilot.press("y")
        await pilot.press("w")
        await pilot.pause()
        copied = app.clipboard
    written = (tmp_path / "canvas-lc.json").read_text(encoding="utf-8")
    assert json.loads(copied)["title"] == "Penji"
    assert written == copied


async def test_coverage_lists_stale(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    run_import(
        school_factory,
        "courses",
        csv_bytes("Course Code", ["CHEM1301", "MATH1301-Lim"]),
    )
    run_import(
        school_factory,
        "providers",
        csv_bytes("Email,Courses", ["ana@uni.edu,CHEM*|MATH1301"]),
        source="custom",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(CoverageScreen(community_slug="lc"))
        await settle(pilot)
        screen = app.screen
        stale = screen.query_one("#stale", DataTable)
        assert stale.row_count == 1
        assert stale.get_row_at(0) == ["ana@uni.edu", "MATH1301", "MATH1301-Lim"]
        courses = screen.query_one("#courses", DataTable)
        assert courses.get_row_at(0)[0] == "MATH1301-Lim"
        await pilot.press("slash", *"chem")
        await pilot.pause()
        assert courses.row_count == 1


async def test_engagement_shows_bands(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    run_import(
        school_factory,
        "students",
        csv_bytes(STUDENT_HEADER, ["s1@uni.edu,A,B,sso1,000001"]),
    )
    run_import(
        school_factory,
        "course_grades",
        csv_bytes(
            "Student ID,Course Code,Term,Grade",
            ["000001,CHEM1301,2026SP,A", "000002,CHEM1301,2026SP,C"],
        ),
    )
    from datetime import UTC, datetime

    with transaction(school_factory) as session:
        start = datetime(2026, 2, 1, tzinfo=UTC)
        session.add(
            TutoringSession(
                community_id=get_community(session, "lc").id,
                student_email="s1@uni.edu",
                provider_email="t@uni.edu",
                starts_at=start,
                ends_at=start,
            )
        )
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(EngagementScreen(community_slug="lc"))
        await settle(pilot)
        table = app.screen.query_one("#bands", DataTable)
        assert table.row_count == 5
        top = table.get_row_at(4)
        assert top[0] == "3.5+"
        assert "100.0%" in str(top[2])
        assert app.screen.query_one("#term", Select).value == "2026SP"


async def test_engagement_without_grades(app: PenjiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(EngagementScreen(community_slug="lc"))
        await settle(pilot)
        summary = app.screen.query_one("#summary", Static)
        assert "No course grades yet" in str(summary.render())


def test_bar_lengths() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██  "
    assert bar(1, 16, 2) == "▏ "
    assert bar(3, 0, 3) == "   "


async def test_metadata_fields_saved(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    run_import(
        school_factory,
        "students",
        csv_bytes(STUDENT_HEADER, ["s1@uni.edu,A,B,sso1,000001"]),
    )
    run_import(
        school_factory,
        "student_metadata",
        csv_bytes("Student ID,Major,Holds", ["000001,Chemistry,Bursar"]),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(MetadataFieldsScreen(community_slug="lc"))
        await settle(pilot)
        fields = app.screen.query_one("#fields", SelectionList)
        assert sorted(fields.selected) == ["holds", "major"]
        fields.deselect("holds")
        await pilot.press("ctrl+s")
        await settle(pilot)
        student = app.screen.query_one("#student", Input)
        student.focus()
        await pilot.press(*"s1@uni.edu", "enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#profile", Static).render())
    with school_factory() as session:
        kept = metadata.kept_fields(session, get_community(session, "lc"))
    assert kept == ["major"]
    assert "Chemistry" in shown
    assert "Bursar" not in shown


@pytest.mark.parametrize(
    ("key", "screen_type"),
    [
        ("v", CoverageScreen),
        ("g", EngagementScreen),
        ("m", MetadataFieldsScreen),
    ],
)
async def test_community_keys_open_screens(
    app: PenjiApp, key: str, screen_type: type
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_community(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, screen_type)
        await pilot.press("escape")
        assert isinstance(app.screen, CommunityScreen)


async def test_coverage_brackets_switch_tabs(
    app: PenjiApp, school_factory: sessionmaker[Session]
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(CoverageScreen(community_slug="lc"))
        await settle(pilot)
        tabs = app.screen.query_one("#tabs", TabbedContent)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert tabs.active == "provider-tab"
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert tabs.active == "stale-tab"
