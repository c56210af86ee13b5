"""Sub-commands of ``penji-tui``, one module per area."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


def open_db(args: argparse.Namespace) -> sessionmaker[Session]:
    """Open and migrate the database the command line names."""
    from backend.db import open_database
    from penji_tui.config import database_url

    return open_database(database_url(args.db))
