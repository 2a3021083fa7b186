"""Categories (Open311 services): what a need is about, who handles it by
default and in how many working days; and the extra questions a category asks
(Open311 service attributes) with the answers given to them."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow
from portal.partners.models import Organisation, pick_language


class Category(db.Model):
    """A kind of need; Open311 calls these services."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    response_sla_days: Mapped[int] = mapped_column(default=3)
    resolution_sla_days: Mapped[int] = mapped_column(default=15)
    default_partner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    default_partner: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("response_sla_days > 0", name="response_sla_positive"),
        sa.CheckConstraint("resolution_sla_days > 0", name="resolution_sla_positive"),
    )

    @property
    def name(self) -> str:
        return pick_language(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return pick_language(self.description_zh, self.description_en)


class QuestionKind(enum.StrEnum):
    """Open311 attribute datatypes the portal offers."""

    TEXT = "text"
    NUMBER = "number"
    SINGLE = "singlevaluelist"
    MULTIPLE = "multivaluelist"

    @property
    def label(self) -> str:
        return str(QUESTION_KIND_LABELS[self])


QUESTION_KIND_LABELS = {
    QuestionKind.TEXT: _l("Text"),
    QuestionKind.NUMBER: _l("Number"),
    QuestionKind.SINGLE: _l("One choice"),
    QuestionKind.MULTIPLE: _l("Several choices"),
}


class CategoryQuestion(db.Model):
    """An extra question a category asks (an Open311 service attribute), on the
    web form and through the API. `choices` is a list of
    {"key": str, "name_zh": str, "name_en": str} for the list kinds."""

    __tablename__ = "category_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, 20))
    prompt_zh: Mapped[str] = mapped_column(sa.String(200))
    prompt_en: Mapped[str] = mapped_column(sa.String(200), default="")
    help_zh: Mapped[str] = mapped_column(sa.String(300), default="")
    help_en: Mapped[str] = mapped_column(sa.String(300), default="")
    required: Mapped[bool] = mapped_column(default=False)
    choices: Mapped[list] = mapped_column(sa.JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("category_id", "code", name="uq_category_questions_category_code"),
        sa.Index("ix_category_questions_category_position", "category_id", "position"),
    )

    @property
    def prompt(self) -> str:
        return pick_language(self.prompt_zh, self.prompt_en)

    @property
    def help(self) -> str:
        return pick_language(self.help_zh, self.help_en)


class NeedAnswer(db.Model):
    """One answer to a category question (several rows for several choices)."""

    __tablename__ = "need_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("category_questions.id"))
    value: Mapped[str] = mapped_column(sa.Text)

    question: Mapped[CategoryQuestion] = relationship()
