"""Reading the tree of areas: an area by its code, its ancestors, the
cascading choice (the levels a form or filter shows) and the area a choice
sends. It reads areas only, so the needs' own services can use it (the areas'
services above it read needs too)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.areas.models import CODE_MAX, MAX_DEPTH, Area
from portal.core.params import bounded_text
from portal.extensions import db


def area_by_code(code: object) -> Area | None:
    code = bounded_text(code, CODE_MAX)
    if not code:
        return None
    return db.session.scalar(sa.select(Area).where(Area.code == code))


def area_by_id(area_id: int) -> Area | None:
    return db.session.get(Area, area_id)


def ordered(stmt):
    """Siblings in their order: position, then code."""
    return stmt.order_by(Area.position, Area.code)


def ancestors(area: Area | None) -> list[Area]:
    """The area's ancestors and itself, top-level area first (one query)."""
    if area is None:
        return []
    ids = area.lineage_ids
    found = {a.id: a for a in db.session.scalars(sa.select(Area).where(Area.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@dataclass
class Level:
    """One select of the cascading choice: the areas under `parent` (the
    top-level ones when it is None) and the one chosen among them."""

    parent: Area | None
    options: list[Area]
    selected: Area | None = None


@dataclass
class AreaChoice:
    """What the cascading choice shows: a select per level down to the chosen
    area, and one more for its children when it has any."""

    chosen: Area | None
    levels: list[Level] = field(default_factory=list)

    @property
    def in_use(self) -> bool:
        """False when no area exists: the forms and filters leave the choice out."""
        return bool(self.levels)

    @property
    def trail(self) -> list[Area]:
        return [level.selected for level in self.levels if level.selected is not None]


def choice_for(area: Area | None) -> AreaChoice:
    """The levels shown for a chosen area (or none), in one query: the options
    of every level, which hold the chosen area's ancestors too (each is an
    option of the level above it)."""
    parent_ids = area.lineage_ids if area is not None else []
    stmt = ordered(
        sa.select(Area).where(sa.or_(Area.parent_id.is_(None), Area.parent_id.in_(parent_ids)))
    )
    by_parent: dict[int | None, list[Area]] = defaultdict(list)
    by_id: dict[int, Area] = {}
    for option in db.session.scalars(stmt):
        by_parent[option.parent_id].append(option)
        by_id[option.id] = option
    chain = [by_id[i] for i in parent_ids if i in by_id]
    choice = AreaChoice(chosen=area)
    parent: Area | None = None
    for depth in range(len(chain) + 1):
        options = by_parent.get(parent.id if parent else None, [])
        if not options:
            break
        selected = chain[depth] if depth < len(chain) else None
        choice.levels.append(Level(parent=parent, options=options, selected=selected))
        parent = selected
        if parent is None:
            break
    return choice


@dataclass
class Resolved:
    area: Area | None
    #: A code that names no area was sent (a stale page or a typed URL).
    unknown: bool = False


def resolve(values: list[str]) -> Resolved:
    """The area a cascading choice sends: one value per level, all under the
    same name. The first value may name any area (a link like
    /needs?area=310101); each next one counts only if it lies directly under
    the one before, and an empty one ends the choice. So the deepest area of an
    unbroken chain wins, and a select left over from another parent (a parent
    changed without JavaScript) is ignored. One query."""
    codes = []
    for value in values[: MAX_DEPTH + 1]:
        code = bounded_text(value, CODE_MAX)
        if not code:
            break
        codes.append(code)
    if not codes:
        return Resolved(None)
    found = {a.code: a for a in db.session.scalars(sa.select(Area).where(Area.code.in_(codes)))}
    if codes[0] not in found:
        return Resolved(None, unknown=True)
    chosen = found[codes[0]]
    for code in codes[1:]:
        below = found.get(code)
        if below is None or below.parent_id != chosen.id:
            break
        chosen = below
    return Resolved(chosen)


#: How far (in degrees, about 11 km) a pin looks for the centre of an area.
SUGGEST_WITHIN_DEGREES = 0.1


def nearest_area(lat: float, lon: float) -> Area | None:
    """The area whose centre is nearest the point, within about 11 km; of two
    at the same distance the deeper one. One query over a bounding box (the
    areas are a few thousand at most; their centres are few per box)."""
    box = SUGGEST_WITHIN_DEGREES
    scale = max(math.cos(math.radians(lat)), 0.01) ** 2
    distance = (Area.lat - lat) * (Area.lat - lat) + (Area.lon - lon) * (Area.lon - lon) * scale
    return db.session.scalar(
        sa.select(Area)
        .where(
            Area.lat.between(lat - box, lat + box),
            Area.lon.between(lon - box, lon + box),
        )
        .order_by(distance, Area.depth.desc(), Area.id)
        .limit(1)
    )
