"""Photos of needs: receiving uploads, attaching them to a need or a partner's
update, who may see them, and hiding them from the public.

A photo's life: its upload is checked and redrawn (processing), written to the
staging folder under a generated key (storage), its row added in the caller's
transaction (attach_photos), and its files moved in place by the session's
after-commit hook. After a rollback, a lost double submit or an error, the end
of the request deletes the staged files it made. Only a form shown again with
errors keeps them (signed tokens in the form) until its next submit, or for
PHOTO_STAGING_HOURS."""

from __future__ import annotations

import base64
import errno
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session, joinedload

from portal.audit.services import record
from portal.auth.models import Role, User
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need
from portal.notify.services import public_url
from portal.partners.workspace import is_routed_to
from portal.photos import storage
from portal.photos.models import Photo
from portal.photos.processing import Limits, PhotoRejected, clean_photo, read_limited
from portal.workflow.models import TimelineEvent

log = logging.getLogger(__name__)

_PENDING = "photos_to_publish"  # session.info: keys whose rows wait for the commit
_MOVED = "photos_moved"  # session.info: keys moved in place by a commit not yet done
TOO_MANY = _l("At most %(count)d photos, please.")
CANNOT_STORE = _l(
    "The server cannot store photos at the moment. Please try again later, or send "
    "your need without photos."
)
PHOTOS_NOT_SAVED = _l(
    "Your photos could not be stored, so nothing was saved. Please go back and send the form again."
)


@dataclass(frozen=True)
class StagedPhoto:
    key: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    display_bytes: int
    thumb_bytes: int

    @property
    def token(self) -> str:
        """What the form carries to keep this photo when it is shown again."""
        return _serializer().dumps(self.__dict__)

    @property
    def thumb_data_uri(self) -> str:
        data = base64.b64encode(storage.read_staged(self.key, "thumb")).decode()
        return f"data:image/jpeg;base64,{data}"


@dataclass
class PhotoBatch:
    """The photos of one submitted form: the accepted ones, and why others were refused."""

    photos: list[StagedPhoto] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: 413 when a file was too large, 507/503 when the server could not store
    #: one (disk full / folder not writable), else 400.
    status: int = 400

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_status(self) -> int:
        """The status of the form shown again: 413 for a too large photo, 507 or 503
        when the server could not store it, else 422."""
        return self.status if self.status in (413, 503, 507) else 422

    def keep(self) -> None:
        """The form is shown again: its accepted photos wait for the next submit."""
        g.setdefault("photos_kept", set()).update(p.key for p in self.photos)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staged-photo")


def limits() -> Limits:
    config = current_app.config
    return Limits(
        max_bytes=config["PHOTO_MAX_BYTES"],
        max_pixels=config["PHOTO_MAX_PIXELS"],
        max_pixels_lossless=config["PHOTO_MAX_PIXELS_LOSSLESS"],
        display_edge=config["PHOTO_DISPLAY_EDGE"],
        thumb_edge=config["PHOTO_THUMB_EDGE"],
    )


def _kept(tokens: list[str]) -> list[StagedPhoto]:
    """Photos a previous attempt of this form already accepted (signed, unexpired, still there)."""
    max_age = current_app.config["PHOTO_STAGING_HOURS"] * 3600
    kept: dict[str, StagedPhoto] = {}
    for token in tokens[: current_app.config["PHOTOS_PER_UPLOAD"]]:
        try:
            photo = StagedPhoto(**_serializer().loads(token, max_age=max_age))
        except (BadSignature, TypeError, ValueError):
            continue
        if storage.is_staged(photo.key):
            kept[photo.key] = photo
    return list(kept.values())


