"""Opening the console."""

from __future__ import annotations

import argparse


def open_console(args: argparse.Namespace) -> int:
    """Open the Textual console on the database the command line names."""
    from penji_tui.app import run_console
    from penji_tui.commands import open_db

    return run_console(open_db(args))
