"""Business rules for needs: submission, public reading, tracking and search."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal.areas.models import Area, subtree_ids
from portal.areas.tree import resolve
from portal.auth.models import User
from portal.categories.models import Category
from portal.core.params import bounded_int, bounded_text
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs import location, rules
from portal.needs.location import Point
from portal.needs.models import Channel, Need, NeedContact, NeedStatus
from portal.needs.signals import need_submitted
from portal.needs.tokens import derive_tracking_token, hash_token
from portal.partners.models import Assignment
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor, transition
from portal.workflow.statuses import status_for, with_trait

if TYPE_CHECKING:
    from portal.photos.services import PhotoBatch


def new_idempotency_key() -> str:
    return secrets.token_hex(16)


def active_categories() -> list[Category]:
    stmt = (
        sa.select(Category)
        .where(rules.category_accepts_needs())
        .order_by(Category.position, Category.id)
    )
    return list(db.session.scalars(stmt))


def need_by_idempotency_key(key: str) -> Need | None:
    return db.session.scalar(sa.select(Need).where(Need.idempotency_key == key))


@dataclass
class Submission:
    title: str
    body: str
    category_id: int
    place: str
    email: str
    idempotency_key: str
    locale: str
    channel: Channel = Channel.WEB
    name: str = ""
    phone: str = ""
    lat: float | None = None
    lon: float | None = None
    #: The need's place in the admins' tree of areas, if the submitter chose one.
    area_id: int | None = None
    device_id: str = ""  # Open311 client data, kept private
    account_id: str = ""
    media_url: str = ""
    #: The submitter agreed to the privacy notice in force: always on the web
    #: form and at staff intake (both require it), on Open311 only when the
    #: client says its user did (`consent=true`).
    consent: bool = True
    #: The answers to the category's questions, by question id (checked by
    #: `validate_answers`), and the photos the form received: saved with the
    #: need by `portal.needs.submission.submit`.
    answers: dict[int, list[str]] = field(default_factory=dict)
    photos: PhotoBatch | None = None


def submit_need(data: Submission, actor: Actor, submitter: User | None = None) -> tuple[Need, str]:
    """Create a need in `submitted` and its contact record, and announce it
    (`need_submitted`: notify queues the receipt e-mail in this transaction).

    Returns the need and its private tracking token (shown once). The caller
    commits; a repeated idempotency key is refused by the database."""
    token = derive_tracking_token(data.idempotency_key)
    need = Need(
        title=data.title,
        body=data.body,
        category_id=data.category_id,
        place=data.place or "",
        area_id=data.area_id,
        lat=data.lat,
        lon=data.lon,
        channel=data.channel,
        submitter=submitter,
        idempotency_key=data.idempotency_key,
        tracking_token_hash=hash_token(token),
    )
    need.contact = NeedContact(
        email=(data.email or "").lower(),
        name=data.name,
        phone=data.phone,
        device_id=data.device_id,
        account_id=data.account_id,
        media_url=data.media_url,
        locale=data.locale,
        consent_notice_version=current_app.config["PRIVACY_NOTICE_VERSION"] if data.consent else "",
        consent_at=utcnow() if data.consent else None,
    )
    db.session.add(need)
    transition(need, "submit", actor)
    db.session.flush()
    need.ref = f"N-{need.created_at.year}-{need.id:06d}"
    # notify queues the receipt and has a member follow their own need.
    need_submitted.send(need, tracking_token=token, submitter=submitter)
    db.session.flush()
    return need, token


def need_by_tracking_token(token: str) -> Need | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(Need)
        .options(joinedload(Need.category))
        .where(Need.tracking_token_hash == hash_token(token))
    )


def public_need(ref: str) -> Need | None:
    """A need as the public may see it, or None (unpublished, rejected, withdrawn…)."""
    need = db.session.scalar(
        sa.select(Need)
        .options(joinedload(Need.category), joinedload(Need.area))
        .where(Need.ref == ref)
    )
    if need is None:
        return None
    if need.is_listed:
        return need
    if need.status == NeedStatus.DUPLICATE and need.published_at is not None:
        return need  # shown with a pointer to the need it was merged into
    return None


def listed_need(ref: str) -> Need | None:
    """A need that is on the public list (members act on these: support,
    follow, feedback); None otherwise."""
    need = public_need(ref)
    return need if need is not None and need.is_listed else None


def timeline(need: Need, *, include_internal: bool = False) -> list[TimelineEvent]:
    stmt = (
        sa.select(TimelineEvent)
        .options(joinedload(TimelineEvent.organisation))
        .where(TimelineEvent.need_id == need.id)
    )
    if not include_internal:
        stmt = stmt.where(TimelineEvent.internal.is_(False))
    events = list(db.session.scalars(stmt.order_by(TimelineEvent.id)))
    _mark_late_steps(need, events)
    return events


def _mark_late_steps(need: Need, events: list[TimelineEvent]) -> None:
    """Flag (as `event.late`) answers given after the response deadline and
    resolutions after the due date of the partner's assignment."""
    assignments = list(
        db.session.scalars(
            sa.select(Assignment).where(Assignment.need_id == need.id).order_by(Assignment.id)
        )
    )
    for event in events:
        event.late = False
        if event.move not in ("accept", "decline", "resolve") or event.organisation_id is None:
            continue
        routed = [
            a
            for a in assignments
            if a.organisation_id == event.organisation_id and a.created_at <= event.created_at
        ]
        if not routed:
            continue
        deadline = routed[-1].due_at if event.move == "resolve" else routed[-1].response_due_at
        event.late = event.created_at > deadline


