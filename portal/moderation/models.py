"""The sensitive-term list that admins keep."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow

TERM_MAX = 100


class TermKind(enum.StrEnum):
    """What a match does. Only holding exists today: a refusal would tell a
    spammer which word to change, and a hold costs the honest writer little."""

    HOLD = "hold"

    @property
    def label(self) -> str:
        return str(TERM_KIND_LABELS[self])


TERM_KIND_LABELS = {TermKind.HOLD: _l("Hold for moderation")}


class SensitiveTerm(db.Model):
    __tablename__ = "sensitive_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(TERM_MAX))  # as the admin wrote it
    # The folded letters and digits (portal.moderation.matching.term_key): two
    # spellings of one term ("加V", "加ｖ", "加 v") are one row.
    key: Mapped[str] = mapped_column(sa.String(TERM_MAX), unique=True)
    kind: Mapped[TermKind] = mapped_column(enum_column(TermKind), default=TermKind.HOLD)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
