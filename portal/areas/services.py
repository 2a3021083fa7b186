"""Areas: the admins' list, changes, moves and CSV import; a need's area; the
open needs of an area and the needs received by area. (Reading the tree and
the cascading choice, which read areas only, are in `portal.areas.tree`.)

Every read here is a constant number of queries whatever the size of the tree:
a subtree is a range of materialised paths (`models.subtree`), ancestors are
the ids their path names. Nothing here commits: the view (or the CLI command)
commits once."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.areas.models import (
    CODE,
    CODE_MAX,
    MAX_DEPTH,
    NAME_MAX,
    Area,
    lineage,
    path_range,
    subtree,
    subtree_ids,
)
from portal.areas.tree import ancestors, ordered
from portal.audit.services import record
from portal.auth.models import User
from portal.core.params import bounded_int, bounded_text
from portal.domain import DomainError
from portal.extensions import db
from portal.needs.models import Need
from portal.workflow.models import TimelineEvent
from portal.workflow.statuses import with_trait

#: Areas listed per page of the admin list (children of one parent).
PER_PAGE = 50
#: Offset pagination stops here, so no request asks for a huge OFFSET.
MAX_PAGE = 200
#: The largest CSV an import reads, in data lines.
MAX_IMPORT_ROWS = 20_000
#: Problems listed for one import (the count says how many more there were).
MAX_PROBLEMS_SHOWN = 200
#: Listed needs that are still being worked on: waiting for triage or with a partner.
OPEN_STATUSES = with_trait("listed") & (with_trait("in_triage") | with_trait("with_partner"))


class AreaError(DomainError):
    """A rule of the areas refused the change (`field`: the form field)."""


# --- the admin list ------------------------------------------------------------------


@dataclass
class ListPage:
    parent: Area | None
    trail: list[Area]
    areas: list[Area]
    sub_areas: dict[int, int]
    needs: dict[int, int]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def list_page(parent: Area | None, page: int) -> ListPage:
    """One page of the areas directly under `parent` (the top-level ones for
    None), with how many sub-areas and needs each has: four queries."""
    page = max(1, min(page, MAX_PAGE))
    condition = Area.parent_id.is_(None) if parent is None else Area.parent_id == parent.id
    rows = list(
        db.session.scalars(
            ordered(sa.select(Area).where(condition))
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    )
    areas = rows[:PER_PAGE]
    ids = [a.id for a in areas]
    sub_areas = dict(
        db.session.execute(
            sa.select(Area.parent_id, sa.func.count(Area.id))
            .where(Area.parent_id.in_(ids))
            .group_by(Area.parent_id)
        ).all()
    )
    needs = dict(
        db.session.execute(
            sa.select(Need.area_id, sa.func.count(Need.id))
            .where(Need.area_id.in_(ids))
            .group_by(Need.area_id)
        ).all()
    )
    return ListPage(
        parent=parent,
        trail=ancestors(parent),
        areas=areas,
        sub_areas=sub_areas,
        needs=needs,
        page=page,
        has_next=len(rows) > PER_PAGE,
    )


# --- the admins' changes -----------------------------------------------------------


@dataclass
class AreaValues:
    """An area as a form or a CSV line gives it, checked by `check_values`."""

    code: str
    name_zh: str
    name_en: str = ""
    lat: float | None = None
    lon: float | None = None
    position: int = 0

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "lat": self.lat,
            "lon": self.lon,
            "position": self.position,
        }


def check_values(values: AreaValues) -> list[tuple[str, str]]:
    """What is wrong with an area's own values, as (field, message) pairs; the
    forms check the same with their validators, the CSV import with this."""
    problems = []
    if not CODE.fullmatch(values.code or ""):
        problems.append(
            (
                "code",
                _(
                    "The code must be 1 to %(max)d letters, digits, . - or _, "
                    "starting with a letter or digit.",
                    max=CODE_MAX,
                ),
            )
        )
    if not values.name_zh:
        problems.append(("name_zh", _("Please give the Chinese name.")))
    elif len(values.name_zh) > NAME_MAX:
        problems.append(("name_zh", _("A name has at most %(max)d characters.", max=NAME_MAX)))
    if len(values.name_en or "") > NAME_MAX:
        problems.append(("name_en", _("A name has at most %(max)d characters.", max=NAME_MAX)))
    if (values.lat is None) != (values.lon is None):
        problems.append(("lat", _("Give both the latitude and the longitude, or neither.")))
    if values.lat is not None and not -90 <= values.lat <= 90:
        problems.append(("lat", _("The latitude must be between -90 and 90.")))
    if values.lon is not None and not -180 <= values.lon <= 180:
        problems.append(("lon", _("The longitude must be between -180 and 180.")))
    if not 0 <= values.position <= 10_000:
        problems.append(("position", _("The position must be between 0 and 10000.")))
    return problems


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        field_name, message = problems[0]
        raise AreaError(message, field_name)


def _code_taken(code: str, area: Area | None) -> bool:
    stmt = sa.select(Area.id).where(Area.code == code)
    if area is not None and area.id is not None:
        stmt = stmt.where(Area.id != area.id)
    return db.session.scalar(stmt) is not None


def _too_deep(parent: Area | None, levels_below: int = 0) -> bool:
    depth = parent.depth + 1 if parent is not None else 0
    return depth + levels_below >= MAX_DEPTH


def _place(area: Area, parent: Area | None) -> None:
    """Give a new area (flushed, so it has its id) its depth and path."""
    area.depth = parent.depth + 1 if parent is not None else 0
    area.path = f"{parent.path if parent is not None else '/'}{area.id}/"


def _new_area(values: AreaValues, parent: Area | None) -> Area:
    # The path needs the id: until the flush gives it, a placeholder that no
    # subtree range contains ("~" sorts after "/" and every digit) and that is
    # unique like the code.
    area = Area(**values.as_dict(), parent=parent, path=f"~{values.code}")
    db.session.add(area)
    return area


def create_area(values: AreaValues, parent: Area | None, actor: User) -> Area:
    _refuse(check_values(values))
    if _code_taken(values.code, None):
        raise AreaError(_("Another area already uses this code."), "code")
    if _too_deep(parent):
        raise AreaError(
            _("Areas can be at most %(levels)d levels deep.", levels=MAX_DEPTH), "parent_code"
        )
    area = _new_area(values, parent)
    db.session.flush()
    _place(area, parent)
    db.session.flush()
    record(
        actor,
        "area.create",
        area,
        after={**values.as_dict(), "parent": parent.code if parent else None},
    )
    return area


def _subtree_height(area: Area) -> int:
    """How many levels lie below the area (0 for a leaf)."""
    deepest = db.session.scalar(sa.select(sa.func.max(Area.depth)).where(subtree(area.path)))
    return (deepest or area.depth) - area.depth


def _move(area: Area, parent: Area | None) -> None:
    """Put the area, and everything under it, under `parent`: one UPDATE of the
    subtree's paths and depths. The needs keep their area."""
    if parent is not None and parent.path.startswith(area.path):
        raise AreaError(
            _("An area cannot be placed under itself or one of its own."), "parent_code"
        )
    if _too_deep(parent, _subtree_height(area)):
        raise AreaError(
            _("Areas can be at most %(levels)d levels deep.", levels=MAX_DEPTH), "parent_code"
        )
    old_path = area.path
    new_path = f"{parent.path if parent is not None else '/'}{area.id}/"
    shift = (parent.depth + 1 if parent is not None else 0) - area.depth
    low, high = path_range(old_path)
    db.session.execute(
        sa.update(Area)
        .where(Area.path >= low, Area.path < high)
        .values(
            path=sa.literal(new_path, sa.String).concat(
                sa.func.substr(Area.path, len(old_path) + 1)
            ),
            depth=Area.depth + shift,
        )
        .execution_options(synchronize_session="fetch")
    )
    area.parent = parent


