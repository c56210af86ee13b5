"""Metadata fields a community keeps, and a preview of a student's profile."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, SelectionList, Static

from backend.services import metadata
from backend.services.schools import get_community
from screens.work import JobRunner


@dataclass(frozen=True)
class FieldChoice:
    """The fields IT sent and those the community keeps (empty keeps all)."""

    available: list[str]
    kept: list[str]


def load_fields(session: Session, community_slug: str) -> FieldChoice:
    community = get_community(session, community_slug)
    return FieldChoice(
        metadata.available_fields(session, community),
        metadata.kept_fields(session, community),
    )


def save_fields(session: Session, community_slug: str, names: list[str]) -> FieldChoice:
    community = get_community(session, community_slug)
    metadata.set_kept_fields(session, community, names)
    return load_fields(session, community_slug)


def load_profile(
    session: Session, community_slug: str, reference: str
) -> metadata.ProfileMetadata:
    community = get_community(session, community_slug)
    student = metadata.find_student(session, community, reference)
    return metadata.student_profile_metadata(session, community, student)


def profile_text(profile: metadata.ProfileMetadata) -> str:
    lines = [f"{label:<24}{value}" for label, value in profile.fields]
    lines.append(f"{'Enrolled Courses':<24}{profile.enrolled_courses or '(none)'}")
    return "\n".join(lines)


class MetadataFieldsScreen(JobRunner, Screen[None]):
    """Choose the metadata fields to keep and preview a student's profile."""

    CSS_PATH = "metadata_fields.tcss"
    HELP = """
The metadata columns IT has sent for this community. Checked fields are kept;
the next Student Metadata import drops the others and its preview names them.
With nothing chosen, every column is kept. Space checks or unchecks a field,
Ctrl+S saves, a keeps every column. Type a student's email or ID below and
press Enter to preview the metadata section of their profile.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("a", "keep_all", "Keep all"),
    ]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.choice: FieldChoice | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="state", markup=False)
        yield SelectionList[str](id="fields")
        yield Label("Preview a student's profile (email or student ID, then Enter)")
        yield Input(id="student", placeholder="student@school.edu", compact=True)
        yield Static(id="profile", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Student metadata: {self.community_slug}"
        self.run_in_session(
            "Loading metadata fields",
            load_fields,
            self.community_slug,
            done=self.show_fields,
        )

    def show_fields(self, choice: FieldChoice) -> None:
        self.choice = choice
        names = sorted(set(choice.available) | set(choice.kept))
        fields = self.query_one("#fields", SelectionList)
        fields.clear_options()
        fields.add_options(
            (metadata.field_label(name), name, not choice.kept or name in choice.kept)
            for name in names
        )
        if not names:
            state = "IT has sent no metadata yet; import a Student Metadata file."
        elif choice.kept:
            state = f"Keeping {len(choice.kept)} of {len(names)} fields."
        else:
            state = "Keeping every column IT sends."
        self.query_one("#state", Static).update(state)

    def action_save(self) -> None:
        if self.choice is None:
            return
        selected = list(self.query_one("#fields", SelectionList).selected)
        if not selected:
            self.notify(
                "Check at least one field, or press a to keep every column",
                severity="warning",
            )
            return
        self.save(selected)

    def action_keep_all(self) -> None:
        self.save([])

    def save(self, names: list[str]) -> None:
        self.run_in_session(
            "Saving metadata fields",
            save_fields,
            self.community_slug,
            names,
            done=self.fields_saved,
        )

    def fields_saved(self, choice: FieldChoice) -> None:
        self.show_fields(choice)
        self.notify("Metadata fields saved; the next import applies them")

    @on(Input.Submitted, "#student")
    def student_entered(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.run_in_session(
                "Loading the profile",
                load_profile,
                self.community_slug,
                event.value,
                done=lambda profile: self.query_one("#profile", Static).update(
                    profile_text(profile)
                ),
            )
