"""Portal-wide settings that admins change at run time (stored in the database):
their keys and defaults, reading them, and the rules of the settings page
(/admin/settings, portal/core/admin.py). Every change is one audit row;
nothing here commits (the view commits once)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.core.models import Setting
from portal.domain import DomainError
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

#: The bounds the settings page keeps to.
ESCALATE_RANGE = (1, 30)


class SettingsError(DomainError):
    """A rule of the settings refused the change."""


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
    row = db.session.get(Setting, key)
    before = row.value if row is not None else DEFAULTS.get(key, "")
    if row is None:
        row = Setting(key=key, value=value)
        db.session.add(row)
    else:
        row.value = value
    record(actor, "setting.change", row, before={key: before}, after={key: value})


# --- the settings page -------------------------------------------------------------


def current_settings() -> dict:
    return {
        "route_on_publish": get_flag(ROUTE_ON_PUBLISH),
        "escalate_after_days": get_int(ESCALATE_AFTER_DAYS),
        "comment_premoderation": get_flag(COMMENT_PREMODERATION),
        "links_per_text": get_int(LINKS_PER_TEXT),
        "links_min_contributions": get_int(LINKS_MIN_CONTRIBUTIONS),
    }


#: Content-safety settings: (key, lowest, highest).
CONTENT_RANGES = {
    "links_per_text": (LINKS_PER_TEXT, 0, 20),
    "links_min_contributions": (LINKS_MIN_CONTRIBUTIONS, 0, 100),
}


def save_settings(
    route_on_publish: bool,
    escalate_after_days: int,
    actor,
    *,
    comment_premoderation: bool | None = None,
    links_per_text: int | None = None,
    links_min_contributions: int | None = None,
) -> int:
    """How many settings changed; each change is one audit row (set_setting).
    A content-safety value given as None stays as it is."""
    low, high = ESCALATE_RANGE
    if not low <= escalate_after_days <= high:
        raise SettingsError(
            _("Between %(min)s and %(max)s days.", min=low, max=high), "escalate_after_days"
        )
    numbers = {"links_per_text": links_per_text, "links_min_contributions": links_min_contributions}
    for name, value in numbers.items():
        key, lowest, highest = CONTENT_RANGES[name]
        if value is not None and not lowest <= value <= highest:
            raise SettingsError(_("Between %(min)s and %(max)s.", min=lowest, max=highest), name)
    changed = 0
    if get_flag(ROUTE_ON_PUBLISH) != route_on_publish:
        set_setting(ROUTE_ON_PUBLISH, "1" if route_on_publish else "0", actor)
        changed += 1
    if get_int(ESCALATE_AFTER_DAYS) != escalate_after_days:
        set_setting(ESCALATE_AFTER_DAYS, str(escalate_after_days), actor)
        changed += 1
    if comment_premoderation is not None and get_flag(COMMENT_PREMODERATION) != (
        comment_premoderation
    ):
        set_setting(COMMENT_PREMODERATION, "1" if comment_premoderation else "0", actor)
        changed += 1
    for name, value in numbers.items():
        key = CONTENT_RANGES[name][0]
        if value is not None and get_int(key) != value:
            set_setting(key, str(value), actor)
            changed += 1
    db.session.flush()
    return changed
