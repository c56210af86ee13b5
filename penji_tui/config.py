"""Paths of the database, logs and configuration, and their overrides."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

APP_NAME = "penji-tui"
DATABASE_ENV = "PENJI_DATABASE_URL"


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def database_url(option: str | None) -> str:
    """Pick the database: ``--db``, then ``PENJI_DATABASE_URL``, then a SQLite file."""
    if option:
        return option
    if os.environ.get(DATABASE_ENV):
        return os.environ[DATABASE_ENV]
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'penji.db'}"


def setup_file_logging(name: str, verbose: bool = False) -> Path:
    """Log to a rotating file in the user log folder and return its path.

    Errors also go to stderr unless the console owns the terminal, which the
    caller decides by adding its own handler.
    """
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.log"
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Alembic logs its set-up at INFO on every start, even with nothing to do.
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    return path