def latest_public_needs(limit: int) -> list[Need]:
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category))
        .where(Need.is_listed)
        .order_by(Need.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


@dataclass
class NeedFilters:
    q: str = ""
    category_id: int | None = None
    status: NeedStatus | None = None
    #: The area and everything under it (?area=CODE, or the cascading choice's
    #: values, the deepest wins).
    area: Area | None = None

    @classmethod
    def from_args(cls, args) -> NeedFilters:
        q = bounded_text(args.get("q"), 100)
        category = args.get("category")
        status = args.get("status", "")
        try:
            status_value = status_for(status) if status else None
        except ValueError:
            status_value = None
        if status_value is not None and not status_value.is_listed:
            status_value = None
        return cls(
            q=q,
            category_id=bounded_int(category),
            status=status_value,
            area=resolve(args.getlist("area")).area if "area" in args else None,
        )

    def as_args(self) -> dict[str, str]:
        args = {}
        if self.q:
            args["q"] = self.q
        if self.category_id:
            args["category"] = str(self.category_id)
        if self.status:
            args["status"] = self.status.value
        if self.area:
            args["area"] = self.area.code
        return args


@dataclass
class NeedPage:
    needs: list[Need]
    older_cursor: int | None  # pass as ?before= for the next (older) page
    newer_cursor: int | None  # pass as ?after= for the previous (newer) page


def _search_terms(q: str) -> list[str]:
    return [t for t in q.split(" ") if t][:5]


def public_needs_page(
    filters: NeedFilters, *, before: int | None = None, after: int | None = None
) -> NeedPage:
    """One page of published needs, newest first, by keyset on the id so the cost
    does not grow with the page number."""
    per_page = current_app.config["NEEDS_PER_PAGE"]
    stmt = sa.select(Need).options(joinedload(Need.category)).where(Need.is_listed)
    if filters.category_id:
        stmt = stmt.where(Need.category_id == filters.category_id)
    if filters.status:
        stmt = stmt.where(Need.status == filters.status)
    if filters.area:
        stmt = stmt.where(Need.area_id.in_(subtree_ids(filters.area.path)))
    for term in _search_terms(filters.q):
        stmt = stmt.where(
            sa.or_(
                Need.title.icontains(term, autoescape=True),
                Need.body.icontains(term, autoescape=True),
            )
        )
    if after is not None:
        rows = list(
            db.session.scalars(stmt.where(Need.id > after).order_by(Need.id).limit(per_page + 1))
        )
        has_newer = len(rows) > per_page
        needs = list(reversed(rows[:per_page]))
        return NeedPage(
            needs=needs,
            older_cursor=needs[-1].id if needs else None,
            newer_cursor=needs[0].id if needs and has_newer else None,
        )
    if before is not None:
        stmt = stmt.where(Need.id < before)
    rows = list(db.session.scalars(stmt.order_by(Need.id.desc()).limit(per_page + 1)))
    needs = rows[:per_page]
    return NeedPage(
        needs=needs,
        older_cursor=needs[-1].id if len(rows) > per_page else None,
        newer_cursor=needs[0].id if needs and before is not None else None,
    )


_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[A-Za-z0-9]{3,}")


def similarity_terms(title: str) -> list[str]:
    """Words of three or more letters, and two-character pieces of Chinese text
    (Chinese has no spaces; bigrams are what a reader would match on)."""
    terms: list[str] = []
    for run in _CJK_RUN.findall(title):
        if len(run) == 1:
            continue
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    terms.extend(w.lower() for w in _WORD.findall(title))
    seen: dict[str, None] = {}
    for term in terms:
        seen.setdefault(term, None)
    return list(seen)[:8]


def similar_needs(title: str, limit: int = 5) -> list[Need]:
    """Published needs whose titles share words with this one, best match first."""
    terms = similarity_terms(title or "")
    if not terms:
        return []
    conditions = [Need.title.icontains(t, autoescape=True) for t in terms]
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category))
        .where(Need.is_listed, sa.or_(*conditions))
        .order_by(Need.id.desc())
        .limit(50)
    )
    candidates = list(db.session.scalars(stmt))

    def score(need: Need) -> tuple[int, int]:
        lowered = need.title.lower()
        return (sum(1 for t in terms if t in lowered), need.support_count)

    candidates.sort(key=score, reverse=True)
    return candidates[:limit]


#: At most this many published needs in the bounding box are measured; a box of
#: about 1 km² holding more open needs than this is a city to split into areas.
NEARBY_CANDIDATES = 200


def nearby_needs(point: Point, *, limit: int = 5, exclude: Iterable[int] = ()) -> list[Need]:
    """Open published needs (members may still support them) within
    NEARBY_METRES of `point`, nearest first, decided on their public points
    (see `portal.needs.location`): one query on the (is_listed, lat, lon) index."""
    box = location.public_box_around(point, location.NEARBY_METRES)
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category))
        .where(
            Need.is_listed,
            location.in_box(Need.lat, Need.lon, box),
            Need.status.in_(with_trait("supportable")),
        )
        .order_by(Need.id.desc())
        .limit(NEARBY_CANDIDATES)
    )
    excluded = set(exclude)
    candidates = [n for n in db.session.scalars(stmt) if n.id not in excluded]
    return location.within_public(point, candidates)[:limit]
