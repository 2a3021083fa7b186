"""Queue e-mails in the outbox, rendered in the recipient's language."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import joinedload

from portal.auth.models import Delivery, User
from portal.extensions import db
from portal.models_base import insert_if_absent, utcnow
from portal.needs.models import Need
from portal.needs.tokens import tracking_token_for
from portal.notify.models import DigestRun, Follow, OutboxChannel, OutboxEmail
from portal.projects.models import Project, ProjectFollow, ProjectUpdate, UpdateState
from portal.workflow.models import TimelineEvent


def queue_email(
    to_address: str, template: str, locale: str, *, about: Need | None = None, **context
) -> OutboxEmail:
    """Render `templates/notify/<template>.txt` (first line is the subject) and queue it.
    `about` names the need the mail concerns, so erasing that need's contact
    can cancel it."""
    with force_locale(locale):
        text = render_template(f"notify/{template}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    mail = OutboxEmail(
        channel=OutboxChannel.EMAIL,
        to_address=to_address,
        subject=subject.strip()[:200],
        body_text=body.strip() + "\n",
        locale=locale,
        need_id=about.id if about is not None else None,
    )
    db.session.add(mail)
    return mail


def public_url(endpoint: str, **values) -> str:
    """An absolute link for e-mails, built from PUBLIC_BASE_URL so it works in
    workers and CLI commands too, not only inside a request."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def queue_submission_receipt(need: Need, tracking_token: str) -> OutboxEmail | None:
    contact = need.contact
    if contact is None or not contact.email:
        return None
    return queue_email(
        contact.email,
        "need_received",
        contact.locale,
        about=need,
        need=need,
        tracking_url=public_url("needs.track", token=tracking_token),
    )


def queue_status_update(need: Need, event: TimelineEvent) -> OutboxEmail | None:
    contact = need.contact
    if contact is None or not contact.email:
        return None
    token = tracking_token_for(need)
    return queue_email(
        contact.email,
        "need_status_changed",
        contact.locale,
        about=need,
        need=need,
        event=event,
        tracking_url=public_url("needs.track", token=token) if token else "",
    )


# --- following and what followers hear --------------------------------------


def follow(need: Need, user) -> bool:
    return insert_if_absent(Follow, user_id=user.id, need_id=need.id, created_at=utcnow())


def unfollow(need: Need, user) -> bool:
    result = db.session.execute(
        sa.delete(Follow).where(Follow.need_id == need.id, Follow.user_id == user.id)
    )
    return result.rowcount == 1


def is_following(need: Need, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            sa.select(Follow.id).where(Follow.need_id == need.id, Follow.user_id == user.id)
        )
        is not None
    )


def followed_needs(user, limit: int = 50) -> list[Need]:
    return list(
        db.session.scalars(
            sa.select(Need)
            .join(Follow, Follow.need_id == Need.id)
            .where(Follow.user_id == user.id)
            .order_by(Follow.id.desc())
            .limit(limit)
        )
    )


