from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import enum_column


class DayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # a weekday off
    WORKDAY = "workday"  # a weekend day worked (调休上班)

    @property
    def label(self) -> str:
        return str(DAY_LABELS[self])


#: Lazy, so each request sees its own language.
DAY_LABELS = {DayKind.HOLIDAY: _l("Holiday"), DayKind.WORKDAY: _l("Make-up working day")}


class CalendarDay(db.Model):
    """An exception to the Monday–Friday week, as in the official schedule."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[DayKind] = mapped_column(enum_column(DayKind))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
