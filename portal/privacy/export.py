"""A member's own data, as one ZIP: `my-data.json` and the photos they sent.

The JSON is read with one query per section, whatever the amount. The ZIP is
streamed: it is written entry by entry into a small buffer that is handed to
the server as it fills, and the photo files are copied in 64 KiB pieces, so a
member with many photos never makes the worker hold them all in memory."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.categories.models import NeedAnswer
from portal.comments.models import Comment
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.models_base import utcnow
from portal.needs.models import Need
from portal.notify.models import Follow
from portal.photos import storage
from portal.photos.models import Photo
from portal.projects.models import Project, ProjectFollow, ProjectProposal
from portal.voting.models import PriorityRound, RoundItem, RoundVote, Support
from portal.workflow.models import TimelineEvent

CHUNK = 64 * 1024
FORMAT_VERSION = 1


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


def _need_ref(need: Need) -> dict:
    return {"reference": need.ref, "title": need.title}


@dataclass
class PhotoFile:
    name: str  # inside the ZIP
    path: Path


@dataclass
class MemberExport:
    data: dict
    photos: list[PhotoFile]


def _account(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role.value,
        "organisation": user.organisation.name if user.organisation else None,
        "language": user.locale,
        "created_at": _time(user.created_at),
        "email_confirmed_at": _time(user.email_verified_at),
        "privacy_notice_version_agreed": user.consent_notice_version,
        "privacy_notice_agreed_at": _time(user.consent_at),
        "email_about_my_needs": user.notify_own.value,
        "email_about_needs_i_follow": user.notify_followed.value,
    }


def _submissions(user: User) -> tuple[list[dict], list[PhotoFile]]:
    needs = list(
        db.session.scalars(
            sa.select(Need)
            .options(joinedload(Need.category), joinedload(Need.contact))
            .where(Need.submitter_id == user.id)
            .order_by(Need.id)
        )
    )
    ids = [need.id for need in needs]
    events: dict[int, list[dict]] = {}
    answers: dict[int, list[dict]] = {}
    photos: dict[int, list[Photo]] = {}
    if ids:
        for event in db.session.scalars(
            sa.select(TimelineEvent)
            .options(joinedload(TimelineEvent.organisation))
            .where(TimelineEvent.need_id.in_(ids), TimelineEvent.internal.is_(False))
            .order_by(TimelineEvent.id)
        ):
            events.setdefault(event.need_id, []).append(
                {
                    "step": event.move,
                    "from_status": event.from_status.value if event.from_status else None,
                    "to_status": event.to_status.value,
                    "partner": event.organisation.name if event.organisation else None,
                    "text": event.text,
                    "at": _time(event.created_at),
                }
            )
        for answer in db.session.scalars(
            sa.select(NeedAnswer)
            .options(joinedload(NeedAnswer.question))
            .where(NeedAnswer.need_id.in_(ids))
            .order_by(NeedAnswer.id)
        ):
            answers.setdefault(answer.need_id, []).append(
                {"question": answer.question.prompt, "answer": answer.value}
            )
        # The photos sent with the needs (a partner's "after" photos belong to
        # their updates and are not the member's).
        for photo in db.session.scalars(
            sa.select(Photo)
            .where(Photo.need_id.in_(ids), Photo.event_id.is_(None))
            .order_by(Photo.id)
        ):
            photos.setdefault(photo.need_id, []).append(photo)

    rows, files = [], []
    for need in needs:
        contact = need.contact
        names = []
        for number, photo in enumerate(photos.get(need.id, []), start=1):
            path = storage.final_path(photo.key, "display")
            if path.is_file():
                name = f"photos/{need.ref}-{number}.jpg"
                names.append(name)
                files.append(PhotoFile(name, path))
        rows.append(
            {
                **_need_ref(need),
                "description": need.body,
                "category": need.category.name,
                "place": need.place,
                "latitude": need.lat,
                "longitude": need.lon,
                "status": need.status.value,
                "channel": need.channel.value,
                "support_count": need.support_count,
                "submitted_at": _time(need.created_at),
                "published_at": _time(need.published_at),
                "contact": None
                if contact is None
                else {
                    "email": contact.email,
                    "name": contact.name,
                    "phone": contact.phone,
                    "device_id": contact.device_id,
                    "account_id": contact.account_id,
                    "privacy_notice_version_agreed": contact.consent_notice_version,
                    "privacy_notice_agreed_at": _time(contact.consent_at),
                    "erased_at": _time(need.contact_erased_at),
                },
                "answers": answers.get(need.id, []),
                "photos": names,
                "timeline": events.get(need.id, []),
            }
        )
    return rows, files


def _supports(user: User) -> list[dict]:
    return [
        {**_need_ref(support.need), "at": _time(support.created_at)}
        for support in db.session.scalars(
            sa.select(Support)
            .options(joinedload(Support.need))
            .where(Support.user_id == user.id)
            .order_by(Support.id)
        )
    ]


def _votes(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(RoundVote.created_at, PriorityRound.title, Need.ref, Need.title)
        .join(RoundItem, RoundItem.id == RoundVote.item_id)
        .join(PriorityRound, PriorityRound.id == RoundVote.round_id)
        .join(Need, Need.id == RoundItem.need_id)
        .where(RoundVote.user_id == user.id)
        .order_by(RoundVote.id)
    )
    return [
        {"round": round_title, "reference": ref, "title": title, "at": _time(at)}
        for at, round_title, ref, title in rows
    ]


def _follows(user: User) -> dict:
    needs = db.session.execute(
        sa.select(Follow.created_at, Need.ref, Need.title)
        .join(Need, Need.id == Follow.need_id)
        .where(Follow.user_id == user.id)
        .order_by(Follow.id)
    )
    projects = db.session.execute(
        sa.select(ProjectFollow, Project.title)
        .join(Project, Project.id == ProjectFollow.project_id)
        .where(ProjectFollow.user_id == user.id)
        .order_by(ProjectFollow.id)
    )
    return {
        "needs": [{"reference": r, "title": t, "since": _time(at)} for at, r, t in needs],
        "projects": [
            {
                "project": title,
                "automatic": follow.automatic,
                "since": _time(follow.created_at),
                "stopped_at": _time(follow.stopped_at),
            }
            for follow, title in projects
        ],
    }


def _comments(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(Comment, Need.ref, Project.title)
        .outerjoin(Need, Need.id == Comment.need_id)
        .outerjoin(Project, Project.id == Comment.project_id)
        .where(Comment.author_id == user.id)
        .order_by(Comment.id)
    )
    return [
        {
            "on_need": ref,
            "on_project": project_title,
            "text": comment.body,
            "state": comment.state.value,
            "at": _time(comment.created_at),
        }
        for comment, ref, project_title in rows
    ]


def _feedback(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(Feedback, Need.ref)
        .join(Need, Need.id == Feedback.need_id)
        .where(Feedback.user_id == user.id)
        .order_by(Feedback.id)
    )
    return [
        {
            "reference": ref,
            "resolved": feedback.resolved.value,
            "satisfaction": feedback.satisfaction,
            "comment": feedback.comment,
            "at": _time(feedback.created_at),
        }
        for feedback, ref in rows
    ]


def _proposals(user: User) -> list[dict]:
    return [
        {
            "title": p.title,
            "background": p.background,
            "goal": p.goal,
            "expected_result": p.expected_result,
            "target": p.target,
            "state": p.state.value,
            "at": _time(p.created_at),
        }
        for p in db.session.scalars(
            sa.select(ProjectProposal)
            .where(ProjectProposal.proposer_id == user.id)
            .order_by(ProjectProposal.id)
        )
    ]


def member_export(user: User) -> MemberExport:
    """Everything the portal holds about this member, read now (the ZIP is
    written afterwards, without the database)."""
    submissions, photos = _submissions(user)
    data = {
        "format_version": FORMAT_VERSION,
        "exported_at": _time(utcnow()),
        "account": _account(user),
        "submissions": submissions,
        "supports": _supports(user),
        "votes": _votes(user),
        "follows": _follows(user),
        "comments": _comments(user),
        "feedback": _feedback(user),
        "project_proposals": _proposals(user),
    }
    return MemberExport(data, photos)


class _Buffer:
    """A write-only file for ZipFile: without `tell`/`seek`, ZipFile writes
    streaming entries (sizes after the data), which is what lets us hand each
    piece on at once."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_stream(export: MemberExport) -> Iterator[bytes]:
    buffer = _Buffer()
    with zipfile.ZipFile(buffer, "w") as archive:
        text = json.dumps(export.data, ensure_ascii=False, indent=2).encode()
        archive.writestr("my-data.json", text, compress_type=zipfile.ZIP_DEFLATED)
        yield buffer.take()
        for photo in export.photos:
            try:
                source = photo.path.open("rb")
            except FileNotFoundError:
                continue  # removed since the list was read
            # JPEGs do not compress; stored, they cost no CPU.
            with source, archive.open(photo.name, "w") as entry:
                while piece := source.read(CHUNK):
                    entry.write(piece)
                    yield buffer.take()
            yield buffer.take()
    yield buffer.take()