def updates_for(user, since=None, limit: int = 20) -> list[TimelineEvent]:
    """In-app notifications: public events on the needs this member follows,
    newest first (read from the timeline, not copied per follower)."""
    stmt = (
        sa.select(TimelineEvent)
        .join(Follow, Follow.need_id == TimelineEvent.need_id)
        .options(joinedload(TimelineEvent.need))
        .where(
            Follow.user_id == user.id,
            TimelineEvent.internal.is_(False),
            TimelineEvent.created_at >= Follow.created_at,
            TimelineEvent.move != "submit",
        )
        .order_by(TimelineEvent.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(TimelineEvent.created_at >= since)
    return list(db.session.scalars(stmt))


def notify_followers(need: Need, event: TimelineEvent) -> int:
    """E-mail the followers who asked to hear at once; the daily digest picks
    up the others. Returns how many e-mails were queued."""
    followers = db.session.scalars(
        sa.select(User)
        .join(Follow, Follow.user_id == User.id)
        .where(Follow.need_id == need.id, User.active, User.email_verified_at.is_not(None))
    )
    queued = 0
    for user in followers:
        own = need.submitter_id == user.id
        if (user.notify_own if own else user.notify_followed) != Delivery.IMMEDIATE:
            continue
        queue_email(
            user.email,
            "followed_need_changed",
            user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
            user=user,
            need=need,
            event=event,
            own=own,
            need_url=public_url("needs.show", ref=need.ref),
            settings_url=public_url("me.index") + "#notifications",
        )
        queued += 1
    return queued


def notify_project_followers(project: Project, kind: str, text: str = "") -> int:
    """E-mail the project's followers who asked to hear at once: one SELECT for
    all of them, one outbox INSERT each. The others read it on the project page
    (or in their daily digest). Returns how many e-mails were queued."""
    followers = db.session.scalars(
        sa.select(User)
        .join(ProjectFollow, ProjectFollow.user_id == User.id)
        .where(
            ProjectFollow.project_id == project.id,
            ProjectFollow.stopped_at.is_(None),
            User.active,
            User.email_verified_at.is_not(None),
            User.notify_followed == Delivery.IMMEDIATE,
        )
        .order_by(User.id)
    ).all()
    if not followers:
        return 0
    project_url = public_url("projects.show", project_id=project.id)
    settings_url = public_url("me.index") + "#notifications"
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    for user in followers:
        queue_email(
            user.email,
            "project_update",
            user.locale or default_locale,
            user=user,
            project=project,
            kind=kind,
            text=text,
            project_url=project_url,
            settings_url=settings_url,
        )
    return len(followers)


#: At most this many need events and project updates per member in one digest.
DIGEST_LIMIT = 100


def _ranked(stmt, user_column, order_column, limit: int):
    """The newest `limit` rows per member of a SELECT (a window function, so
    one query serves a whole batch of members)."""
    rank = sa.func.row_number().over(partition_by=user_column, order_by=order_column.desc())
    inner = stmt.add_columns(rank.label("rank")).subquery()
    return inner, inner.c.rank <= limit


def _digest_since(now):
    return sa.func.coalesce(User.last_digest_at, now - timedelta(days=1))


def _need_events_for(user_ids: list[int], now) -> dict[int, list[TimelineEvent]]:
    """What changed on the followed needs since each member's last digest, for a
    batch of members in one query (as updates_for, oldest first)."""
    stmt = (
        sa.select(Follow.user_id.label("user_id"), TimelineEvent.id.label("event_id"))
        .join(Follow, Follow.need_id == TimelineEvent.need_id)
        .join(User, User.id == Follow.user_id)
        .where(
            Follow.user_id.in_(user_ids),
            TimelineEvent.internal.is_(False),
            TimelineEvent.created_at >= Follow.created_at,
            TimelineEvent.created_at >= _digest_since(now),
            TimelineEvent.move != "submit",
        )
    )
    inner, keep = _ranked(stmt, Follow.user_id, TimelineEvent.id, DIGEST_LIMIT)
    rows = db.session.execute(
        sa.select(inner.c.user_id, TimelineEvent)
        .join(TimelineEvent, TimelineEvent.id == inner.c.event_id)
        .options(joinedload(TimelineEvent.need))
        .where(keep)
        .order_by(inner.c.user_id, TimelineEvent.id)
    ).all()
    events: dict[int, list[TimelineEvent]] = {}
    for user_id, event in rows:
        events.setdefault(user_id, []).append(event)
    return events


def _project_updates_for(user_ids: list[int], now) -> dict[int, list[tuple]]:
    """The updates published on the projects each member follows (and did not
    stop following) since the last digest, as (update, project) pairs, oldest
    first: one query for a batch of members."""
    # A held update counts from its approval, when the public first read it.
    published_on = sa.func.coalesce(ProjectUpdate.moderated_at, ProjectUpdate.created_at)
    stmt = (
        sa.select(ProjectFollow.user_id.label("user_id"), ProjectUpdate.id.label("update_id"))
        .join(ProjectFollow, ProjectFollow.project_id == ProjectUpdate.project_id)
        .join(User, User.id == ProjectFollow.user_id)
        .where(
            ProjectFollow.user_id.in_(user_ids),
            ProjectFollow.stopped_at.is_(None),
            User.notify_followed == Delivery.DAILY,
            ProjectUpdate.state == UpdateState.PUBLISHED,
            published_on >= ProjectFollow.created_at,
            published_on >= _digest_since(now),
        )
    )
    inner, keep = _ranked(stmt, ProjectFollow.user_id, ProjectUpdate.id, DIGEST_LIMIT)
    rows = db.session.execute(
        sa.select(inner.c.user_id, ProjectUpdate, Project)
        .join(ProjectUpdate, ProjectUpdate.id == inner.c.update_id)
        .join(Project, Project.id == ProjectUpdate.project_id)
        .where(keep)
        .order_by(inner.c.user_id, ProjectUpdate.id)
    ).all()
    updates: dict[int, list[tuple]] = {}
    for user_id, update, project in rows:
        updates.setdefault(user_id, []).append((update, project))
    return updates


def send_digests(now=None) -> int:
    """One e-mail per member per day with what changed on the needs they follow
    (for the kinds they set to the daily digest) and the updates on the projects
    they follow (when followed things come daily). Safe to run again: a member
    who already had today's digest is skipped. Per batch of members: three
    SELECTs, then the writes of each digest sent."""
    now = now or utcnow()
    today = now.date()
    sent = 0
    last_id = 0
    while True:
        users = list(
            db.session.scalars(
                sa.select(User)
                .where(
                    User.id > last_id,
                    User.active,
                    User.email_verified_at.is_not(None),
                    sa.or_(
                        User.notify_own == Delivery.DAILY, User.notify_followed == Delivery.DAILY
                    ),
                )
                .order_by(User.id)
                .limit(200)
            )
        )
        if not users:
            return sent
        last_id = users[-1].id
        ids = [user.id for user in users]
        need_events = _need_events_for(ids, now)
        project_updates = _project_updates_for(ids, now)
        for user in users:
            events = [
                e
                for e in need_events.get(user.id, [])
                if (user.notify_own if e.need.submitter_id == user.id else user.notify_followed)
                == Delivery.DAILY
            ]
            updates = project_updates.get(user.id, [])
            if not events and not updates:
                continue
            if not insert_if_absent(DigestRun, user_id=user.id, day=today, created_at=now):
                continue
            queue_email(
                user.email,
                "daily_digest",
                user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
                user=user,
                events=events,
                project_updates=updates,
                settings_url=public_url("me.index") + "#notifications",
                need_url=lambda need: public_url("needs.show", ref=need.ref),
                project_url=lambda project: public_url("projects.show", project_id=project.id),
            )
            user.last_digest_at = now
            sent += 1
        db.session.commit()
