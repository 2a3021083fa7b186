from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow


class OrganisationKind(enum.StrEnum):
    UNION = "union"
    YOUTH_LEAGUE = "youth_league"
    WOMENS_FEDERATION = "womens_federation"
    SCIENCE_ASSOCIATION = "science_association"
    COMPANY = "company"
    UNIVERSITY = "university"
    NGO = "ngo"
    GOVERNMENT = "government"
    COMMUNITY = "community"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    OrganisationKind.UNION: _l("Trade union"),
    OrganisationKind.YOUTH_LEAGUE: _l("Youth league"),
    OrganisationKind.WOMENS_FEDERATION: _l("Women's federation"),
    OrganisationKind.SCIENCE_ASSOCIATION: _l("Science association"),
    OrganisationKind.COMPANY: _l("Company"),
    OrganisationKind.UNIVERSITY: _l("University"),
    OrganisationKind.NGO: _l("NGO"),
    OrganisationKind.GOVERNMENT: _l("Government department"),
    OrganisationKind.COMMUNITY: _l("Community"),
    OrganisationKind.OTHER: _l("Other"),
}


def pick_language(zh: str, en: str) -> str:
    """The text in the reader's language, falling back to the other one."""
    locale = get_locale()
    if locale is not None and locale.language == "en":
        return en or zh
    return zh or en


class Organisation(db.Model):
    """A partner organisation that needs are routed to."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, 30))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return pick_language(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return pick_language(self.description_zh, self.description_en)
