"""Business logic over the orders database, independent of Rasa.

Reads are *selectors* (``order_get``, ``refund_for_order``, ...), writes are
*services* run in one transaction (``order_cancel``, ``ticket_create``, ...).
The engine is created on first use (never at import), so tests and the action
server can set ``ACTIONS_DATABASE_URL`` first. Any SQLAlchemy URL works;
SQLite beside the bot is the default.

``python -m rasa_bot.actions.services [--reset]`` (``make db``) creates the
schema and seeds the demo data.
"""

from __future__ import annotations

import datetime as dt
import re
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
    sa.Column("delivery_address", sa.String(300), nullable=False, server_default=""),
    sa.Column("customer_name", sa.String(100), nullable=False, server_default=""),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("refund_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("requested_on", sa.Date, nullable=False),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("invoice_id", sa.String(32), primary_key=True),
    sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False),
    sa.Column("customer_name", sa.String(100), nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("transcript", sa.Text, nullable=False),
)

#: Demo data seeded into an empty database: (id, status, placed on, city, address, customer).
DEMO_ORDERS = [
    ("12345", "shipped", dt.date(2026, 11, 2), "Lisbon", "Rua Augusta 10, 1100-053 Lisbon", "Ana Silva"),
    ("48213", "processing", dt.date(2026, 11, 18), "Madrid", "Calle Mayor 5, 28013 Madrid", "Jones"),
    ("55120", "delivered", dt.date(2026, 10, 21), "Berlin", "Unter den Linden 1, 10117 Berlin", "Smith"),
    ("70001", "cancelled", dt.date(2026, 11, 5), "Paris", "12 Rue de Rivoli, 75001 Paris", "Jones"),
    ("80002", "processing", dt.date(2026, 11, 20), "Porto", "Rua das Flores 22, 4050-262 Porto", "Ana Silva"),
]
DEMO_REFUNDS = [
    ("55120", 4990, "approved", dt.date(2026, 10, 30)),
    ("70001", 12000, "paid", dt.date(2026, 11, 6)),
]
DEMO_INVOICES = [
    ("00108", "12345", "Ana Silva", 8950, dt.date(2026, 11, 2)),
    ("85632", "48213", "Jones", 3500, dt.date(2026, 11, 18)),
    ("12588", "55120", "Smith", 4990, dt.date(2026, 10, 21)),
]

ORDER_FIELDS = ("order_id", "status", "placed_on", "delivery_city", "delivery_address", "customer_name")
INVOICE_FIELDS = ("invoice_id", "order_id", "customer_name", "amount_cents", "issued_on")

#: Orders in these states can still be cancelled or sent elsewhere.
OPEN_STATUSES = ("processing",)
ORDER_ID_RE = re.compile(r"\b#?(\d{3,20})\b")


@dataclass(frozen=True)
class Order:
    """An order as the bot talks about it."""

    order_id: str
    status: str
    placed_on: dt.date
    delivery_city: str
    delivery_address: str = ""
    customer_name: str = ""


@dataclass(frozen=True)
class Refund:
    refund_id: int
    order_id: str
    amount: str
    status: str
    requested_on: dt.date


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    order_id: str
    customer_name: str
    amount: str
    issued_on: dt.date


class NotAllowed(Exception):
    """The request is understood but the order's state does not allow it (the message says why)."""


def find_order_id(text: str | None) -> str | None:
    """The first run of 3 to 20 digits in ``text`` (an order or invoice number), if any."""
    match = ORDER_ID_RE.search(text or "")
    return match.group(1) if match else None


# -- engine and schema ----------------------------------------------------------------
@cache
def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: :func:`config.database_url`), with schema and demo data."""
    engine = sa.create_engine(url or config.database_url(), future=True)
    init_db(engine)
    return engine


def init_db(engine: Engine, *, reset: bool = False) -> None:
    """Create the schema and seed the demo data into empty tables (``reset``: drop everything first)."""
    if reset:
        metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one() == 0:
            conn.execute(
                orders.insert(),
                [dict(zip(ORDER_FIELDS, o, strict=True)) for o in DEMO_ORDERS],
            )
            conn.execute(
                refunds.insert(),
                [
                    dict(zip(("order_id", "amount_cents", "status", "requested_on"), r, strict=True))
                    for r in DEMO_REFUNDS
                ],
            )
            conn.execute(
                invoices.insert(),
                [dict(zip(INVOICE_FIELDS, i, strict=True)) for i in DEMO_INVOICES],
            )


# -- selectors ----------------------------------------------------------------
def order_get(order_id: str, *, engine: Engine | None = None) -> Order | None:
    """Look an order up by its number; ``None`` if there is no such order."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        row = conn.execute(sa.select(orders).where(orders.c.order_id == str(order_id).strip().lstrip("#"))).first()
    return Order(**row._mapping) if row else None


