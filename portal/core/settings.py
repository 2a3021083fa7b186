"""Portal-wide settings that admins change at run time (stored in the database)."""

from __future__ import annotations

import sqlalchemy as sa

from portal.core.models import Setting
from portal.extensions import db

#: When on, publishing a need routes it at once to its category's default partner.
ROUTE_ON_PUBLISH = "route_on_publish"
#: Working days after a missed due date before a need is escalated to admins.
ESCALATE_AFTER_DAYS = "escalate_after_days"
#: Content safety (portal.moderation): hold every comment until approved;
#: links allowed in one text; approved contributions before a member may link.
COMMENT_PREMODERATION = "comment_premoderation"
LINKS_PER_TEXT = "links_per_text"
LINKS_MIN_CONTRIBUTIONS = "links_min_contributions"

#: The day (ISO date, local time) from which staff must use two-factor sign-in:
#: from then on a staff member without it is sent to set it up at login. Empty:
#: not required yet (staff are asked to set it up, and may).
STAFF_TWO_FACTOR_FROM = "staff_two_factor_from"

DEFAULTS = {
    ROUTE_ON_PUBLISH: "0",
    ESCALATE_AFTER_DAYS: "3",
    COMMENT_PREMODERATION: "0",
    LINKS_PER_TEXT: "2",
    LINKS_MIN_CONTRIBUTIONS: "3",
    STAFF_TWO_FACTOR_FROM: "",
}


def get_setting(key: str) -> str:
    row = db.session.get(Setting, key)
    return row.value if row is not None else DEFAULTS.get(key, "")


def get_flag(key: str) -> bool:
    return get_setting(key) == "1"


def get_int(key: str) -> int:
    try:
        return int(get_setting(key))
    except ValueError:
        return int(DEFAULTS[key])


def get_settings(*keys: str) -> dict[str, str]:
    """Several settings in one query (a screening reads four on every post)."""
    values = {key: DEFAULTS.get(key, "") for key in keys}
    rows = db.session.execute(sa.select(Setting.key, Setting.value).where(Setting.key.in_(keys)))
    values.update({key: value for key, value in rows})
    return values


def int_value(values: dict[str, str], key: str) -> int:
    try:
        return int(values[key])
    except (KeyError, ValueError):
        return int(DEFAULTS[key])


def set_setting(key: str, value: str, actor) -> None:
    from portal.audit.services import record

    row = db.session.get(Setting, key)
    before = row.value if row is not None else DEFAULTS.get(key, "")
    if row is None:
        row = Setting(key=key, value=value)
        db.session.add(row)
    else:
        row.value = value
    record(actor, "setting.change", row, before={key: before}, after={key: value})
