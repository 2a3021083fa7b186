"""The tree of areas a need can be placed in (city → district → street or
township → community), managed by admins.

Each area keeps a materialised path of its ancestors' ids and its own
(`/1/5/23/`), so "this area and everything under it" is one indexed range on
`path` (see `subtree`), never a walk of the tree in Python. The path holds ids,
not codes: an admin may correct a code without touching the subtree; only a
move under another parent rewrites it (one UPDATE, `services.move_area`)."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.partners.models import pick_language

#: Codes are what CSV files, URLs (/needs?area=310101) and open data carry.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
CODE_MAX = 40
NAME_MAX = 100
#: How deep the tree may go (city, district, street, community, and a spare).
MAX_DEPTH = 6
#: Compared byte by byte on PostgreSQL whatever the database's collation, so a
#: range on it is a prefix and its btree index serves it (SQLite compares bytes).
PATH_TYPE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


class Area(db.Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_MAX), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    name_zh: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    name_en: Mapped[str] = mapped_column(sa.String(NAME_MAX), default="")
    #: 0 for a top-level area, 1 for its children…
    depth: Mapped[int] = mapped_column(default=0)
    #: The ids from the top-level area down to this one: "/1/5/23/".
    path: Mapped[str] = mapped_column(PATH_TYPE, default="")
    #: An optional centre point (WGS 84), e.g. for a map.
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    #: Order among its siblings (then the code).
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    __table_args__ = (
        # Children of one parent, in their order (the choices and admin lists).
        sa.Index("ix_areas_parent_position", "parent_id", "position", "code"),
        # A subtree is a range of paths.
        sa.Index("ix_areas_path", "path", unique=True),
        sa.CheckConstraint("depth >= 0", name="depth_not_negative"),
        sa.CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_in_range"),
        sa.CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180)", name="lon_in_range"),
    )

    @property
    def name(self) -> str:
        return pick_language(self.name_zh, self.name_en)

    @property
    def lineage_ids(self) -> list[int]:
        """The ids from the top-level area down to this one."""
        return lineage(self.path)


def lineage(path: str | None) -> list[int]:
    """The ids a materialised path names, top-level area first."""
    return [int(part) for part in (path or "").split("/") if part]


def path_range(path: str) -> tuple[str, str]:
    """The half-open range [low, high) of the paths of an area's subtree (the
    area included): every path that starts with `path`, as a range an index
    scans (a LIKE would need a special operator class on PostgreSQL, and `_`
    is a wildcard there). "/" sorts just before "0", so "/1/5" + "0" bounds
    exactly the paths under "/1/5/"."""
    return path, path[:-1] + "0"


def subtree(path: str) -> sa.ColumnElement[bool]:
    """`Area.path` within the subtree of the area with this path."""
    low, high = path_range(path)
    return sa.and_(Area.path >= low, Area.path < high)


def subtree_ids(path: str) -> sa.Select:
    """The ids of an area and of every area under it, as a subquery (for
    `Need.area_id.in_(…)`)."""
    return sa.select(Area.id).where(subtree(path))


#: The areas an organisation serves (shown on its public page; /partners?area=
#: lists the organisations serving an area, from above it or within it).
organisation_areas = sa.Table(
    "organisation_areas",
    db.metadata,
    sa.Column("organisation_id", sa.ForeignKey("organisations.id"), primary_key=True),
    sa.Column("area_id", sa.ForeignKey("areas.id"), primary_key=True),
    sa.Index("ix_organisation_areas_area", "area_id", "organisation_id"),
)


def any_area_exists() -> bool:
    """Whether areas are in use at all: a portal without any keeps working as
    before (an area is then never required)."""
    return bool(db.session.scalar(sa.select(sa.exists().where(Area.id.is_not(None)))))
