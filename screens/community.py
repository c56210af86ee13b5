"""One community: its settings and its eight integrations."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from backend.services import changes
from backend.services.directory import (
    CommunityDetail,
    IntegrationState,
    community_detail,
)
from screens.dialogs import ConfirmModal
from screens.extensions import COMMUNITY_SCREENS, find
from screens.forms import OptionsModal, SettingsModal, option_text
from screens.widgets import KeyHints
from screens.work import JobRunner

SHOWN_COURSES = 40


def options_summary(integration: IntegrationState) -> str:
    parts = []
    for name, value in sorted(integration.options.items()):
        if name.endswith("_at"):
            continue
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif value in ([], "", None):
            shown = "-"
        else:
            shown = option_text(value)
        parts.append(f"{name.replace('_', ' ')}: {shown}")
    return "; ".join(parts)


def settings_text(c: CommunityDetail) -> str:
    eligibility = "Use List" if c.eligibility == "use_list" else "Everyone"
    return (
        f"{c.name}  ({c.slug}, {c.school_name})\n"
        f"{'hidden' if c.hidden else 'visible'} · eligibility {eligibility} · "
        f"providers called {c.provider_term}\n"
        f"hold imports removing > {c.remove_guard_percent:g}% "
        f"or changing > {c.change_guard_percent:g}% of rows"
    )


class CommunityScreen(JobRunner, Screen[None]):
    """Settings and integrations of one community, each change confirmed once."""

    CSS_PATH = "community.tcss"
    HELP = """
