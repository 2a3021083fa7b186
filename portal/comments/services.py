"""Comments: posting (plain text, links made safe at display), reporting
(the third report holds a comment until a moderator decides) and moderation
(hide, restore, with the reason audited). The text as written is kept."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.auth.models import User
from portal.comments.forms import CommentForm, ReportForm
from portal.comments.models import REPORTS_TO_HIDE, Comment, CommentReport, CommentState
from portal.core.params import page_number
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import insert_if_absent, utcnow
from portal.moderation.services import screen
from portal.needs.models import Need
from portal.projects.models import Project

#: A thread shows at most this many comments; older ones are one link away.
THREAD_SIZE = 200
MODERATION_PER_PAGE = 30
MODERATION_MAX_PAGE = 100


class CommentError(DomainError):
    """A refusal the user should read (translated)."""


# --- display ------------------------------------------------------------------

# http(s) only: any other scheme (javascript:, data:) stays plain text. A URL
# ends at white space, quotes, angle brackets or CJK punctuation and full-width
# forms (Chinese text often runs straight on after a link).
_URL = re.compile(r"""https?://[^\s<>"'\u3000-\u303f\uff00-\uffef]+""", re.IGNORECASE)
_TRAILING = ".,;:!?*'"


def _split_trailing(url: str) -> tuple[str, str]:
    """Keep sentence punctuation (and an unbalanced closing bracket) out of the link."""
    tail = ""
    while url:
        last = url[-1]
        if last in _TRAILING or (last == ")" and url.count("(") < url.count(")")):
            tail = last + tail
            url = url[:-1]
        else:
            break
    return url, tail


