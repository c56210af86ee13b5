"""Commands that import CSV files and manage import runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from penji_tui.commands import open_db

EXIT_REJECTED = 1
EXIT_HELD = 3
EXIT_FAILED = 2
KINDS = (
    "students",
    "courses",
    "course_enrollment",
    "student_metadata",
    "course_grades",
    "providers",
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="preview a CSV import and apply it",
        description=(
            "Preview the changes a CSV file makes to a community's roster, then apply "
            "them unless --dry-run is given or a guard holds the import. Exit status: "
            "0 previewed or applied, 1 rejected, 2 failed to run, 3 held."
        ),
    )
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--community", required=True, metavar="SLUG")
    parser.add_argument(
        "--source",
        choices=("custom", "sftp"),
        default="custom",
        help="custom: an admin's upload (default); sftp: a file from the school's IT",
    )
    parser.add_argument("--dry-run", action="store_true", help="preview only")
    parser.add_argument("--force", action="store_true", help="apply past a guard")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=import_file)

    runs = commands.add_parser(
        "imports", help="list, approve, reject or roll back runs"
    )
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list runs, newest first")
    listing.add_argument("--community", metavar="SLUG")
    listing.add_argument(
        "--status", choices=("previewed", "held", "applied", "rejected", "rolled_back")
    )
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=runs_list)
    for name, help_text in (
        ("show", "show one run"),
        ("approve", "apply a held run past its guard"),
        ("reject", "reject a held run"),
        ("rollback", "restore the rows as they were before an applied run"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("run", type=int, metavar="RUN")
        action.set_defaults(handler=run_action, run_action=name)


def import_file(args: argparse.Namespace) -> int:
    from backend.errors import PenjiError

    try:
        return _import_file(args)
    except PenjiError as error:
        if not args.json:
            raise
        # Scripts that asked for JSON get JSON on stdout even when the import
        # could not start, such as when another import is running.
        failure = {"status": "failed", "run_id": None, "error": str(error)}
        print(json.dumps(failure, indent=2))
        return EXIT_FAILED


def _import_file(args: argparse.Namespace) -> int:
    from backend.errors import InvalidValue
    from backend.imports import service
    from penji_tui.report import preview_json, preview_text

    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise InvalidValue(f"cannot read {args.file}: {error.strerror}") from None
    factory = open_db(args)
    preview = service.preview_import(
        factory, args.community, args.kind, args.source, data, args.file.name
    )
    run = None
    if preview.status == "previewed" and not args.dry_run:
        run = service.apply_preview(factory, preview, force=args.force)
    if args.json:
        print(json.dumps(preview_json(preview, run), indent=2))
    else:
        print(preview_text(preview, run))
    status = run.status if run is not None else preview.status
    return {"rejected": EXIT_REJECTED, "held": EXIT_HELD}.get(status, 0)


def runs_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from backend.imports.service import list_runs
    from backend.models import Community
    from backend.services.schools import get_community

    with open_db(args)() as session:
        community = get_community(session, args.community) if args.community else None
        slugs = {c.id: c.slug for c in session.scalars(select(Community))}
        runs = list_runs(session, community, args.status, args.limit)
        if not runs:
            print("no import runs")
        for run in runs:
            counts = run.counts or {}
            slug = slugs[run.community_id]
            print(
                f"{run.id:>6}  {run.created_at:%Y-%m-%d %H:%M}  {slug:<16}"
                f" {run.kind:<18} {run.source:<6} {run.status:<11} "
                f"+{counts.get('added', 0)} ~{counts.get('changed', 0)} "
                f"-{counts.get('removed', 0)}  {run.os_user}  {run.file_name}"
            )
    return 0


def _show(run: Any, slug: str) -> str:
    lines = [
        f"run {run.id}: {run.kind} ({run.source}) for {slug}, {run.status}",
        f"  file {run.file_name}, sha256 {run.sha256}",
        f"  by {run.os_user}" + (f" from {run.ssh_client}" if run.ssh_client else ""),
        f"  created {run.created_at:%Y-%m-%d %H:%M:%S} UTC"
        + (
            f", finished {run.finished_at:%Y-%m-%d %H:%M:%S} UTC"
            if run.finished_at
            else ""
        ),
        f"  counts {json.dumps(run.counts)}",
    ]
    if run.hold_reason:
        lines.append(f"  hold reason: {run.hold_reason}")
    problems = run.errors or {}
    for title in ("errors", "warnings"):
        for problem in problems.get(title, [])[:50]:
            where = f"line {problem['line']}" if problem["line"] else "file"
            column = f", column {problem['column']!r}" if problem["column"] else ""
            lines.append(f"  {title[:-1]}: {where}{column}: {problem['message']}")
    return "\n".join(lines)


def run_action(args: argparse.Namespace) -> int:
    from backend.imports import service
    from backend.models import Community

    factory = open_db(args)
    action = args.run_action
    if action == "approve":
        run = service.approve_run(factory, args.run)
    elif action == "reject":
        run = service.reject_run(factory, args.run)
    elif action == "rollback":
        run = service.rollback_run(factory, args.run)
    else:
        run = None
    with factory() as session:
        shown = service.get_run(session, args.run)
        community = session.get(Community, shown.community_id)
        print(_show(shown, community.slug if community else "?"))
    if run is not None:
        print(f"run {run.id} is now {run.status}")
    return 0