A community's settings and its integrations. Integrations are switched per
community: other communities of the school are not touched. Turning Courses on
the first time replaces the community's custom courses, which are listed
before you confirm. Every change is written to the audit log with your OS
user and SSH client.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("space", "toggle", "On/off"),
        Binding("o", "options", "Options"),
        Binding("e", "edit", "Settings"),
        Binding("i", "import_file", "Import", show=False),
        Binding("h", "runs", "Imports", show=False),
        Binding("u", "students", "Students", show=False),
        Binding("l", "audit", "Audit log", show=False),
        Binding("y", "copy", "Copy link", show=False),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
        *[Binding(e.key, e.action, e.label, show=False) for e in COMMUNITY_SCREENS],
    ]
    HINTS = [
        ("i", "Import"),
        ("h", "Imports"),
        ("u", "Students"),
        ("l", "Audit log"),
        ("y", "Copy link"),
        *[(e.key, e.label) for e in COMMUNITY_SCREENS],
    ]

    def __init__(self, community_slug: str) -> None:
        super().__init__()
        self.community_slug = community_slug
        self.detail: CommunityDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading...", id="settings")
        yield DataTable(id="integrations", cursor_type="row")
        yield KeyHints(self.HINTS, id="hints")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = self.community_slug
        table = self.query_one("#integrations", DataTable)
        table.add_column("Integration", key="label")
        table.add_column("State", key="state")
        table.add_column("Options", key="options")
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.run_in_session(
            "Loading the community",
            community_detail,
            self.community_slug,
            done=self.show_detail,
            exclusive=True,
        )

    def show_detail(self, detail: CommunityDetail) -> None:
        self.detail = detail
        self.title = detail.name
        self.sub_title = detail.school_name
        self.query_one("#settings", Static).update(settings_text(detail))
        table = self.query_one("#integrations", DataTable)
        row = table.cursor_row
        table.clear()
        for i in detail.integrations:
            state = "[b green]● on[/]" if i.enabled else "[dim]○ off[/]"
            table.add_row(i.label, state, options_summary(i), key=i.kind)
        table.move_cursor(row=row)
        table.focus()

    def selected(self) -> IntegrationState | None:
        if self.detail is None:
            return None
        table = self.query_one("#integrations", DataTable)
        return self.detail.integrations[table.cursor_row]

    @on(DataTable.RowSelected, "#integrations")
    def row_selected(self) -> None:
        self.action_toggle()

    def action_toggle(self) -> None:
        integration = self.selected()
        if integration is None:
            return
        if integration.kind == "courses" and not integration.enabled:
            self.run_in_session(
                "Listing the custom courses",
                changes.replaced_course_codes,
                self.community_slug,
                done=self.confirm_courses_on,
            )
            return
        self.confirm_toggle(integration, "")

    def confirm_courses_on(self, codes: list[str]) -> None:
        integration = self.selected()
        assert integration is not None
        if not codes:
            note = "No custom course is active, so none will be replaced."
        else:
            shown = ", ".join(codes[:SHOWN_COURSES])
            more = len(codes) - SHOWN_COURSES
            tail = f" and {more} more" if more > 0 else ""
            note = (
                f"The IT import replaces these {len(codes)} custom courses, which "
                f"become inactive now: {shown}{tail}. Custom courses may be added "
                "again afterwards."
            )
        self.confirm_toggle(integration, note)

    def confirm_toggle(self, integration: IntegrationState, note: str) -> None:
        assert self.detail is not None
        turn = "off" if integration.enabled else "on"
        body = (
            f"Turn {integration.label} {turn} for {self.detail.name}? "
            "Other communities of the school keep their setting."
        )
        if note:
            body += "\n\n" + note

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_in_session(
                    f"Turning {integration.label} {turn}",
                    changes.set_integration,
                    self.community_slug,
                    integration.kind,
                    not integration.enabled,
                    done=lambda _: self.changed(f"{integration.label} is {turn}"),
                )

        self.app.push_screen(
            ConfirmModal(f"Turn {integration.label} {turn}", body), answered
        )

    def changed(self, text: str) -> None:
        self.notify(text)
        self.action_refresh()

    def action_options(self) -> None:
        integration = self.selected()
        if integration is None or self.detail is None:
            return

        def saved(options: dict[str, Any] | None) -> None:
            if options:
                self.run_in_session(
                    f"Saving {integration.label} options",
                    changes.set_integration_options,
                    self.community_slug,
                    integration.kind,
                    options,
                    done=lambda _: self.changed(f"{integration.label} options saved"),
                )

        self.app.push_screen(OptionsModal(self.detail.name, integration), saved)

    def action_edit(self) -> None:
        if self.detail is None:
            return

        def saved(settings: dict[str, Any] | None) -> None:
            if settings:
                self.run_in_session(
                    "Saving settings",
                    changes.update_settings,
                    self.community_slug,
                    settings,
                    done=lambda _: self.changed("Settings saved"),
                )

        self.app.push_screen(SettingsModal(self.detail), saved)

    def action_copy(self) -> None:
        from backend.sso.links import community_link

        self.run_in_session(
            "Finding the community link",
            community_link,
            self.community_slug,
            done=self.copy_link,
        )

    def copy_link(self, url: str) -> None:
        self.app.copy_to_clipboard(url)
        self.notify(f"Copied {url}")

    def action_import_file(self) -> None:
        from screens.importing import ImportScreen

        self.app.push_screen(ImportScreen(community_slug=self.community_slug))

    def action_runs(self) -> None:
        from screens.runs import RunsScreen

        self.app.push_screen(RunsScreen(community_slug=self.community_slug))

    def action_students(self) -> None:
        from screens.students import StudentsScreen

        self.app.push_screen(StudentsScreen(community_slug=self.community_slug))

    def action_audit(self) -> None:
        from screens.audit import AuditScreen

        school = self.detail.school_slug if self.detail else None
        self.app.push_screen(
            AuditScreen(school_slug=school, community_slug=self.community_slug)
        )

    def action_open_extension(self, key: str) -> None:
        screen = find(COMMUNITY_SCREENS, key).load()
        self.app.push_screen(screen(community_slug=self.community_slug))  # type: ignore[call-arg]