def update_area(area: Area, values: AreaValues, parent: Area | None, actor: User) -> bool:
    """Save the area's values and, when `parent` changed, move it. False when
    nothing changed."""
    _refuse(check_values(values))
    if _code_taken(values.code, area):
        raise AreaError(_("Another area already uses this code."), "code")
    before, after = {}, {}
    for key, value in values.as_dict().items():
        if getattr(area, key) != value:
            before[key], after[key] = getattr(area, key), value
    if area.parent_id != (parent.id if parent else None):
        before["parent"] = area.parent.code if area.parent else None
        after["parent"] = parent.code if parent else None
        _move(area, parent)
    if not after:
        return False
    for key, value in values.as_dict().items():
        setattr(area, key, value)
    db.session.flush()
    record(actor, "area.update", area, before=before, after=after)
    return True


# --- import from CSV ---------------------------------------------------------------

REQUIRED_COLUMNS = ("code", "parent_code", "name_zh")
OPTIONAL_COLUMNS = ("name_en", "lat", "lon", "position")


@dataclass
class ImportProblem:
    line: int  # in the file, the header being line 1
    message: str


class AreaImportError(AreaError):
    """The file cannot be imported: nothing of it was saved. `problems` lists
    every line that is wrong (the first MAX_PROBLEMS_SHOWN) and `count` how
    many there were."""

    def __init__(self, problems: list[ImportProblem]):
        problems = sorted(problems, key=lambda p: p.line)
        super().__init__(
            _("Nothing was imported: %(count)d problems in the file.", count=len(problems)),
            "file",
        )
        self.count = len(problems)
        self.problems = problems[:MAX_PROBLEMS_SHOWN]


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int


