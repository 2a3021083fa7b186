"""The portal-wide settings admins change on /admin/settings, as rows (so every
app server sees a change at once); read and written through portal/core/settings.py."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class Setting(db.Model):
    """A portal-wide setting changed by admins (e.g. route on publish)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200), default="")
