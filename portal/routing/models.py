from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.areas.models import Area
from portal.categories.models import Category
from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.partners.models import Organisation


class RoutingRule(db.Model):
    """ "Needs of this category (or any) in this area or under it (or anywhere)
    go to this organisation." The most specific matching rule wins (see
    `portal.routing.services.best_rule`); the category's default partner is
    the fallback when none matches."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The admins' order: among equally specific rules, the first one wins.
    position: Mapped[int] = mapped_column(default=0)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category | None] = relationship()
    area: Mapped[Area | None] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.UniqueConstraint(
            "category_id", "area_id", "organisation_id", name="uq_routing_rules_what"
        ),
        sa.Index("ix_routing_rules_position", "position", "id"),
    )
