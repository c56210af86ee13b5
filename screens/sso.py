"""A school's SAML SSO: set-up, IdP metadata, test logins and share links.

Every backend call runs in a thread worker through ``JobRunner``; its result
reaches a handler on the event loop, which updates the widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from screens.dialogs import ConfirmModal
from screens.sso_jobs import SsoPage, change_setting, land, load_page, store_idp
from screens.sso_modals import LineModal, PasteModal
from screens.widgets import KeyHints
from screens.work import JobRunner


class SsoScreen(JobRunner, Screen[None]):
    """Set up and prove a school's SAML SSO, and manage its share links."""

    CSS_PATH = "sso.tcss"
    HELP = """
SSO is set once per school. Set it up (s), send the SP metadata to the school's
IT (m copies it, w writes a file), load their IdP metadata (i), then prove a
login end to end: t makes the AuthnRequest URL, p checks a SAMLResponse pasted
from the browser's network tab, or run 'penji-tui sso listen'. Share links are
below: y copies the school link, c a community's link, o rotates a link, and
a shows where a user lands.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "setup", "Set up"),
        Binding("i", "idp", "IdP metadata"),
        Binding("t", "test_url", "Test URL"),
        Binding("p", "paste_response", "Check response"),
        Binding("m", "copy_metadata", "Copy SP metadata", show=False),
        Binding("w", "write_metadata", "Write SP metadata", show=False),
        Binding("e", "edit", "Setting", show=False),
        Binding("r", "responses", "Last responses", show=False),
        Binding("y", "copy_link", "Copy link", show=False),
        Binding("c", "copy_community_link", "Copy community link", show=False),
        Binding("o", "rotate", "Rotate link", show=False),
        Binding("a", "land", "Where lands?", show=False),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]
    # Keys that do not fit in the footer at 80 columns, shown above it.
    HINTS = [
        ("m", "Copy SP metadata"),
        ("w", "Write SP metadata"),
        ("e", "Setting"),
        ("r", "Last responses"),
        ("y", "Copy link"),
        ("c", "Copy community link"),
        ("o", "Rotate link"),
        ("a", "Where lands?"),
        ("^r", "Refresh"),
    ]

    def __init__(self, school_slug: str) -> None:
        super().__init__()
        self.school_slug = school_slug
        self.page: SsoPage | None = None

    @property
    def factory(self) -> sessionmaker[Session]:
        return self.app.factory  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("Loading...", id="state", markup=False)
            yield Static("", id="idp", markup=False)
            yield Static("", id="links", markup=False)
            yield Static("", id="result", markup=False)
        yield KeyHints(self.HINTS, id="hints")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = f"SSO: {self.school_slug}"
        self.action_refresh()

    def show_result(self, lines: list[str]) -> None:
        self.query_one("#result", Static).update("\n".join(lines))

    def action_refresh(self) -> None:
        self.run_in_session(
            "Loading SSO", load_page, self.school_slug, done=self.show_page
        )

    def show_page(self, page: SsoPage) -> None:
        self.page = page
        self.query_one("#state", Static).update("\n".join(page.state))
        self.query_one("#idp", Static).update("\n".join(page.idp))
        links = [
            f"Link to {'School' if t == 'school' else t}: {u}" for t, u in page.links
        ]
        self.query_one("#links", Static).update("\n".join(links))

    def _refresh_after(self, text: str) -> Callable[[Any], None]:
        def done(_result: Any) -> None:
            self.notify(text)
            self.action_refresh()

        return done

    def action_setup(self) -> None:
        from backend.sso.service import setup_sso

        self.run_in_session(
            "Setting up SSO",
            setup_sso,
            self.school_slug,
            done=self._refresh_after("SSO is set up"),
        )

    def action_copy_metadata(self) -> None:
        from backend.sso.service import export_sp_metadata

        def copy(xml: str) -> None:
            self.app.copy_to_clipboard(xml)
            self.notify("Copied the SP metadata (OSC 52)")

        self.run_in_session(
            "Exporting SP metadata", export_sp_metadata, self.school_slug, done=copy
        )

    def action_write_metadata(self) -> None:
        from backend.sso.service import export_sp_metadata

        path = Path.cwd() / f"sp-metadata-{self.school_slug}.xml"

        def write(xml: str) -> None:
            path.write_text(xml, encoding="utf-8")
            self.notify(f"Wrote the SP metadata to {path}")

        self.run_in_session(
            "Exporting SP metadata", export_sp_metadata, self.school_slug, done=write
        )

    def action_idp(self) -> None:
        def chosen(text: str | None) -> None:
            if text:
                self.run_in_session(
                    "Loading IdP metadata",
                    store_idp,
                    self.school_slug,
                    text,
                    done=self._idp_stored,
                )

        self.app.push_screen(
            PasteModal(
                "IdP metadata",
                "Paste the XML, or give a file path or an https:// URL. Ctrl+S loads.",
            ),
            chosen,
        )

    def _idp_stored(self, lines: list[str]) -> None:
        self.notify("Stored the IdP metadata")
        self.show_result(lines)
        self.action_refresh()

    def action_edit(self) -> None:
        def chosen(line: str | None) -> None:
            if line:
                self.run_in_session(
                    "Changing SSO",
                    change_setting,
                    self.school_slug,
                    line,
                    done=lambda text: self._refresh_after(text)(None),
                )

        self.app.push_screen(
            LineModal(
                "Change a setting: username_attribute, email_attribute, "
                "student_id_attribute, email_domains, allow_idp_initiated, "
                "clock_skew_seconds, name_id_format, base_url",
                "email_domains=uni.edu",
            ),
            chosen,
        )

    def action_test_url(self) -> None:
        from backend.sso.logins import start_test_login

        def show(found: tuple[str, str]) -> None:
            request_id, url = found
            self.app.copy_to_clipboard(url)
            self.show_result([f"Test login {request_id}: open this URL (copied):", url])

        self.run_job(
            "Making the test URL",
            start_test_login,
            self.factory,
            self.school_slug,
            done=show,
        )

    def action_paste_response(self) -> None:
        from backend.sso.logins import check_test_response
        from backend.sso.report import result_lines

        def check(factory: sessionmaker[Session], slug: str, text: str) -> list[str]:
            return result_lines(check_test_response(factory, slug, text))

        def chosen(text: str | None) -> None:
            if text:
                self.run_job(
                    "Checking the response",
                    check,
                    self.factory,
                    self.school_slug,
                    text,
                    done=self.show_result,
                )

        self.app.push_screen(
            PasteModal(
                "SAMLResponse",
                "Paste the SAMLResponse value (base64) from the browser's network "
                "tab, the POST to the ACS URL. Ctrl+S checks it.",
            ),
            chosen,
        )

    def action_responses(self) -> None:
        from backend.sso.logins import recent_responses

        def lines(session: Session, slug: str) -> list[str]:
            rows = recent_responses(session, slug, limit=20)
            if not rows:
                return ["No test-login responses kept yet."]
            return [
                f"{r.id}  {r.received_at:%Y-%m-%d %H:%M:%S}  {r.via:<6}  "
                + ("accepted" if r.accepted else f"rejected: {r.failure}")
                for r in rows
            ] + ["Show one, decoded: penji-tui sso responses SLUG --show ID"]

        self.run_in_session(
            "Loading responses", lines, self.school_slug, done=self.show_result
        )

    def action_copy_link(self) -> None:
        links = dict(self.page.links) if self.page else {}
        if "school" not in links:
            self.notify("No school link yet: set up SSO first", severity="warning")
            return
        self.app.copy_to_clipboard(links["school"])
        self.notify(f"Copied Link to School: {links['school']}")

    def action_copy_community_link(self) -> None:
        links = dict(self.page.links) if self.page else {}
        communities = [name for name in links if name != "school"]
        if not communities:
            self.notify("No community link yet: set up SSO first", severity="warning")
            return

        def chosen(slug: str | None) -> None:
            if slug is None:
                return
            if slug not in links or slug == "school":
                self.notify(
                    f"No link for {slug!r}; use one of: {', '.join(communities)}",
                    severity="error",
                )
                return
            self.app.copy_to_clipboard(links[slug])
            self.notify(f"Copied Link to Community {slug}: {links[slug]}")

        self.app.push_screen(
            LineModal("Copy the link of which community?", "slug", communities[0]),
            chosen,
        )

    def action_rotate(self) -> None:
        from backend.sso.links import rotate_link

        def rotate(community: str | None, confirmed: bool | None) -> None:
            if confirmed:
                self.run_in_session(
                    "Rotating the link",
                    rotate_link,
                    self.school_slug,
                    community,
                    done=self._refresh_after("Rotated: the old link no longer works"),
                )

        def chosen(line: str | None) -> None:
            if line is None:
                return
            community = None if line == "school" else line
            body = (
                f"The current link to {line} stops working at once; everyone who "
                "has it needs the new one."
            )
            self.app.push_screen(
                ConfirmModal(f"Rotate the link to {line}?", body, "Rotate"),
                lambda confirmed: rotate(community, confirmed),
            )

        self.app.push_screen(
            LineModal(
                "Rotate which link: school, or a community slug?",
                "school or a community slug",
                "school",
            ),
            chosen,
        )

    def action_land(self) -> None:
        def chosen(line: str | None) -> None:
            if line:
                self.run_in_session(
                    "Applying the landing rules",
                    land,
                    self.school_slug,
                    line,
                    done=self.show_result,
                )

        self.app.push_screen(
            LineModal(
                "Where will this user land? LINK [EMAIL] [signed-in]",
                "school jdoe@uni.edu signed-in",
                "school ",
            ),
            chosen,
        )
