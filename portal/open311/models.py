"""Open311 GeoReport v2: API keys issued by admins, the extra questions a
category asks (service attributes), their answers, and the tokens given for
requests that wait for moderation."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow
from portal.partners.models import pick_language


class ApiKey(db.Model):
    """A key for a client system. Only its SHA-256 hash is stored; the key is
    shown once when issued. Revoked keys stay for the audit trail."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown to tell keys apart
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    rate_limit: Mapped[str] = mapped_column(sa.String(100), default="100 per hour")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: From the issue form, so a double submit issues one key.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(32), unique=True)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


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


class RequestToken(db.Model):
    """Given to an Open311 client instead of an id while the request waits for
    moderation; `tokens/<token>` tells the service_request_id once published."""

    __tablename__ = "open311_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
