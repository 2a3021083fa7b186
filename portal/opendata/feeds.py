"""Atom feeds (RFC 4287) of published needs, of one category, and of a
project's updates. Links and ids are absolute, built from PUBLIC_BASE_URL
(`public_url`), so a feed reads the same whichever host served it; an entry's
id is the permanent address of its page."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from feedgen.feed import FeedGenerator
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from portal.categories.models import Category
from portal.extensions import db
from portal.i18n import current_locale_code
from portal.models_base import utcnow
from portal.needs.location import public_point
from portal.needs.models import Need
from portal.notify.services import public_url
from portal.opendata.services import ATTRIBUTION, LICENCE_NAME
from portal.projects.models import Project, ProjectUpdate, UpdateState

FEED_SIZE = 50
ATOM_MIMETYPE = "application/atom+xml; charset=utf-8"
# Characters XML 1.0 does not allow; lxml refuses them, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def category_by_code(code: str) -> Category | None:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


def project_by_id(project_id: int) -> Project | None:
    return db.session.scalar(
        sa.select(Project)
        .options(joinedload(Project.lead_organisation))
        .where(Project.id == project_id)
    )


def project_page_url(project_id: int) -> str:
    """The project's public page; /projects/<id> is part of the URL contract,
    so it is built by hand while the page's endpoint is not registered."""
    try:
        return public_url("projects.show", project_id=project_id)
    except BuildError:
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        return f"{base}/projects/{project_id}"


def _feed(feed_id: str, title: str, self_url: str, page_url: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(_xml(title))
    feed.author({"name": ATTRIBUTION, "uri": public_url("core.home")})
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.language("en" if current_locale_code() == "en" else "zh-CN")
    feed.rights(f"{LICENCE_NAME}, {ATTRIBUTION}")
    feed.generator(_("Huiju"), uri=public_url("core.home"))
    return feed


def _finish(feed: FeedGenerator, times: list[datetime]) -> bytes:
    feed.updated(max(times) if times else utcnow())
    return feed.atom_str(pretty=True, encoding="UTF-8")


def needs_feed(category: Category | None = None) -> bytes:
    """The newest published needs (of one category), newest first: one indexed
    query on (is_listed[, category_id], id)."""
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category), joinedload(Need.assigned_organisation))
        .where(Need.is_listed)
        .order_by(Need.id.desc())
        .limit(FEED_SIZE)
    )
    if category is None:
        self_url = public_url("opendata.needs_feed")
        feed = _feed(self_url, _("Huiju: new needs"), self_url, public_url("needs.index"))
    else:
        stmt = stmt.where(Need.category_id == category.id)
        self_url = public_url("opendata.category_feed", code=category.code)
        feed = _feed(
            self_url,
            _("Huiju: new needs in %(category)s", category=category.name),
            self_url,
            public_url("needs.index", category=category.id),
        )
    needs = list(db.session.scalars(stmt))
    feed.load_extension("geo")  # GeoRSS Simple: the public (rounded) point
    for need in needs:
        url = public_url("needs.show", ref=need.ref)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(_xml(need.title))
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(need.published_at or need.created_at)
        entry.updated(need.updated_at)
        entry.category(term=need.category.code, label=_xml(need.category.name))
        facts = [need.status.label, need.category.name]
        if need.place:
            facts.append(need.place)
        if need.assigned_organisation is not None:
            facts.append(need.assigned_organisation.name)
        entry.summary(_xml(" · ".join(facts)), type="text")
        entry.content(_xml(need.body), type="text")
        point = public_point(need)
        if point is not None:
            entry.geo.point(f"{point.lat} {point.lon}")
    return _finish(feed, [n.updated_at for n in needs])


def project_feed(project: Project) -> bytes:
    """A project's public updates, newest first (their HTML was sanitised when
    they were posted)."""
    page_url = project_page_url(project.id)
    self_url = public_url("opendata.project_feed", project_id=project.id)
    feed = _feed(
        self_url,
        _("Huiju: updates of the project “%(title)s”", title=project.title),
        self_url,
        page_url,
    )
    updates = list(
        db.session.scalars(
            sa.select(ProjectUpdate)
            .options(joinedload(ProjectUpdate.organisation))
            .where(
                ProjectUpdate.project_id == project.id,
                ProjectUpdate.state == UpdateState.PUBLISHED,
            )
            .order_by(ProjectUpdate.id.desc())
            .limit(FEED_SIZE)
        )
    )
    for update in updates:
        partner = update.organisation or project.lead_organisation
        url = f"{page_url}#update-{update.id}"
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(
            _xml(
                _(
                    "%(partner)s, %(date)s",
                    partner=partner.name,
                    date=format_date(update.published_on, "long"),
                )
            )
        )
        entry.link(href=url, rel="alternate", type="text/html")
        entry.author({"name": _xml(partner.name)})
        entry.published(update.published_on)
        entry.updated(update.published_on)
        entry.content(_xml(update.body_html), type="html")
    return _finish(feed, [u.published_on for u in updates] or [project.updated_at])
