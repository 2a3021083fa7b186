"""Small helpers shared by the models of every area."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use portal.models_base.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> sa.Enum:
    """Stores the enum's value as a short string, the same on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def dialect_insert(model):
    """INSERT with ON CONFLICT support on SQLite and PostgreSQL alike."""
    if db.engine.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def commit_once(model, key: str, create, *, lost_race: tuple[type[Exception], ...] = ()):
    """Run `create()` (which adds a row carrying this idempotency key) and commit,
    once per form: a key seen before returns its row, and when the same form
    arrives twice at the same moment the database's unique key keeps the first.
    `lost_race` names further errors that mean "the other submit won" (e.g. a
    proposal already approved by it). This is the single commit of the view."""

    def by_key():
        return db.session.scalar(sa.select(model).where(model.idempotency_key == key))

    existing = by_key()
    if existing is not None:
        return existing
    try:
        row = create()
        db.session.commit()
    except (IntegrityError, *lost_race):
        db.session.rollback()
        row = by_key()
        if row is None:
            raise
    return row


def insert_if_absent(model, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the database,
    not a check in Python, decides whether the row is new (True) or already
    there (False), even when requests race. RETURNING tells which, on every
    driver (rowcount is not reliable for this statement)."""
    primary_key = sa.inspect(model).primary_key[0]
    stmt = dialect_insert(model).values(**values).on_conflict_do_nothing().returning(primary_key)
    return db.session.execute(stmt).first() is not None
