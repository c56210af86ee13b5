"""Canvas settings of one community, with the developer-key JSON to send."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from backend.errors import InvalidValue
from backend.services import canvas
from backend.services.schools import get_community
from screens.work import JobRunner

CHOICES: dict[str, list[tuple[str, str]]] = {
    "placement": [
        ("Global and course navigation", "both"),
        ("Global navigation only", "global"),
        ("Course navigation only", "course"),
    ],
    "course_default": [
        ("On in every course", "enabled"),
        ("Off until an instructor turns it on", "disabled"),
    ],
    "open_in": [("Inside Canvas", "canvas"), ("A new tab", "new_tab")],
    "privacy_level": [
        ("Public: name, email and picture", "public"),
        ("Email only", "email_only"),
        ("Name only", "name_only"),
        ("Anonymous", "anonymous"),
    ],
    "environment": [
        ("Production", "production"),
        ("Beta", "beta"),
        ("Test", "test"),
    ],
}
LABELS = {
    "placement": "Placement",
    "course_default": "Course navigation link",
    "open_in": "Opens in",
    "privacy_level": "Privacy level (what Canvas sends about the user)",
    "environment": "Canvas environment",
}
TEXT_FIELDS = {
    "title": "Link text",
    "base_url_production": "Tool base URL, production",
    "base_url_beta": "Tool base URL, beta",
    "base_url_test": "Tool base URL, test",
}


def load_canvas(session: Session, community_slug: str) -> canvas.CanvasSettings:
    return canvas.load_settings(session, get_community(session, community_slug))


def save_canvas(
    session: Session,
    community_slug: str,
    changes: dict[str, str],
    client_id: str,
    deployment_ids: list[str],
) -> canvas.CanvasSettings:
    community = get_community(session, community_slug)
    canvas.update_settings(session, community, changes)
    return canvas.record_ids(session, community, client_id, deployment_ids)


def facts_text(settings: canvas.CanvasSettings) -> str:
    facts = settings.facts
    return (
        f"Issuer              {facts.issuer}\n"
        f"Authorization       {facts.authorization_endpoint}\n"
        f"Canvas JWKS         {facts.jwks_url}\n"
        f"Login initiation    {settings.oidc_initiation_url}\n"
        f"Launch (redirect)   {settings.target_link_uri}\n"
        f"Tool JWKS           {settings.public_jwk_url}"
    )


def steps_text(settings: canvas.CanvasSettings) -> str:
    steps = canvas.admin_steps(settings)
    return "\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1))


class CanvasScreen(JobRunner, Screen[None]):
    """Canvas placement settings, the developer-key JSON and the IDs sent back."""

    CSS_PATH = "canvas.tcss"
    HELP = """
