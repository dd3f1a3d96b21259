"""Where things are in the repository, and which interpreter runs the services."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOT_DIR = REPO / "rasa_bot"
DJANGO_DIR = REPO / "django_app"
DEMO_CORPUS = REPO / "process_data" / "demo" / "demo_corpus.csv"
ACTION_MAP = BOT_DIR / "intent_actions.yml"
ENV_FILE = REPO / ".env"
RUN_DIR = REPO / ".run"
MODEL_CACHE = REPO / ".cache" / "models"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A console script of the running environment (rasa, ...)."""
    return str(BIN / name)
