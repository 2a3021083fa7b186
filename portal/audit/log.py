"""Reading the audit log (/admin/audit): filters, newest first, by keyset on
the id, and what each row changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.audit.models import AuditEntry
from portal.auth.models import User
from portal.core.params import bounded_date, bounded_text
from portal.extensions import db
from portal.workdays.services import local_day_start

AUDIT_PER_PAGE = 50


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        def text(name: str, limit: int) -> str:
            return bounded_text(args.get(name), limit)

        return cls(
            actor=text("actor", 254).lower(),
            action=text("action", 50),
            object_type=text("object_type", 40),
            object_id=text("object_id", 40),
            date_from=bounded_date(args.get("date_from")),
            date_to=bounded_date(args.get("date_to")),
        )

    def as_args(self) -> dict[str, str]:
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    older_cursor: int | None  # ?before=
    newer_cursor: int | None  # ?after=


def audit_page(
    filters: AuditFilters, *, before: int | None = None, after: int | None = None
) -> AuditPage:
    """Newest first, by keyset on the id: the cost does not grow with the page."""
    stmt = sa.select(AuditEntry).options(joinedload(AuditEntry.actor))
    if filters.actor:
        actor_ids = sa.select(User.id).where(
            sa.func.lower(User.email).startswith(filters.actor, autoescape=True)
        )
        stmt = stmt.where(AuditEntry.actor_id.in_(actor_ids))
    if filters.action:
        stmt = stmt.where(AuditEntry.action.startswith(filters.action, autoescape=True))
    if filters.object_type:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEntry.object_id == filters.object_id)
    if filters.date_from:
        stmt = stmt.where(AuditEntry.created_at >= local_day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(
            AuditEntry.created_at < local_day_start(filters.date_to + timedelta(days=1))
        )
    n = AUDIT_PER_PAGE
    if after is not None:
        rows = list(
            db.session.scalars(
                stmt.where(AuditEntry.id > after).order_by(AuditEntry.id).limit(n + 1)
            )
        )
        entries = list(reversed(rows[:n]))
        return AuditPage(
            entries=entries,
            older_cursor=entries[-1].id if entries else None,
            newer_cursor=entries[0].id if entries and len(rows) > n else None,
        )
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(n + 1)))
    entries = rows[:n]
    return AuditPage(
        entries=entries,
        older_cursor=entries[-1].id if len(rows) > n else None,
        newer_cursor=entries[0].id if entries and before is not None else None,
    )


def changes(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field an audit row mentions."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(before) + [k for k in after if k not in before]
    return [(key, before.get(key), after.get(key)) for key in keys]
