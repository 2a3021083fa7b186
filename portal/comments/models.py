"""Comments by members on needs and projects, and the reports that send a
comment to the moderators. The text as written is always kept: hiding a
comment only stops showing it to the public."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow

REPORTS_TO_HIDE = 3


class CommentState(enum.StrEnum):
    VISIBLE = "visible"
    HELD = "held"  # waiting for a moderator: held by reports, or when posted
    HIDDEN = "hidden"  # a moderator hid it (reason kept)

    @property
    def label(self) -> str:
        return str(COMMENT_STATE_LABELS[self])


COMMENT_STATE_LABELS = {
    CommentState.VISIBLE: _l("Visible"),
    CommentState.HELD: _l("Held for review"),
    CommentState.HIDDEN: _l("Hidden by a moderator"),
}


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int | None] = mapped_column(sa.ForeignKey("needs.id"))
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)  # plain text as written; links made at display
    state: Mapped[CommentState] = mapped_column(
        enum_column(CommentState), default=CommentState.VISIBLE
    )
    report_count: Mapped[int] = mapped_column(default=0)
    # A moderator's decision stands: once restored, reports no longer hide it by themselves.
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    moderation_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # Why it was held when posted (portal.moderation Screening.reasons()): a
    # listed term, too many links, pre-moderation. Empty when it was published
    # at once; kept after a decision, for the record.
    held_for: Mapped[list] = mapped_column(sa.JSON, default=list)
    # One comment per form render, so a double submit does not post twice.
    client_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("(need_id IS NULL) <> (project_id IS NULL)", name="one_target"),
        sa.UniqueConstraint("author_id", "client_token", name="uq_comments_author_token"),
        sa.Index("ix_comments_need_state_id", "need_id", "state", "id"),
        sa.Index("ix_comments_project_state_id", "project_id", "state", "id"),
        sa.Index("ix_comments_state_reports", "state", "report_count"),
    )

    @property
    def awaits_approval(self) -> bool:
        """Held when posted and not decided yet: a moderator approves or rejects it."""
        return self.state == CommentState.HELD and bool(self.held_for)


class CommentReport(db.Model):
    """One report per member per comment (a unique constraint, not a check)."""

    __tablename__ = "comment_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("comment_id", "reporter_id", name="uq_comment_reports_comment_user"),
    )