def linkify(text: str | None) -> Markup:
    """Escape the text, then turn its http(s) URLs into links. Every piece,
    link or not, goes through `escape`, so nothing the author typed runs."""
    text = text or ""
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url, tail = _split_trailing(match.group(0))
        if len(url) <= len("https://"):
            continue
        out.append(escape(text[position : match.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow ugc noopener">{0}</a>').format(url))
        out.append(escape(tail))
        position = match.end()
    out.append(escape(text[position:]))
    return Markup("").join(out)


# --- the thread on a need or project page ------------------------------------


@dataclass
class Thread:
    """What a need or project page shows under "Comments"."""

    comments: list[Comment] = field(default_factory=list)
    reported_ids: set[int] = field(default_factory=set)  # what the viewer already reported
    need: Need | None = None
    project: Project | None = None
    viewer: User | None = None
    form: CommentForm | None = None  # the comment form, when the viewer may comment
    report_form: ReportForm | None = None
    can_comment: bool = False
    older_cursor: int | None = None  # pass as ?before= for the older comments
    before: int | None = None  # this page shows comments older than this id
    notice: str = ""  # said after posting (htmx answers with the thread)

    @property
    def anchor(self) -> str:
        return "comments"


def new_client_token() -> str:
    return secrets.token_urlsafe(16)


def fresh_comment_form() -> CommentForm:
    return CommentForm(formdata=None, data={"client_token": new_client_token()})


def may_comment(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_verified and user.active


def target_is_open(*, need: Need | None = None, project: Project | None = None) -> bool:
    """Comments go on public listed needs and on projects (every project is public)."""
    if need is not None:
        return bool(need.is_listed)
    return project is not None


def _target_filter(need: Need | None, project: Project | None):
    if need is not None:
        return Comment.need_id == need.id
    if project is not None:
        return Comment.project_id == project.id
    raise ValueError("a comment thread needs a need or a project")


def _shown_to(user: User | None):
    """Visible comments; the author also sees their own held comment (marked)."""
    if user is not None and getattr(user, "id", None) is not None:
        return sa.or_(
            Comment.state == CommentState.VISIBLE,
            sa.and_(Comment.state == CommentState.HELD, Comment.author_id == user.id),
        )
    return Comment.state == CommentState.VISIBLE


def thread_for(
    *,
    need=None,
    project=None,
    user=None,
    before: int | None = None,
    form: CommentForm | None = None,
) -> Thread:
    """The newest THREAD_SIZE comments shown on a need or a project (older
    than `before` when given), oldest first: two queries whatever the size
    (comments with their authors, then which of them the viewer reported)."""
    user = user if user is not None and getattr(user, "is_authenticated", False) else None
    stmt = (
        sa.select(Comment)
        .options(joinedload(Comment.author))
        .where(_target_filter(need, project), _shown_to(user))
    )
    if before is not None:
        stmt = stmt.where(Comment.id < before)
    rows = list(db.session.scalars(stmt.order_by(Comment.id.desc()).limit(THREAD_SIZE + 1)))
    comments = list(reversed(rows[:THREAD_SIZE]))
    can_comment = may_comment(user) and target_is_open(need=need, project=project)
    return Thread(
        comments=comments,
        reported_ids=reported_by(user, comments),
        need=need,
        project=project,
        viewer=user,
        form=(form or fresh_comment_form()) if can_comment else None,
        report_form=ReportForm(formdata=None) if user is not None else None,
        can_comment=can_comment,
        older_cursor=comments[0].id if len(rows) > THREAD_SIZE else None,
        before=before,
    )


def reported_by(user: User | None, comments: list[Comment]) -> set[int]:
    if user is None or not comments:
        return set()
    stmt = sa.select(CommentReport.comment_id).where(
        CommentReport.reporter_id == user.id,
        CommentReport.comment_id.in_([c.id for c in comments]),
    )
    return set(db.session.scalars(stmt))


# --- posting ------------------------------------------------------------------


def comment_by_token(author: User, client_token: str) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).where(
            Comment.author_id == author.id, Comment.client_token == client_token
        )
    )


def post_comment(
    author: User,
    body: str,
    client_token: str,
    *,
    need: Need | None = None,
    project: Project | None = None,
) -> tuple[Comment, bool]:
    """Add a comment; returns it and whether it is new. The same form sent
    twice (same author and client token) gives back the first comment: the
    database's unique key decides, even when both requests race. A comment
    the screening holds (a listed term, too many links, pre-moderation) is
    stored held, with the reasons: only its author sees it until a moderator
    approves it."""
    if not may_comment(author):
        raise CommentError(_("Confirm your e-mail address to comment."))
    if not target_is_open(need=need, project=project):
        raise CommentError(_("Comments are closed here."))
    screening = screen(body, author, comment=True)
    created = insert_if_absent(
        Comment,
        need_id=need.id if need is not None else None,
        project_id=project.id if project is not None else None,
        author_id=author.id,
        body=body,
        client_token=client_token,
        state=CommentState.HELD if screening.held else CommentState.VISIBLE,
        held_for=screening.reasons(),
        report_count=0,
        moderation_reason="",
        created_at=utcnow(),
    )
    comment = comment_by_token(author, client_token)
    if comment is None:  # pragma: no cover — the row was just inserted or found
        raise CommentError(_("The comment could not be saved. Please try again."))
    return comment, created


# --- reporting ----------------------------------------------------------------


class ReportOutcome(StrEnum):
    REPORTED = "reported"
    HELD = "held"  # this report was the one that held the comment
    ALREADY_REPORTED = "already_reported"


def public_comment(comment_id: int) -> Comment | None:
    """A comment the public could see (or that waits for a moderator), on a
    need or project that is itself public; None otherwise."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.state == CommentState.HIDDEN:
        return None
    if comment.need_id is not None:
        need = db.session.get(Need, comment.need_id)
        return comment if need is not None and need.is_listed else None
    return comment


def report_comment(comment: Comment, reporter: User, reason: str = "") -> ReportOutcome:
    """Record one report per member; the count and the hold happen in SQL so
    simultaneous reports count exactly and the third one holds the comment,
    unless a moderator already decided on it. A held comment still takes
    reports: the moderator sees them all."""
    if comment.author_id == reporter.id:
        raise CommentError(_("You cannot report your own comment."))
    if comment.state == CommentState.HIDDEN:
        raise CommentError(_("This comment was removed by a moderator."))
    inserted = insert_if_absent(
        CommentReport,
        comment_id=comment.id,
        reporter_id=reporter.id,
        reason=reason or "",
        created_at=utcnow(),
    )
    if not inserted:
        return ReportOutcome.ALREADY_REPORTED
    hold = sa.and_(
        Comment.state == CommentState.VISIBLE,
        Comment.moderated_at.is_(None),
        Comment.report_count + 1 >= REPORTS_TO_HIDE,
    )
    state = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment.id)
        .values(
            report_count=Comment.report_count + 1,
            state=sa.case(
                (hold, sa.literal(CommentState.HELD, Comment.__table__.c.state.type)),
                else_=Comment.state,
            ),
        )
        .returning(Comment.state)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    db.session.expire(comment, ["report_count", "state"])
    return (
        ReportOutcome.HELD if CommentState(state) == CommentState.HELD else ReportOutcome.REPORTED
    )


# --- moderation ---------------------------------------------------------------


@dataclass
class ModerationItem:
    comment: Comment
    need: Need | None
    project: Project | None
    reports: list[CommentReport]
    reporters: dict[int, User]


@dataclass
class ModerationPage:
    items: list[ModerationItem]
    page: int
    has_next: bool


def bounded_page(value: str | None) -> int:
    return page_number(value, MODERATION_MAX_PAGE)


def _waiting_for_moderation():
    """Held comments, and visible ones reported since a moderator last looked
    (a restored comment drops off the list until someone reports it again)."""
    reported_since = (
        sa.select(CommentReport.id)
        .where(
            CommentReport.comment_id == Comment.id,
            CommentReport.created_at > Comment.moderated_at,
        )
        .exists()
    )
    return sa.or_(
        Comment.state == CommentState.HELD,
        sa.and_(
            Comment.state == CommentState.VISIBLE,
            Comment.report_count > 0,
            sa.or_(Comment.moderated_at.is_(None), reported_since),
        ),
    )


def moderation_queue(page: int = 1) -> ModerationPage:
    """Held first, then the most reported; four queries per page whatever its
    length (comments with authors, their needs, projects, reports with reporters)."""
    held_first = sa.case((Comment.state == CommentState.HELD, 0), else_=1)
    stmt = (
        sa.select(Comment)
        .options(joinedload(Comment.author))
        .where(_waiting_for_moderation())
        .order_by(held_first, Comment.report_count.desc(), Comment.id.desc())
        .limit(MODERATION_PER_PAGE + 1)
        .offset((page - 1) * MODERATION_PER_PAGE)
    )
    rows = list(db.session.scalars(stmt))
    comments = rows[:MODERATION_PER_PAGE]
    return ModerationPage(
        items=moderation_items(comments), page=page, has_next=len(rows) > MODERATION_PER_PAGE
    )


def moderation_items(comments: list[Comment]) -> list[ModerationItem]:
    need_ids = {c.need_id for c in comments if c.need_id is not None}
    project_ids = {c.project_id for c in comments if c.project_id is not None}
    needs = (
        {n.id: n for n in db.session.scalars(sa.select(Need).where(Need.id.in_(need_ids)))}
        if need_ids
        else {}
    )
    projects = (
        {p.id: p for p in db.session.scalars(sa.select(Project).where(Project.id.in_(project_ids)))}
        if project_ids
        else {}
    )
    reports: dict[int, list[CommentReport]] = {c.id: [] for c in comments}
    reporters: dict[int, User] = {}
    if comments:
        rows = db.session.execute(
            sa.select(CommentReport, User)
            .join(User, User.id == CommentReport.reporter_id)
            .where(CommentReport.comment_id.in_([c.id for c in comments]))
            .order_by(CommentReport.id)
        )
        for report, reporter in rows:
            reports[report.comment_id].append(report)
            reporters[reporter.id] = reporter
    return [
        ModerationItem(
            comment=c,
            need=needs.get(c.need_id),
            project=projects.get(c.project_id),
            reports=reports[c.id],
            reporters=reporters,
        )
        for c in comments
    ]


def get_comment(comment_id: int) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).options(joinedload(Comment.author)).where(Comment.id == comment_id)
    )


def _moderation_state(comment: Comment) -> dict:
    return {
        "state": comment.state.value,
        "report_count": comment.report_count,
        "moderation_reason": comment.moderation_reason,
        "moderated_at": comment.moderated_at,
        "held_for": json.dumps(comment.held_for or [], ensure_ascii=False),
    }


def _decide(comment: Comment, actor: User, state: CommentState, reason: str, action: str) -> None:
    before = _moderation_state(comment)
    comment.state = state
    comment.moderated_at = utcnow()
    comment.moderated_by_id = actor.id
    comment.moderation_reason = reason
    db.session.flush()
    record(actor, action, comment, before=before, after=_moderation_state(comment))


def hide_comment(comment: Comment, actor: User, reason: str) -> None:
    """Hide for everyone; the text stays in the database with the reason.
    Rejecting a comment held when posted needs no reason: the hold says why."""
    if comment.awaits_approval:
        _decide(comment, actor, CommentState.HIDDEN, reason, "comment.reject")
        return
    if not reason.strip():
        raise CommentError(_("Please give the reason for hiding this comment."))
    _decide(comment, actor, CommentState.HIDDEN, reason, "comment.hide")


def restore_comment(comment: Comment, actor: User, reason: str = "") -> None:
    """Show again (or, held when posted, publish); the decision stands, so
    later reports alone no longer hold it."""
    action = "comment.approve" if comment.awaits_approval else "comment.restore"
    _decide(comment, actor, CommentState.VISIBLE, reason, action)
