"""Screens that other areas add to the School and Community screens.

Each entry becomes a key binding in that screen's footer and a command in the
palette. The screen class is named as ``"module:Class"`` and imported only when
staff open it, so a slow import does not delay the console's start.

A school entry's screen is built as ``Class(school_slug=...)`` and a community
entry's as ``Class(community_slug=...)``; both read the database through
``self.app.factory``.

``SCHOOL_FACTS`` are functions ``(session, school) -> list[Fact]`` that add
lines to the school page, such as the SSO state; they run in a worker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from textual.screen import Screen

from backend.models import School


@dataclass(frozen=True)
class ScreenEntry:
    """A screen opened from the School or Community screen with one key."""

    key: str
    label: str
    description: str
    target: str

    @property
    def action(self) -> str:
        return f"open_extension('{self.key}')"

    def load(self) -> type[Screen[object]]:
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


@dataclass(frozen=True)
class Fact:
    """One labelled line on the school page; ``copy`` marks a link to copy with y."""

    label: str
    value: str
    copy: bool = False


def _sso_facts(session: Session, school: School) -> list[Fact]:
    from screens.sso_facts import sso_facts

    return sso_facts(session, school)


SCHOOL_SCREENS: list[ScreenEntry] = [
    ScreenEntry("s", "SSO", "Set up SAML SSO and share links", "screens.sso:SsoScreen"),
    ScreenEntry(
        "n",
        "Sync",
        "Show the school's nightly SFTP sync runs",
        "screens.sync_status:SyncStatusScreen",
    ),
]
COMMUNITY_SCREENS: list[ScreenEntry] = [
    ScreenEntry(
        "c",
        "Canvas",
        "Canvas placement and developer key",
        "screens.canvas:CanvasScreen",
    ),
    ScreenEntry(
        "v",
        "Coverage",
        "Which providers cover which courses",
        "screens.coverage:CoverageScreen",
    ),
    ScreenEntry(
        "g",
        "Engagement",
        "Tutoring use by GPA band",
        "screens.engagement:EngagementScreen",
    ),
    ScreenEntry(
        "m",
        "Metadata",
        "Student metadata fields to keep",
        "screens.metadata_fields:MetadataFieldsScreen",
    ),
    ScreenEntry(
        "n",
        "Sync",
        "Show the nightly SFTP sync runs and the next run",
        "screens.sync_status:SyncStatusScreen",
    ),
    ScreenEntry(
        "k",
        "Card reader",
        "Set up the card layout and try it on a sample swipe",
        "screens.card_reader:CardReaderScreen",
    ),
]
SCHOOL_FACTS: list[Callable[[Session, School], list[Fact]]] = [_sso_facts]


def find(entries: list[ScreenEntry], key: str) -> ScreenEntry:
    return next(entry for entry in entries if entry.key == key)
