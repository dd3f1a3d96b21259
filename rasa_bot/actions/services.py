"""Business logic over the orders database, independent of Rasa.

The engine is created on first use (never at import), so tests and the
action server can set ``ACTIONS_DATABASE_URL`` first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import config

metadata = sa.MetaData()

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("placed_on", sa.Date, nullable=False),
    sa.Column("delivery_city", sa.String(100), nullable=False),
)

#: Demo data seeded into an empty database.
DEMO_ORDERS = [
    ("12345", "shipped", dt.date(2026, 11, 2), "Lisbon"),
    ("48213", "processing", dt.date(2026, 11, 18), "Madrid"),
    ("55120", "delivered", dt.date(2026, 10, 21), "Berlin"),
    ("70001", "cancelled", dt.date(2026, 11, 5), "Paris"),
]


@dataclass(frozen=True)
class Order:
    """An order as the bot talks about it."""

    order_id: str
    status: str
    placed_on: dt.date
    delivery_city: str


@cache
def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: :func:`config.database_url`), with schema and demo data."""
    engine = sa.create_engine(url or config.database_url(), future=True)
    init_db(engine)
    return engine


def init_db(engine: Engine) -> None:
    """Create the schema and seed the demo orders if the table is empty."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one() == 0:
            conn.execute(
                orders.insert(),
                [{"order_id": o, "status": s, "placed_on": d, "delivery_city": c} for o, s, d, c in DEMO_ORDERS],
            )


def order_get(order_id: str, *, engine: Engine | None = None) -> Order | None:
    """Look an order up by its number; ``None`` if there is no such order."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        row = conn.execute(sa.select(orders).where(orders.c.order_id == order_id.strip())).first()
    return Order(**row._mapping) if row else None


if __name__ == "__main__":  # python -m actions.services: create and seed the database
    print(f"database ready: {get_engine().url}")
