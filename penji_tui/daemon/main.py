"""Assemble the daemon from its configuration and run it in the foreground."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from backend.cards.listener import CardListener
from backend.sync.timing import Clock
from penji_tui.daemon.config import DaemonConfig
from penji_tui.daemon.database import LazyDatabase, SyncWhenReachable
from penji_tui.daemon.nightly import NightlySync
from penji_tui.daemon.workers import Daemon

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def setup_daemon_logging(config: DaemonConfig) -> Path:
    """Log to stderr and to the configured rotating file at the configured level."""
    root = logging.getLogger()
    root.setLevel(config.log_level)
    formatter = logging.Formatter(LOG_FORMAT)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(formatter)
    root.addHandler(stderr)
    config.log_file.parent.mkdir(parents=True, exist_ok=True)
    rotating = logging.handlers.RotatingFileHandler(
        config.log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
    )
    rotating.setFormatter(formatter)
    root.addHandler(rotating)
    # paramiko logs every packet exchange at DEBUG and INFO.
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    return config.log_file


def build_daemon(
    database: sessionmaker[Session] | LazyDatabase,
    config: DaemonConfig,
    clock: Clock | None = None,
) -> Daemon:
    """Return the daemon with its workers.

    ``database`` is an open session factory, or a ``LazyDatabase`` when the
    daemon must start while the database may be down: the card readers then
    queue swipes locally and the nightly sync waits until it opens.
    Add further long-running workers here with ``daemon.add(worker)``; each
    gets its own thread and the shared stop signal.
    """
    daemon = Daemon()
    if isinstance(database, LazyDatabase):
        open_factory: Callable[[], sessionmaker[Session]] = database
        daemon.add(SyncWhenReachable(database, config, clock))
    else:
        factory = database
        open_factory = lambda: factory  # noqa: E731
        daemon.add(NightlySync(factory, config, clock))
    for reader in config.card_readers:
        daemon.add(
            CardListener(
                reader.community_slug,
                reader.port,
                reader.queue_path,
                open_factory,
                name=reader.name,
            )
        )
    return daemon


def run_daemon(
    database: sessionmaker[Session] | LazyDatabase, config: DaemonConfig
) -> int:
    """Run until SIGTERM or SIGINT; return the exit status."""
    daemon = build_daemon(database, config)
    daemon.install_signal_handlers()
    if not config.sync.communities:
        where = config.path or "the default configuration file (missing)"
        log.warning("no community is configured in %s; nothing will be synced", where)
    return daemon.run()