Canvas settings of this community. Choose where the Penji link appears, whether
course navigation shows it in every course or only once an instructor turns it
on, and whether it opens inside Canvas or in a new tab. The JSON tab shows the
LTI 1.3 developer key for the school's Canvas admin, who follows the steps on
the Steps tab and sends back a client ID (digits) and deployment IDs (number,
colon, 40 hex digits). Record them here. Save with Ctrl+S; y copies the JSON
(OSC 52, works over SSH), w writes it to a file in the current folder.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("y", "copy_json", "Copy JSON"),
        Binding("w", "write_json", "Write JSON"),
    ]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.saved: canvas.CanvasSettings | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Settings", id="settings-tab"), VerticalScroll():
                for name, options in CHOICES.items():
                    yield Label(LABELS[name])
                    yield Select(options, allow_blank=False, id=name, compact=True)
                for name, label in TEXT_FIELDS.items():
                    yield Label(label)
                    yield Input(id=name, compact=True)
                yield Label("Client ID sent by the school (digits)")
                yield Input(id="client_id", placeholder="10000000000001", compact=True)
                yield Label("Deployment IDs sent by the school (comma-separated)")
                yield Input(
                    id="deployment_ids", placeholder="5:d3a2504bba51…", compact=True
                )
                yield Static(id="facts", markup=False)
            with TabPane("JSON", id="json-tab"):
                yield TextArea(id="json", read_only=True, show_line_numbers=False)
            with TabPane("Steps", id="steps-tab"), VerticalScroll():
                yield Static(id="steps", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Canvas: {self.community_slug}"
        self.run_in_session(
            "Loading Canvas settings",
            load_canvas,
            self.community_slug,
            done=self.show_settings,
        )

    def show_settings(self, settings: canvas.CanvasSettings) -> None:
        self.saved = settings
        self.sub_title = settings.community_name
        with self.prevent(Select.Changed, Input.Changed):
            for name in CHOICES:
                self.query_one(f"#{name}", Select).value = getattr(settings, name)
            self.query_one("#title", Input).value = settings.title
            for environment in canvas.ENVIRONMENTS:
                url = settings.base_urls[environment]
                self.query_one(f"#base_url_{environment}", Input).value = url
            self.query_one("#client_id", Input).value = settings.client_id
            ids = ", ".join(settings.deployment_ids)
            self.query_one("#deployment_ids", Input).value = ids
        self.show_preview(settings)

    def show_preview(self, settings: canvas.CanvasSettings) -> None:
        text = json.dumps(canvas.developer_key_json(settings), indent=2)
        self.query_one("#json", TextArea).load_text(text)
        self.query_one("#facts", Static).update(facts_text(settings))
        self.query_one("#steps", Static).update(steps_text(settings))

    def form_changes(self) -> dict[str, str]:
        """Return the settings whose form value differs from the saved one."""
        assert self.saved is not None
        changes: dict[str, str] = {}
        for name in CHOICES:
            value = str(self.query_one(f"#{name}", Select).value)
            if value != getattr(self.saved, name):
                changes[name] = value
        values = {"title": self.saved.title}
        for environment in canvas.ENVIRONMENTS:
            values[f"base_url_{environment}"] = self.saved.base_urls[environment]
        for name, old in values.items():
            value = self.query_one(f"#{name}", Input).value.strip()
            if value != old:
                changes[name] = value
        return changes

    def form_settings(self) -> canvas.CanvasSettings | None:
        """Return the settings as the form shows them, or None while one is invalid."""
        if self.saved is None:
            return None
        try:
            checked = {
                name: canvas.check_setting(name, value)
                for name, value in self.form_changes().items()
            }
        except InvalidValue:
            return None
        base_urls = dict(self.saved.base_urls)
        for environment in canvas.ENVIRONMENTS:
            name = f"base_url_{environment}"
            base_urls[environment] = checked.pop(name, base_urls[environment])
        return dataclasses.replace(self.saved, base_urls=base_urls, **checked)

    @on(Select.Changed)
    @on(Input.Changed)
    def form_changed(self) -> None:
        settings = self.form_settings()
        if settings is not None:
            self.show_preview(settings)

    def action_save(self) -> None:
        if self.saved is None:
            return
        client_id = self.query_one("#client_id", Input).value
        raw_ids = self.query_one("#deployment_ids", Input).value
        deployment_ids = [part.strip() for part in raw_ids.split(",") if part.strip()]
        self.run_in_session(
            "Saving Canvas settings",
            save_canvas,
            self.community_slug,
            self.form_changes(),
            client_id,
            deployment_ids,
            done=self.settings_saved,
        )

    def settings_saved(self, settings: canvas.CanvasSettings) -> None:
        self.show_settings(settings)
        self.notify("Canvas settings saved")

    def current_json(self) -> str | None:
        settings = self.form_settings()
        if settings is None:
            self.notify("Fix the invalid setting first", severity="warning")
            return None
        return json.dumps(canvas.developer_key_json(settings), indent=2) + "\n"

    def action_copy_json(self) -> None:
        text = self.current_json()
        if text is not None:
            self.app.copy_to_clipboard(text)
            self.notify("Copied the developer-key JSON")

    def action_write_json(self) -> None:
        text = self.current_json()
        if text is None:
            return
        path = Path.cwd() / f"canvas-{self.community_slug}.json"
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(f"Cannot write {path}: {error.strerror}", severity="error")
            return
        self.notify(f"Wrote {path}")