def receive_photos(files, kept_tokens: list[str] = ()) -> PhotoBatch:
    """Check, redraw and stage the uploaded files of one form (a list of
    FileStorage; empty file inputs are skipped), after those it kept before."""
    uploads = [f for f in files if f and f.filename]
    if uploads:  # first, so a photo this form kept cannot be swept under it
        sweep_abandoned()
    batch = PhotoBatch(photos=_kept(list(kept_tokens)))
    allowed = current_app.config["PHOTOS_PER_UPLOAD"]
    if len(batch.photos) + len(uploads) > allowed:
        batch.errors.append(TOO_MANY % {"count": allowed})
        return batch
    rules = limits()
    for upload in uploads:
        try:
            clean = clean_photo(read_limited(upload.stream, rules.max_bytes), rules)
        except PhotoRejected as refusal:
            batch.errors.append(str(refusal.message))
            batch.status = max(batch.status, refusal.status)
            continue
        key = secrets.token_hex(16)
        g.setdefault("photos_staged", set()).add(key)
        try:
            storage.stage(key, {"display": clean.display, "thumb": clean.thumb})
        except OSError as error:
            log.exception("photo could not be staged")
            full = error.errno in (errno.ENOSPC, errno.EDQUOT)
            batch.errors.append(str(CANNOT_STORE))
            batch.status = max(batch.status, 507 if full else 503)
            break
        batch.photos.append(
            StagedPhoto(
                key=key,
                width=clean.width,
                height=clean.height,
                thumb_width=clean.thumb_width,
                thumb_height=clean.thumb_height,
                display_bytes=len(clean.display),
                thumb_bytes=len(clean.thumb),
            )
        )
    return batch


def sweep_abandoned() -> int:
    """Delete staged photos of forms never sent back: an hour after their tokens
    expired, so a form sent at the last moment keeps its photos."""
    hours = current_app.config["PHOTO_STAGING_HOURS"] + 1
    return storage.sweep_staging(hours * 3600)


def receive_form_photos(form) -> PhotoBatch:
    """The photos of a submitted form with a `photos` field: the new files, after
    those an earlier attempt of the same form kept (its `kept_photo` tokens)."""
    return receive_photos(form.photos.data or [], request.form.getlist("kept_photo"))


def attach_photos(
    need: Need, batch: PhotoBatch, uploader: User | None, event: TimelineEvent | None = None
) -> list[Photo]:
    """Rows for the batch's photos, in the caller's transaction; their files are
    moved in place when (and only if) that transaction commits."""
    photos = [
        Photo(
            need=need,
            event=event,
            key=staged.key,
            width=staged.width,
            height=staged.height,
            thumb_width=staged.thumb_width,
            thumb_height=staged.thumb_height,
            display_bytes=staged.display_bytes,
            thumb_bytes=staged.thumb_bytes,
            uploaded_by=uploader,
        )
        for staged in batch.photos
    ]
    db.session.add_all(photos)
    db.session.info.setdefault(_PENDING, []).extend(p.key for p in photos)
    return photos


class PhotoStorageError(RuntimeError):
    """The photos' files could not be moved in place: the commit is abandoned, so
    no need or update is saved with a photo that has no file."""


@sa.event.listens_for(Session, "before_commit")
def _publish_before_commit(session: Session) -> None:
    """Move the files in place as part of the commit: if a move fails, the commit
    fails too (and the files already moved go back), so a row never points at a
    missing file. If the database then refuses the commit, the rollback below
    moves them back as well."""
    moved = session.info.setdefault(_MOVED, [])
    for key in session.info.pop(_PENDING, ()):
        moved.append(key)
        try:
            storage.publish(key)
        except OSError as error:
            log.exception("photo %s could not be moved in place; nothing is saved", key)
            raise PhotoStorageError(key) from error


@sa.event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_MOVED, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    """Their rows are gone: a later commit must not move them in, and files moved
    for this transaction go back to staging (the end of the request deletes them,
    unless the form is shown again and keeps them). A savepoint's rollback leaves
    the outer transaction, and its photos, alone."""
    if previous_transaction.nested:
        return
    session.info.pop(_PENDING, None)
    for key in session.info.pop(_MOVED, ()):
        storage.unpublish(key)


def discard_unused_staging(exc: BaseException | None = None) -> None:
    """End of request: staged files this request made and did not keep for a
    form shown again, and any whose rows were never committed, are deleted."""
    if not has_request_context():
        return
    unused = g.pop("photos_staged", set()) - g.pop("photos_kept", set())
    pending = db.session.info.pop(_PENDING, ()) if db.session.registry.has() else ()
    for key in unused | set(pending):
        storage.discard(key)


