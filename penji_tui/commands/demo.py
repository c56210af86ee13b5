"""The ``demo`` command: load the demo school and open the console on it."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

from penji_tui.commands import open_db


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="load a demo school with generated data, then open the console",
        description=(
            "Load the demo school Northfield State University with two communities "
            "and a few thousand generated students, once. Then open the console, or "
            "with --no-console (or without a terminal) print the preview of the next "
            "night's demo students import."
        ),
    )
    parser.add_argument(
        "--no-console", action="store_true", help="print the demo preview and exit"
    )
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from backend.demo.load import demo_loaded, load_demo
    from backend.imports import service
    from penji_tui.config import data_dir
    from penji_tui.report import preview_text

    factory = open_db(args)
    with factory() as session:
        if not demo_loaded(session):
            print("loading the demo school (takes a few seconds)...", file=sys.stderr)
    files = load_demo(factory)
    sample = data_dir() / "demo" / "students-next-night.csv"
    sample.parent.mkdir(parents=True, exist_ok=True)
    sample.write_bytes(files.next_students)

    if not args.no_console and sys.stdin.isatty() and sys.stdout.isatty():
        from penji_tui.app import run_console

        return run_console(factory)
    preview = service.preview_import(
        factory,
        files.community_slug,
        "students",
        "sftp",
        files.next_students,
        sample.name,
    )
    print(preview_text(preview))
    program = shutil.which("penji-tui") or sys.argv[0]
    print(
        f"\nThe file is at {sample}. Apply it with:\n"
        f"  {program} import students {sample} --community {files.community_slug} "
        "--source sftp"
    )
    return 0
