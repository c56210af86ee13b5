"""The ``penji-tui`` command line.

Heavy modules (SQLAlchemy, Textual) are imported inside each command, so that
``penji-tui --help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from penji_tui import __version__
from penji_tui.commands import (
    cards,
    demo,
    imports,
    integrations,
    roster,
    sso,
    sync,
)

log = logging.getLogger("penji_tui")

EXIT_FAILED = 2
EXIT_UNEXPECTED = 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="penji-tui",
        description=(
            "Console and command line for the IT integrations of Penji communities. "
            "With no command, opens the console."
        ),
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: $PENJI_DATABASE_URL, else a SQLite "
        "file in the user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    roster.register(commands)
    imports.register(commands)
    demo.register(commands)
    cards.register(commands)
    integrations.register(commands)
    sync.register(commands)
    sso.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from penji_tui.config import setup_file_logging

    log_path = setup_file_logging("penji-tui", args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None:
        from penji_tui.commands.console import open_console

        handler = open_console
    else:
        sys.stdout = QuietOnClosedPipe(sys.stdout)
    return run_handler(handler, args, log_path)


class QuietOnClosedPipe:
    """Standard output that goes quiet once its reader has gone, as with "| head".

    The command then runs to its end and keeps its exit code, so a script
    with pipefail still gets the code of a held or rejected import.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def database_failure(cause: object) -> str:
    """Describe a database driver error with the step that usually fixes it."""
    text = str(cause).strip()
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        advice = "another process is writing to it; try again in a moment"
    elif "readonly" in lowered or "read-only" in lowered:
        advice = "the database file or its folder is read-only; check permissions"
    else:
        advice = "check that the database is reachable and try again"
    return f"the database failed ({text}); {advice}"


def run_handler(handler: object, args: argparse.Namespace, log_path: object) -> int:
    """Run a command; print failures in words, never as a traceback."""
    from sqlalchemy.exc import OperationalError

    from backend.db import DatabaseError
    from backend.errors import PenjiError

    try:
        return int(handler(args))  # type: ignore[operator]
    except (PenjiError, DatabaseError) as error:
        log.warning("%s failed: %s", args.command, error)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OperationalError as error:
        log.warning("%s failed on the database: %s", args.command, error.orig)
        print(f"error: {database_failure(error.orig)}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader of the output went away outside QuietOnClosedPipe, as in
        # the console's own writes: exit quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        log.warning("%s failed on a file: %s", args.command, error)
        where = f" {error.filename}" if error.filename else ""
        print(
            f"error: cannot use{where}: {error.strerror or error}; check the path "
            "and its permissions",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        log.exception("unexpected failure in %s", args.command)
        print(
            f"error: unexpected failure ({type(error).__name__}: {error}); "
            f"details are in {log_path}",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED
