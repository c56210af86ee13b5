"""The ``daemon`` and ``sync`` commands: the nightly SFTP sync and its status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from penji_tui.daemon.config import DaemonConfig

EXIT_SYNC_FAILED = 1


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="daemon configuration in TOML (default: daemon.toml in the user "
        "config folder); see docs/daemon.md",
    )


def register(commands: Any) -> None:
    daemon = commands.add_parser(
        "daemon",
        help="run headless: the nightly SFTP sync, until SIGTERM or SIGINT",
        description=(
            "Run in the foreground without a terminal: sync every configured "
            "community daily at the configured time, and catch up a run missed "
            "while stopped. Logs go to stderr and a rotating file."
        ),
    )
    _add_config(daemon)
    daemon.set_defaults(handler=run_daemon_command)

    sync = commands.add_parser(
        "sync",
        help="run the SFTP sync now, or show the last runs",
        description=(
            "With --now, sync the configured communities once and exit: 0 when "
            "every community synced cleanly, 1 otherwise. 'sync status' lists the "
            "last runs and the next scheduled time."
        ),
    )
    _add_config(sync)
    sync.add_argument("--now", action="store_true", help="run the sync now")
    sync.add_argument("--community", metavar="SLUG", help="only this community")
    sync.set_defaults(handler=sync_now)
    actions = sync.add_subparsers(dest="action", metavar="ACTION")
    status = actions.add_parser("status", help="list the last sync runs")
    status.add_argument("--community", metavar="SLUG", dest="status_community")
    status.add_argument("--limit", type=int, default=20, help="runs to list")
    status.set_defaults(handler=sync_status)


def _config_and_db(
    args: argparse.Namespace,
) -> tuple[DaemonConfig, sessionmaker[Session]]:
    import os

    from backend.db import open_database
    from penji_tui.config import DATABASE_ENV, database_url
    from penji_tui.daemon.config import load_config

    config = load_config(args.config)
    url = args.db or os.environ.get(DATABASE_ENV) or config.database_url
    return config, open_database(database_url(url))


def run_daemon_command(args: argparse.Namespace) -> int:
    import logging
    import os

    from sqlalchemy.exc import OperationalError

    from backend.db import DatabaseError
    from penji_tui.config import DATABASE_ENV, database_url
    from penji_tui.daemon.config import load_config
    from penji_tui.daemon.database import LazyDatabase
    from penji_tui.daemon.main import run_daemon, setup_daemon_logging

    config = load_config(args.config)
    url = args.db or os.environ.get(DATABASE_ENV) or config.database_url
    setup_daemon_logging(config)
    database = LazyDatabase(database_url(url))
    try:
        database()
    except (DatabaseError, OperationalError) as error:
        # A kiosk's card readers must queue swipes even while the database
        # is down, so only a daemon without readers stops here.
        if not config.card_readers:
            raise
        logging.getLogger("penji_tui.daemon").warning(
            "starting without the database, card swipes are queued: %s", error
        )
    return run_daemon(database, config)


def sync_now(args: argparse.Namespace) -> int:
    import logging

    from backend.errors import InvalidValue
    from backend.sync.run import RunRequest, sync_all

    if not args.now:
        raise InvalidValue(
            "missing action: use 'sync --now' to run the sync or 'sync status' "
            "to list runs"
        )
    config, factory = _config_and_db(args)
    if args.community and config.sync.community(args.community) is None:
        raise InvalidValue(
            f"community {args.community!r} has no [communities.{args.community}] "
            f"table in {config.path or 'the configuration'}"
        )
    if not config.sync.communities:
        from penji_tui.daemon.config import default_config_path

        where = config.path or f"{default_config_path()} (not found)"
        raise InvalidValue(
            f"no community to sync: {where} has no [communities.SLUG] table; "
            "see docs/daemon.md for the configuration"
        )
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger("backend.sync").addHandler(stderr)
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    records = sync_all(factory, config.sync, RunRequest("manual"), args.community)
    for record in records:
        print(_describe(record.status, record, _slug(factory, record.community_id)))
    return 0 if records and all(r.status == "ok" for r in records) else EXIT_SYNC_FAILED


def _slug(factory: sessionmaker[Session], community_id: int) -> str:
    from backend.models import Community

    with factory() as session:
        community = session.get(Community, community_id)
        return community.slug if community else str(community_id)


def _describe(status: str, run: Any, slug: str) -> str:
    finished = f"{run.duration_seconds:.1f}s" if run.duration_seconds else "running"
    line = (
        f"{run.id:>6}  {run.started_at:%Y-%m-%d %H:%M} UTC  {slug:<20} "
        f"{run.trigger:<8} {status:<11} {finished:>8}  seen {run.files_seen}, "
        f"imported {run.imported}, held {run.held}, rejected {run.rejected}, "
        f"skipped {run.skipped}, left {run.files_left}, "
        f"exports {run.exports_written}"
    )
    for error in run.errors or []:
        line += f"\n        error: {error}"
    for entry in run.files or []:
        if entry["action"] in ("held", "rejected", "left", "error"):
            line += f"\n        {entry['name']}: {entry['action']}"
            if entry["reason"]:
                line += f" ({entry['reason']})"
    return line


def sync_status(args: argparse.Namespace) -> int:
    from backend.sync import state

    config, factory = _config_and_db(args)
    with factory() as session:
        schedule_row = state.get_schedule(session)
        slug = args.status_community or args.community
        runs = state.recent_runs(session, slug, args.limit)
        if schedule_row is not None and schedule_row.next_run_at is not None:
            print(
                f"next scheduled run: {schedule_row.next_run_at:%Y-%m-%d %H:%M} UTC "
                f"({schedule_row.time_of_day} {schedule_row.time_zone}, daemon "
                f"{schedule_row.holder or 'unknown'})"
            )
        else:
            next_run = config.slot.next_after(_now())
            print(
                f"next scheduled run: {next_run:%Y-%m-%d %H:%M} UTC "
                f"({config.slot.describe()}), if a daemon is running"
            )
        if not runs:
            print("no sync runs yet")
        for summary in runs:
            print(_describe(summary.run.status, summary.run, summary.community_slug))
    return 0


def _now() -> Any:
    from backend.models import utcnow

    return utcnow()
