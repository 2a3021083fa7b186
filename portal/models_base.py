"""Small helpers shared by the models of every area."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa


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


def insert_if_absent(model, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the database,
    not a check in Python, decides whether the row is new (True) or already
    there (False), even when requests race. RETURNING tells which, on every
    driver (rowcount is not reliable for this statement)."""
    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    primary_key = sa.inspect(model).primary_key[0]
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(primary_key)
    return db.session.execute(stmt).first() is not None
