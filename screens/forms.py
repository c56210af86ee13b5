"""Forms for a community's settings and an integration's options."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from backend.services.directory import CommunityDetail, IntegrationState
from backend.services.integrations import DEFAULT_OPTIONS

FORM_CSS = """
{name} {{ align: center middle; }}
{name} > VerticalScroll {{
    width: 72; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} Label {{ margin-top: 1; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 1; }}
"""


class SettingsModal(ModalScreen[dict[str, Any] | None]):
    """Edit a community's settings; returns only the changed ones, or None."""

    DEFAULT_CSS = FORM_CSS.format(name="SettingsModal")
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, community: CommunityDetail) -> None:
        super().__init__()
        self.community = community

    def compose(self) -> ComposeResult:
        c = self.community
        with VerticalScroll():
            yield Label(f"Settings of {c.name} ({c.slug})", classes="title")
            yield Label("Display name")
            yield Input(c.name, id="name")
            yield Label("Visibility (hidden communities show 'not eligible')")
            yield Select(
                [("Visible", False), ("Hidden", True)],
                value=c.hidden,
                allow_blank=False,
                id="hidden",
            )
            yield Label("Student eligibility")
            yield Select(
                [("Everyone", "everyone"), ("Use List", "use_list")],
                value=c.eligibility,
                allow_blank=False,
                id="eligibility",
            )
            yield Label("Term for providers (Tutors, Coaches, Advisors)")
            yield Input(c.provider_term, id="provider_term")
            yield Label("Hold an import that removes more than this % of rows")
            yield Input(f"{c.remove_guard_percent:g}", id="remove_guard_percent")
            yield Label("Hold an import that changes more than this % of rows")
            yield Input(f"{c.change_guard_percent:g}", id="change_guard_percent")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def changes(self) -> dict[str, Any]:
        c = self.community
        current: dict[str, Any] = {
            "name": c.name,
            "hidden": c.hidden,
            "eligibility": c.eligibility,
            "provider_term": c.provider_term,
            "remove_guard_percent": f"{c.remove_guard_percent:g}",
            "change_guard_percent": f"{c.change_guard_percent:g}",
        }
        changed: dict[str, Any] = {}
        for name, old in current.items():
            widget = self.query_one(f"#{name}")
            value = widget.value  # type: ignore[attr-defined]
            if isinstance(value, str):
                value = value.strip()
            if value != old:
                changed[name] = value
        return changed

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        self.dismiss(self.changes())

    def action_cancel(self) -> None:
        self.dismiss(None)


def option_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class OptionsModal(ModalScreen[dict[str, Any] | None]):
    """Edit an integration's options; returns the changed ones, or None.

    Options come from ``DEFAULT_OPTIONS``: a true/false default gives a
    checkbox, a list gives a comma-separated field and anything else a text
    field (a number default expects a number).
    """

    DEFAULT_CSS = FORM_CSS.format(name="OptionsModal")
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, community_name: str, integration: IntegrationState) -> None:
        super().__init__()
        self.community_name = community_name
        self.integration = integration
        self.defaults = DEFAULT_OPTIONS.get(integration.kind, {})

    def compose(self) -> ComposeResult:
        i = self.integration
        with VerticalScroll():
            yield Label(f"{i.label} options for {self.community_name}")
            for name, default in self.defaults.items():
                if isinstance(default, dict):
                    # Structured options, such as a card layout, have a
                    # screen of their own.
                    continue
                value = i.options.get(name, default)
                label = name.replace("_", " ").capitalize()
                if isinstance(default, bool):
                    yield Checkbox(label, bool(value), id=f"opt-{name}")
                    continue
                hint = " (comma-separated)" if isinstance(default, list) else ""
                yield Label(label + hint)
                yield Input(option_text(value), id=f"opt-{name}")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        if not self.defaults:
            self.notify(f"{self.integration.label} has no options", severity="warning")
            self.dismiss(None)

    def changes(self) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for name, default in self.defaults.items():
            if isinstance(default, dict):
                continue
            widget = self.query_one(f"#opt-{name}")
            raw = widget.value  # type: ignore[attr-defined]
            value: Any = raw
            if isinstance(default, list):
                value = [part.strip() for part in raw.split(",") if part.strip()]
            elif isinstance(default, int | float) and not isinstance(default, bool):
                value = parse_number(raw, type(default))
            if value != self.integration.options.get(name, default):
                changed[name] = value
        return changed

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        self.dismiss(self.changes())

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_number(raw: str, kind: type) -> Any:
    """Return ``raw`` as ``kind``, or the text itself for the service to reject."""
    try:
        return kind(raw.strip())
    except ValueError:
        return raw
