"""Settings of the action server, read from the environment when first needed."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable holding the SQLAlchemy URL of the business database.
DATABASE_URL_ENV = "ACTIONS_DATABASE_URL"
DEFAULT_DATABASE_PATH = Path(__file__).resolve().parent.parent / "actions.sqlite3"


def database_url() -> str:
    """The SQLAlchemy URL of the orders database (SQLite beside the bot by default)."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_DATABASE_PATH}"
