"""Writing the audit log: one row per admin or partner action."""

from __future__ import annotations

from flask import has_request_context, request

from portal.audit.models import AuditEntry
from portal.extensions import db


def _jsonable(values: dict | None) -> dict:
    out = {}
    for key, value in (values or {}).items():
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = str(value)
    return out


def apply_changes(obj, values: dict) -> tuple[dict, dict]:
    """Set the values that differ; return what they were and what they are now
    (the `before` and `after` of the audit row)."""
    before, after = {}, {}
    for key, value in values.items():
        old = getattr(obj, key)
        if old != value:
            before[key] = old
            after[key] = value
            setattr(obj, key, value)
    return before, after


def record(
    actor,
    action: str,
    obj,
    *,
    before: dict | None = None,
    after: dict | None = None,
    actor_role: str | None = None,
) -> AuditEntry:
    """Append an audit row in the caller's transaction."""
    object_type = getattr(obj, "__tablename__", type(obj).__name__)
    object_id = next(
        (getattr(obj, name) for name in ("ref", "id", "key", "day") if getattr(obj, name, None)),
        "",
    )
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_role=actor_role or (actor.role.value if actor is not None else "system"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
        client_address=(request.remote_addr or "")[:64] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
