"""Setting up a community's card layout against a sample swipe.

Paste or swipe a sample into the sample box (a keyboard-mode reader types it
there), edit the layout, and the tracks, the extracted ID and the matched
student update as you type. Parsing runs on the event loop because it is pure
and fast; matching the student runs in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TextArea,
)

from backend.cards import service
from backend.cards.layout import (
    PROXIMITY_FORMATS,
    SOURCES,
    Extraction,
    check_layout,
    extract,
)
from backend.errors import InvalidValue
from backend.services.schools import get_community
from screens.work import JobRunner

TEXT_FIELDS = ("mask", "offset", "length", "regex", "issuer_prefix", "facility_code")
LIST_FIELDS = ("prefixes", "suffixes")
FLAG_FIELDS = ("strip_leading_zeros", "luhn")
SOURCE_LABELS = {
    "track1": "Track 1",
    "track2": "Track 2",
    "track3": "Track 3",
    "whole": "Whole input (barcode, proximity)",
}


@dataclass(frozen=True)
class LoadedSettings:
    community_name: str
    layout: dict[str, Any]
    samples: list[str]


@dataclass(frozen=True)
class MatchedStudent:
    identifier: str
    text: str


def load_settings(session: Session, community_slug: str) -> LoadedSettings:
    community = get_community(session, community_slug)
    settings = service.read_settings(session, community)
    return LoadedSettings(
        community.name, settings.layout.as_options(), settings.samples
    )


def find_student(
    session: Session, community_slug: str, identifier: str
) -> MatchedStudent:
    community = get_community(session, community_slug)
    student = service.match_student(session, community, identifier)
    if student is None:
        return MatchedStudent(
            identifier, "no student matches; a swipe checks in unmatched"
        )
    where = "" if student.community_id == community.id else " (another community)"
    text = f"{student.first_name} {student.last_name} <{student.email}>{where}"
    return MatchedStudent(identifier, text)


def save_layout(
    session: Session, community_slug: str, layout: dict[str, Any], samples: list[str]
) -> int:
    community = get_community(session, community_slug)
    service.save_settings(session, community, layout, samples=samples)
    return len(samples)


def describe(result: Extraction) -> str:
    """Describe an extraction as lines: each track, then the ID or the reason."""
    lines = []
    swipe = result.swipe
    for number, track in sorted(swipe.tracks.items()):
        problem = f"  [red]{track.problem}[/]" if track.problem else ""
        lines.append(f"Track {number}: {track.text!r}{problem}")
    if not swipe.tracks:
        lines.append("No card track found")
    if swipe.noise:
        lines.append(f"Other characters: {swipe.noise!r}")
    if result.id is not None:
        lines.append(f"[b green]ID: {result.id}[/]")
    else:
        label = "Failed read" if result.status == "failed_read" else "No ID"
        lines.append(f"[b red]{label}:[/] {result.reason}")
    return "\n".join(lines)


class CardReaderScreen(JobRunner, Screen[None]):
    """Edit a community's card layout and try it on a sample swipe."""

    CSS_PATH = "card_reader.tcss"
    HELP = """
Set up the card layout of a community. Paste or swipe a sample card into the
sample box; each track, the extracted ID and the matched student update as you
edit the layout. Positions of a mask or offset count from the track's start
sentinel (% or ;). Saving tries the layout on the stored samples and the
current one, and is refused if one of them gives no ID.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "save", "Save layout"),
        Binding("ctrl+l", "clear_sample", "Clear sample"),
    ]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.samples: list[str] = []
        self.extraction: Extraction | None = None
        self._loading = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with VerticalScroll(id="layout-form"):
                yield Label("ID source")
                yield Select(
                    [(SOURCE_LABELS[s], s) for s in SOURCES],
                    value="track2",
                    allow_blank=False,
                    id="source",
                )
                for name, label in (
                    ("mask", "Position mask (u unused, i ID)"),
                    ("offset", "Offset (from 0)"),
                    ("length", "Length"),
                    ("regex", "Regex with a capture group"),
                    ("issuer_prefix", "Issuer prefix to remove"),
                    ("prefixes", "Reader prefixes (comma-separated)"),
                    ("suffixes", "Reader suffixes (comma-separated)"),
                ):
                    yield Label(label)
                    yield Input(id=name)
                yield Checkbox("Remove leading zeros", id="strip_leading_zeros")
                yield Checkbox("Check the Luhn digit", id="luhn")
                yield Label("Proximity format")
                yield Select(
                    [("none", "")] + [(p, p) for p in PROXIMITY_FORMATS if p],
                    value="",
                    allow_blank=False,
                    id="proximity_format",
                )
                yield Label("Facility code")
                yield Input(id="facility_code")
            with Vertical(id="try"):
                yield Label("Sample swipe (paste, or swipe a keyboard-mode reader)")
                yield TextArea(id="sample", soft_wrap=True)
                yield Static("", id="result")
                yield Static("", id="student")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Card reader: {self.community_slug}"
        self.run_in_session(
            "Loading the card layout",
            load_settings,
            self.community_slug,
            done=self.show_settings,
        )

    def show_settings(self, loaded: LoadedSettings) -> None:
        self.sub_title = loaded.community_name
        self.samples = loaded.samples
        layout = loaded.layout
        self.query_one("#source", Select).value = layout.get("source", "track2")
        self.query_one("#proximity_format", Select).value = layout.get(
            "proximity_format", ""
        )
        for name in TEXT_FIELDS:
            value = layout.get(name)
            self.query_one(f"#{name}", Input).value = (
                "" if value is None else str(value)
            )
        for name in LIST_FIELDS:
            self.query_one(f"#{name}", Input).value = ", ".join(layout.get(name, []))
        for name in FLAG_FIELDS:
            self.query_one(f"#{name}", Checkbox).value = bool(layout.get(name))
        if self.samples:
            self.query_one("#sample", TextArea).text = self.samples[-1]
        self._loading = False
        self.update_result()
        self.query_one("#sample", TextArea).focus()

    def layout_options(self) -> dict[str, Any]:
        """Read the layout fields as options for ``check_layout``."""
        options: dict[str, Any] = {
            "source": self.query_one("#source", Select).value,
            "proximity_format": self.query_one("#proximity_format", Select).value,
        }
        for name in TEXT_FIELDS:
            value = self.query_one(f"#{name}", Input).value.strip()
            if value:
                options[name] = value
        for name in LIST_FIELDS:
            raw = self.query_one(f"#{name}", Input).value
            parts = [part.strip() for part in raw.split(",") if part.strip()]
            if parts:
                options[name] = parts
        for name in FLAG_FIELDS:
            options[name] = self.query_one(f"#{name}", Checkbox).value
        return options

    def sample(self) -> str:
        return self.query_one("#sample", TextArea).text

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def update_result(self) -> None:
        """Parse the sample with the current layout, then look up the student."""
        if self._loading:
            return
        result = self.query_one("#result", Static)
        student = self.query_one("#student", Static)
        try:
            layout = check_layout(self.layout_options())
        except InvalidValue as error:
            self.extraction = None
            result.update(f"[b red]Layout not valid:[/] {error}")
            student.update("")
            return
        if not self.sample().strip():
            self.extraction = None
            result.update("Paste or swipe a sample card to try the layout.")
            student.update("")
            return
        self.extraction = extract(layout, self.sample())
        result.update(describe(self.extraction))
        student.update("")
        if self.extraction.id is not None:
            self.run_in_session(
                "Matching the student",
                find_student,
                self.community_slug,
                self.extraction.id,
                done=self.show_student,
                exclusive=True,
                group="match",
            )

    def show_student(self, matched: MatchedStudent) -> None:
        if self.extraction is None or self.extraction.id != matched.identifier:
            return
        self.query_one("#student", Static).update(f"Student: {matched.text}")

    def action_clear_sample(self) -> None:
        self.query_one("#sample", TextArea).text = ""

    def action_save(self) -> None:
        samples = list(self.samples)
        sample = self.sample()
        if sample.strip() and sample not in samples:
            samples.append(sample)
        samples = samples[-service.MAX_SAMPLES :]
        self.run_in_session(
            "Saving the card layout",
            save_layout,
            self.community_slug,
            self.layout_options(),
            samples,
            done=lambda count: self.saved(samples, count),
        )

    def saved(self, samples: list[str], count: int) -> None:
        self.samples = samples
        self.notify(f"Card layout saved; it gives an ID for all {count} sample(s)")