def refund_for_order(order_id: str, *, engine: Engine | None = None) -> Refund | None:
    """The latest refund of an order, if any."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(refunds).where(refunds.c.order_id == str(order_id).strip()).order_by(refunds.c.refund_id.desc())
        ).first()
    return _refund(row) if row else None


def _refund(row: sa.engine.Row) -> Refund:
    m = dict(row._mapping)
    cents = m.pop("amount_cents")
    m["amount"] = f"{cents // 100}.{cents % 100:02d}"
    return Refund(**m)


def _invoice(row: sa.engine.Row) -> Invoice:
    m = dict(row._mapping)
    cents = m.pop("amount_cents")
    m["amount"] = f"{cents // 100}.{cents % 100:02d}"
    return Invoice(**m)


def invoice_get(invoice_id: str, *, engine: Engine | None = None) -> Invoice | None:
    """An invoice by its number (a leading ``#`` is ignored)."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        wanted = str(invoice_id).strip().lstrip("#")
        row = conn.execute(sa.select(invoices).where(invoices.c.invoice_id == wanted)).first()
    return _invoice(row) if row else None


def invoices_for_customer(name: str, *, engine: Engine | None = None) -> list[Invoice]:
    """Invoices whose customer name matches ``name`` (case-insensitive; 'Mr. Jones' finds 'Jones')."""
    engine = engine or get_engine()
    surname = re.sub(r"^(mr|mrs|ms|miss|dr)\.?\s+", "", name.strip(), flags=re.I)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(invoices)
            .where(sa.func.lower(invoices.c.customer_name).contains(surname.lower()))
            .order_by(invoices.c.issued_on)
        ).all()
    return [_invoice(r) for r in rows]


# -- services (writes) ----------------------------------------------------------------
def order_cancel(order_id: str, *, engine: Engine | None = None) -> Order:
    """Cancel an order that has not shipped.

    Raises:
        LookupError: no such order.
        NotAllowed: the order is already shipped, delivered or cancelled.
    """
    engine = engine or get_engine()
    with engine.begin() as conn:
        row = conn.execute(sa.select(orders).where(orders.c.order_id == order_id)).first()
        if row is None:
            raise LookupError(order_id)
        order = Order(**row._mapping)
        if order.status not in OPEN_STATUSES:
            raise NotAllowed(f"Order {order_id} is already {order.status}, so it can no longer be cancelled.")
        conn.execute(orders.update().where(orders.c.order_id == order_id).values(status="cancelled"))
    return Order(**{**order.__dict__, "status": "cancelled"})


def validate_address(address: str | None) -> str | None:
    """Why ``address`` is not a usable delivery address (``None`` if it is)."""
    text = " ".join((address or "").split())
    if len(text) < 8 or len(text) > 300:
        return "Please give the full address: street and number, postcode and city."
    if not re.search(r"\d", text) or len(re.findall(r"[^\W\d_]{2,}", text)) < 2:
        return "That doesn't look like a full address: I need the street with its number, the postcode and the city."
    return None


def order_change_address(order_id: str, address: str, *, engine: Engine | None = None) -> Order:
    """Send an order that has not shipped to another address.

    Raises:
        LookupError: no such order.
        NotAllowed: the order has shipped already, or the address is not usable.
    """
    problem = validate_address(address)
    if problem:
        raise NotAllowed(problem)
    address = " ".join(address.split())
    engine = engine or get_engine()
    with engine.begin() as conn:
        row = conn.execute(sa.select(orders).where(orders.c.order_id == order_id)).first()
        if row is None:
            raise LookupError(order_id)
        order = Order(**row._mapping)
        if order.status not in OPEN_STATUSES:
            raise NotAllowed(f"Order {order_id} is already {order.status}, so its address can no longer be changed.")
        conn.execute(orders.update().where(orders.c.order_id == order_id).values(delivery_address=address))
    return Order(**{**order.__dict__, "delivery_address": address})


def ticket_create(*, conversation_id: str, transcript: str, engine: Engine | None = None) -> int:
    """Record a hand-over to a person with the conversation so far; return the ticket number."""
    engine = engine or get_engine()
    with engine.begin() as conn:
        result = conn.execute(
            tickets.insert().values(
                conversation_id=conversation_id,
                created_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                status="open",
                transcript=transcript,
            )
        )
        return int(result.inserted_primary_key[0])


def ticket_get(ticket_id: int, *, engine: Engine | None = None) -> dict | None:
    engine = engine or get_engine()
    with engine.connect() as conn:
        row = conn.execute(sa.select(tickets).where(tickets.c.ticket_id == ticket_id)).first()
    return dict(row._mapping) if row else None


def main(argv: list[str] | None = None) -> int:
    """``make db``: create the schema and seed the demo data (``--reset`` drops the tables first)."""
    import argparse

    parser = argparse.ArgumentParser(description="Create the orders database's schema and seed its demo data.")
    parser.add_argument("--reset", action="store_true", help="drop the tables first (loses all data)")
    parser.add_argument("--url", help=f"SQLAlchemy URL (default: ${config.DATABASE_URL_ENV} or SQLite beside the bot)")
    args = parser.parse_args(argv)
    engine = sa.create_engine(args.url or config.database_url(), future=True)
    try:
        init_db(engine, reset=args.reset)
    except sa.exc.SQLAlchemyError as exc:
        print(f"error: cannot prepare the database {engine.url!r}: {exc.__class__.__name__}: {exc.orig or exc}")
        return 1
    with engine.connect() as conn:
        count = sa.select(sa.func.count())
        counts = {t.name: conn.execute(count.select_from(t)).scalar_one() for t in metadata.sorted_tables}
    print(f"database ready: {engine.url!r} " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
