"""The Textual console: the app, its global keys and how it starts."""

from __future__ import annotations

import logging
from typing import Any

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual.app import App
from textual.binding import Binding

from penji_tui.config import log_dir
from screens.dialogs import HelpModal
from screens.palette import ScreenCommands
from screens.schools import SchoolsScreen

log = logging.getLogger(__name__)

EXIT_UNEXPECTED = 70


class PenjiApp(App[int]):
    """The support console over one database.

    Screens reach the database only through backend functions run in thread
    workers (see ``screens.work``), with sessions from ``self.factory``.
    """

    TITLE = "Penji console"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, factory: sessionmaker[Session], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factory = factory

    def on_mount(self) -> None:
        self.push_screen(SchoolsScreen())

    def _handle_exception(self, error: Exception) -> None:
        # NOTE: overrides a private Textual 8 method, the only one that receives
        # an exception raised in a handler. Staff get one line and the log file
        # gets the traceback. Headless tests keep Textual's behaviour, so that
        # run_test re-raises.
        log.error("console stopped on an unexpected error", exc_info=error)
        if self.is_headless:
            super()._handle_exception(error)
            return
        self._return_code = EXIT_UNEXPECTED
        self._exit_renderables.append(
            Text(
                f"penji-tui stopped on an unexpected error ({type(error).__name__}: "
                f"{error}); details are in the log file in {log_dir()}"
            )
        )
        self._close_messages_no_wait()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpModal):
            return
        self.push_screen(HelpModal(self.screen))


def run_console(factory: sessionmaker[Session]) -> int:
    """Run the console until staff quit it; return the process exit code."""
    log.info("console started")
    app = PenjiApp(factory)
    result = app.run()
    log.info("console stopped")
    if app.return_code:
        return app.return_code
    return result or 0