@dataclass
class _Line:
    number: int
    parent_code: str
    values: AreaValues


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without the byte order mark Excel writes), else GB18030,
    which Chinese Excel writes when it saves "CSV"."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise AreaImportError(
        [ImportProblem(1, _("The file must be a CSV text file in UTF-8 or GB18030."))]
    )


def _number(text: str, line: int, name: str, problems: list[ImportProblem]) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(ImportProblem(line, _("%(column)s is not a number.", column=name)))
        return None
    return value


def _read_lines(text: str) -> tuple[list[_Line], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [bounded_text(name, 40).lower() for name in next(reader, [])]
    except csv.Error:
        header = []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        if missing:
            message = _(
                "The first line must name the columns: %(required)s, and optionally "
                "%(optional)s. Missing: %(missing)s.",
                required=", ".join(REQUIRED_COLUMNS),
                optional=", ".join(OPTIONAL_COLUMNS),
                missing=", ".join(missing),
            )
        else:
            message = _("Unknown columns: %(names)s.", names=", ".join(unknown))
        return [], [ImportProblem(1, message)]
    lines: list[_Line] = []
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) >= MAX_IMPORT_ROWS:
                problems.append(
                    ImportProblem(
                        number,
                        _("A file may hold at most %(n)d areas.", n=MAX_IMPORT_ROWS),
                    )
                )
                break
            if len(row) > len(header):
                problems.append(ImportProblem(number, _("This line has more cells than columns.")))
                continue
            cells = dict(zip(header, (bounded_text(c, 200) for c in row), strict=False))
            position = cells.get("position", "")
            values = AreaValues(
                code=cells.get("code", ""),
                name_zh=cells.get("name_zh", ""),
                name_en=cells.get("name_en", ""),
                lat=_number(cells.get("lat", ""), number, "lat", problems),
                lon=_number(cells.get("lon", ""), number, "lon", problems),
                position=bounded_int(position, 0, 10_000, -1) if position else 0,
            )
            lines.append(_Line(number, cells.get("parent_code", ""), values))
    except csv.Error as error:
        problems.append(ImportProblem(reader.line_num, _("Unreadable CSV: %(e)s", e=str(error))))
    if not lines and not problems:
        problems.append(ImportProblem(1, _("The file holds no areas.")))
    return lines, problems