# --- who sees what ------------------------------------------------------------------------


def is_public(photo: Photo) -> bool:
    return (
        photo.need.is_listed
        and not photo.is_hidden
        and (photo.event is None or not photo.event.internal)
    )


def may_view(photo: Photo, user) -> bool:
    """The public sees photos of listed needs that no one hid; administrators see
    all; a partner sees the photos of needs routed to it (hidden ones too, as
    they may show what has to be repaired); a member the photos they sent."""
    if is_public(photo):
        return True
    if user is None or not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.PARTNER:
        return is_routed_to(photo.need_id, user.organisation_id)
    return not photo.is_hidden and photo.need.submitter_id == user.id


def photo_by_key(key: str) -> Photo | None:
    if len(key) != 32:
        return None
    return db.session.scalar(
        sa.select(Photo)
        .options(joinedload(Photo.need), joinedload(Photo.event))
        .where(Photo.key == key)
    )


@dataclass
class NeedPhotos:
    """A need's photos for one page: the submitter's, and the partners' by event."""

    before: list[Photo] = field(default_factory=list)
    by_event: dict[int, list[Photo]] = field(default_factory=lambda: defaultdict(list))

    def __bool__(self) -> bool:
        return bool(self.before or self.by_event)

    @property
    def all(self) -> list[Photo]:
        """Every photo, the submitter's first, then the partners' step by step."""
        return self.before + [p for photos in self.by_event.values() for p in photos]


def photos_for_need(need: Need, *, include_hidden: bool = False) -> NeedPhotos:
    """One query. The public pages leave out hidden photos; staff pages show
    them, marked."""
    stmt = sa.select(Photo).where(Photo.need_id == need.id).order_by(Photo.id)
    if not include_hidden:
        stmt = stmt.where(Photo.is_hidden.is_(False))
    result = NeedPhotos()
    for photo in db.session.scalars(stmt):
        if photo.event_id is None:
            result.before.append(photo)
        else:
            result.by_event[photo.event_id].append(photo)
    return result


def first_public_photo_keys(need_ids: list[int]) -> dict[int, str]:
    """The first photo the public may see of each need (Open311's media_url)."""
    if not need_ids:
        return {}
    first = (
        sa.select(sa.func.min(Photo.id))
        .outerjoin(TimelineEvent, TimelineEvent.id == Photo.event_id)
        .where(
            Photo.need_id.in_(need_ids),
            Photo.is_hidden.is_(False),
            sa.or_(Photo.event_id.is_(None), TimelineEvent.internal.is_(False)),
        )
        .group_by(Photo.need_id)
    )
    rows = db.session.execute(sa.select(Photo.need_id, Photo.key).where(Photo.id.in_(first)))
    return {need_id: key for need_id, key in rows}


def photo_url(key: str, size: str = "display", *, external: bool = False) -> str:
    if external:
        return public_url("photos.serve", key=key, size=size)
    return url_for("photos.serve", key=key, size=size)


# --- moderation ---------------------------------------------------------------------------


def hide_photo(photo: Photo, admin: User, reason: str) -> None:
    """Take a photo off the public pages (faces, plates, private details); the
    file stays, staff still see it. Audited."""
    if photo.is_hidden:
        return
    photo.is_hidden = True
    photo.hidden_reason = reason
    photo.hidden_by_id = admin.id
    photo.hidden_at = utcnow()
    record(
        admin,
        "photo.hide",
        photo,
        before={"need": photo.need.ref, "hidden": False},
        after={"reason": reason},
    )


def show_photo(photo: Photo, admin: User) -> None:
    if not photo.is_hidden:
        return
    record(
        admin,
        "photo.show",
        photo,
        before={"need": photo.need.ref, "reason": photo.hidden_reason},
        after={"hidden": False},
    )
    photo.is_hidden = False
    photo.hidden_reason = ""
    photo.hidden_by_id = None
    photo.hidden_at = None