def import_areas(data: bytes, actor: User | None, *, source: str = "") -> ImportResult:
    """Create or update the areas of a CSV file (columns code, parent_code,
    name_zh, and optionally name_en, lat, lon, position), all or nothing: any
    wrong line raises AreaImportError with every problem found and nothing is
    saved. A parent may be an area already there or one of the file, on any
    line; an area already there keeps its parent (move it on its page)."""
    lines, problems = _read_lines(decode_csv(data))
    for line in lines:
        problems += [
            ImportProblem(line.number, message) for _f, message in check_values(line.values)
        ]
    in_file: dict[str, _Line] = {}
    for line in lines:
        if line.values.code in in_file:
            first = in_file[line.values.code].number
            problems.append(
                ImportProblem(line.number, _("The code is already on line %(n)d.", n=first))
            )
        else:
            in_file[line.values.code] = line
    existing = {a.code: a for a in db.session.scalars(sa.select(Area))}
    code_of = {a.id: a.code for a in existing.values()}

    # Depth of every new area, following parents through the file; a chain
    # that loops or ends at an unknown code is refused.
    depth: dict[str, int] = {}

    def depth_of(code: str, seen: tuple[str, ...] = ()) -> int | None:
        if code in existing:
            return existing[code].depth
        if code in depth:
            return depth[code]
        line = in_file.get(code)
        if line is None or code in seen:
            return None
        if not line.parent_code:
            found = 0
        else:
            above = depth_of(line.parent_code, (*seen, code))
            found = None if above is None else above + 1
        if found is not None:
            depth[code] = found
        return found

    for line in lines:
        code, parent_code = line.values.code, line.parent_code
        old = existing.get(code)
        if old is not None:
            if code_of.get(old.parent_id, "") != parent_code:
                problems.append(
                    ImportProblem(
                        line.number,
                        _(
                            "The area %(code)s exists under another parent; "
                            "move it on its own page.",
                            code=code,
                        ),
                    )
                )
            continue
        if parent_code and parent_code not in existing and parent_code not in in_file:
            problems.append(
                ImportProblem(line.number, _("Unknown parent code: %(code)s.", code=parent_code))
            )
            continue
        found = depth_of(code) if CODE.fullmatch(code) else 0
        if found is None:
            problems.append(ImportProblem(line.number, _("The parents of this area form a loop.")))
        elif found >= MAX_DEPTH:
            problems.append(
                ImportProblem(
                    line.number,
                    _("Areas can be at most %(levels)d levels deep.", levels=MAX_DEPTH),
                )
            )
    if problems:
        raise AreaImportError(problems)

    created = updated = unchanged = 0
    new_lines = sorted(
        (line for line in lines if line.values.code not in existing),
        key=lambda line: depth[line.values.code],
    )
    by_code = dict(existing)
    for level in sorted({depth[line.values.code] for line in new_lines}):
        batch = [line for line in new_lines if depth[line.values.code] == level]
        made = [(_new_area(line.values, by_code.get(line.parent_code)), line) for line in batch]
        db.session.flush()  # one INSERT per level: ids for the paths
        for area, line in made:
            _place(area, by_code.get(line.parent_code))
            by_code[area.code] = area
        created += len(made)
    for line in lines:
        old = existing.get(line.values.code)
        if old is None:
            continue
        changed = False
        for key, value in line.values.as_dict().items():
            if getattr(old, key) != value:
                setattr(old, key, value)
                changed = True
        updated += changed
        unchanged += not changed
    db.session.flush()
    result = ImportResult(created, updated, unchanged)
    record(
        actor,
        "area.import",
        _ImportedFile(source),
        after={"created": created, "updated": updated, "unchanged": unchanged},
    )
    return result


class _ImportedFile:
    """What the audit row of an import points at: the file's name (without
    its folders, cut to the audit log's length)."""

    __tablename__ = "areas"

    def __init__(self, name: str):
        self.key = bounded_text(PurePath(name or "").name, 40)


# --- a need's area -----------------------------------------------------------------


def set_need_area(need: Need, area: Area | None, actor: User) -> None:
    """An admin sets or changes the area of a need (an audit row says from
    which to which)."""
    if not need.status.is_editable:
        raise AreaError(_("This need can no longer be edited."))
    if area is None and need.status.is_with_partner:
        raise AreaError(_("A need with a partner keeps an area: choose another one."), "area")
    if (area.id if area else None) == need.area_id:
        raise AreaError(_("The need is already in this area."), "area")
    before = need.area.code if need.area else None
    need.area = area
    record(
        actor,
        "need.area",
        need,
        before={"area": before},
        after={"area": area.code if area else None},
    )


def open_needs_in_area(area_id: int, exclude_id: int | None = None, limit: int = 5) -> list[Need]:
    """Published needs still being worked on in this area or under it, newest
    first (for the "nearby" hint beside similar needs): two queries."""
    area = db.session.get(Area, area_id)
    if area is None:
        return []
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category))
        .where(
            Need.is_listed,
            Need.status.in_(OPEN_STATUSES),
            Need.area_id.in_(subtree_ids(area.path)),
        )
        .order_by(Need.id.desc())
        .limit(limit)
    )
    if exclude_id is not None:
        stmt = stmt.where(Need.id != exclude_id)
    return list(db.session.scalars(stmt))


def received_by_area(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    category_id: int | None = None,
    area_path: str | None = None,
) -> dict[int, int]:
    """Needs received in the period (their `submit` step, as "Received" per
    month counts them) by area id, each counted in its own area and in every
    area above it: one query, grouped by the areas' paths."""
    stmt = (
        sa.select(Area.path, sa.func.count(sa.distinct(TimelineEvent.need_id)))
        .join(Need, Need.id == TimelineEvent.need_id)
        .join(Area, Area.id == Need.area_id)
        .where(TimelineEvent.move == "submit")
        .group_by(Area.path)
    )
    if start is not None:
        stmt = stmt.where(TimelineEvent.created_at >= start)
    if end is not None:
        stmt = stmt.where(TimelineEvent.created_at < end)
    if category_id is not None:
        stmt = stmt.where(Need.category_id == category_id)
    if area_path is not None:
        stmt = stmt.where(subtree(area_path))
    counts: dict[int, int] = defaultdict(int)
    for path, count in db.session.execute(stmt):
        for area_id in lineage(path):
            counts[area_id] += count
    return dict(counts)
