"""The numbers of the transparency dashboard and of the public partner pages,
and the geometry of their charts.

Every page here runs a constant number of queries whatever the data size:
counts are grouped in SQL (per month, per status, per round), the response-loop
numbers come from `portal.metrics.services` in one pass per grouping. Chart
scales are computed here so templates only place what they are given."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.areas.models import Area, subtree_ids
from portal.areas.services import received_by_area
from portal.areas.tree import resolve
from portal.categories.models import Category
from portal.core.cache import shared
from portal.core.formatting import fmt_number, fmt_rate
from portal.core.params import bounded_date, bounded_int
from portal.extensions import db
from portal.metrics.services import (
    DashboardMetrics,
    Metrics,
    compute_dashboard,
    compute_dashboard_public,
)
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners.models import (
    Organisation,
)
from portal.projects.models import Project, ProjectNeed, ProjectStatus
from portal.voting.models import PriorityRound
from portal.voting.services import eligible_members_query
from portal.workdays.services import local_today, local_zone
from portal.workflow.models import TimelineEvent
from portal.workflow.statuses import in_order, with_trait

#: The longest period the dashboard draws month by month.
MAX_MONTHS = 60
DEFAULT_MONTHS = 12
#: Rounds and projects listed on the dashboard (the newest / furthest along).
ROUNDS_SHOWN = 12
TOP_PROJECTS = 8
#: A partner page lists at most this many projects; the directory this many partners.

# --- formatting in the reader's locale -------------------------------------------


# --- the period and the filters ---------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def _months_back(day: date, months: int) -> date:
    """The first day of the month `months` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Local dates, both included; `start`/`end` are the UTC bounds [start, end)."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return _local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return _local_midnight(self.last_day + timedelta(days=1))

    def months(self) -> list[str]:
        """Every month of the period as "YYYY-MM", oldest first."""
        months = []
        year, month = self.first_day.year, self.first_day.month
        while (year, month) <= (self.last_day.year, self.last_day.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    @classmethod
    def default(cls, today: date | None = None) -> Period:
        """The last twelve months, the current one included."""
        today = today or local_today()
        return cls(_months_back(today, DEFAULT_MONTHS - 1), today)


def _parse_day(text: str) -> date | None:
    return bounded_date(text)


@dataclass
class Filters:
    """The dashboard's GET form (start, end, category, area) as typed, the
    period, category and area it means, and what was wrong with it. Bad input
    never breaks the page: the wrong part falls back to its default and an
    error says why."""

    start_text: str = ""
    end_text: str = ""
    category_text: str = ""
    period: Period = field(default_factory=Period.default)
    category_id: int | None = None
    #: The area and everything under it (?area=CODE, or the cascading
    #: choice's values: the deepest wins).
    area: Area | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: Mapping[str, str], category_ids: set[int] | None = None) -> Filters:
        filters = cls(
            start_text=args.get("start", "").strip()[:20],
            end_text=args.get("end", "").strip()[:20],
            category_text=args.get("category", "").strip()[:20],
        )
        filters.period = filters._parse_period()
        if category_ids is not None and filters.category_text:
            category_id = bounded_int(filters.category_text)
            if category_id in category_ids:
                filters.category_id = category_id
            else:
                filters.errors.append(_("Choose a category from the list."))
        if hasattr(args, "getlist") and "area" in args:
            found = resolve(args.getlist("area"))
            filters.area = found.area
            if found.unknown:
                filters.errors.append(_("Choose an area from the list."))
        return filters

    @property
    def area_path(self) -> str | None:
        return self.area.path if self.area is not None else None

    def _parse_period(self) -> Period:
        default = Period.default()
        first = _parse_day(self.start_text) if self.start_text else None
        last = _parse_day(self.end_text) if self.end_text else None
        if (self.start_text and first is None) or (self.end_text and last is None):
            self.errors.append(_("Enter dates as year-month-day, for example 2026-03-31."))
            return default
        last = last or default.last_day
        first = first or _months_back(last, DEFAULT_MONTHS - 1)
        if last < first:
            self.errors.append(_("The end date must be on or after the start date."))
            return default
        if len(Period(first, last).months()) > MAX_MONTHS:
            self.errors.append(
                _("Choose a period of at most %(months)d months.", months=MAX_MONTHS)
            )
            return default
        return Period(first, last)

    def as_args(self) -> dict[str, str]:
        args = {"start": self.start_text, "end": self.end_text, "category": self.category_text}
        if self.area is not None:
            args["area"] = self.area.code
        return {key: value for key, value in args.items() if value}


# --- SQL helpers ------------------------------------------------------------------


def month_of(column: sa.ColumnElement) -> sa.ColumnElement[str]:
    """The local month ("YYYY-MM") of a UTC timestamp column, in SQL.

    PostgreSQL converts with the zone's rules; SQLite knows no zones, so it
    shifts by the zone's current UTC offset (exact for zones without daylight
    saving time, such as Asia/Shanghai)."""
    zone = local_zone()
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone(zone.key, column), "YYYY-MM")
    offset = utcnow().astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return sa.func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


# --- chart geometry ----------------------------------------------------------------

CHART_WIDTH = 360


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 5 × 10ⁿ at or above `value` (at least 1): a round top
    for an axis."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


@dataclass
class HBar:
    label: str  # shortened to fit the line; the data table has it whole
    full_label: str
    display: str
    width: float  # of the bar, in viewBox units (0 when there is no value)
    y: float  # of the label's baseline
    bar_y: float  # of the bar, under its label
    series: int = 1


#: Width of a label line in "narrow character" units: a CJK character counts two.
LABEL_UNITS = 44


def shorten(label: str, units: int = LABEL_UNITS) -> str:
    used = 0
    for i, char in enumerate(label):
        used += 2 if ord(char) > 0x2E7F else 1
        if used > units:
            return label[: max(i - 1, 1)] + "…"
    return label


@dataclass
class HBarChart:
    """Horizontal bars, one per row, each labelled on the line above it: fits a
    phone whatever the label's length. `rows` back the data table too."""

    key: str
    title: str
    desc: str
    bars: list[HBar]
    height: float
    columns: tuple[str, str]
    width: int = CHART_WIDTH
    row_height: int = 38
    bar_height: int = 14


def hbar_chart(
    key: str,
    title: str,
    desc: str,
    rows: list[tuple[str, float | None, str]],
    *,
    maximum: float | None = None,
    columns: tuple[str, str] | None = None,
    series: int = 1,
) -> HBarChart:
    """`rows` are (label, value or None, displayed value); bars scale to
    `maximum` (e.g. 1 for rates), else to the largest value."""
    top = maximum if maximum is not None else max((v or 0 for _, v, _ in rows), default=0)
    chart = HBarChart(
        key=key,
        title=title,
        desc=desc,
        bars=[],
        height=0,
        columns=columns or (_("Item"), _("Value")),
    )
    usable = chart.width - 4
    for i, (label, value, display) in enumerate(rows):
        width = usable * min(value, top) / top if value and top else 0
        y = i * chart.row_height + 14
        chart.bars.append(
            HBar(
                label=shorten(label),
                full_label=label,
                display=display,
                width=round(width, 1),
                y=y,
                bar_y=y + 6,
                series=series,
            )
        )
    chart.height = max(len(rows), 1) * chart.row_height
    return chart


@dataclass
class MonthBar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int


@dataclass
class MonthGroup:
    month: str  # "YYYY-MM"
    heading: str  # the month in full, for the data table
    label: str  # short, in the reader's locale
    year: str  # under January and the first month, else ""
    show_label: bool
    x_label: float
    values: list[int]
    bars: list[MonthBar]


@dataclass
class Tick:
    y: float
    label: str

    @property
    def label_y(self) -> float:
        return self.y + 4


@dataclass
class MonthlyChart:
    """Grouped vertical bars: one group per month, one bar per series."""

    key: str
    title: str
    desc: str
    series: list[str]
    groups: list[MonthGroup]
    ticks: list[Tick]
    width: int = CHART_WIDTH
    height: int = 230
    left: int = 34
    top: int = 30
    plot_height: int = 160

    @property
    def baseline(self) -> int:
        return self.top + self.plot_height

    @property
    def month_label_y(self) -> int:
        return self.baseline + 14

    @property
    def year_label_y(self) -> int:
        return self.baseline + 27

    @property
    def legend_x(self) -> list[float]:
        step = (self.width - self.left) / max(len(self.series), 1)
        return [round(self.left + i * step, 1) for i in range(len(self.series))]


def monthly_chart(
    key: str,
    title: str,
    desc: str,
    series: list[str],
    months: list[str],
    counts: Mapping[str, list[int]],
) -> MonthlyChart:
    chart = MonthlyChart(key=key, title=title, desc=desc, series=series, groups=[], ticks=[])
    top_value = nice_ceiling(max((max(counts[m]) for m in months), default=0))
    scale = chart.plot_height / top_value
    for i in range(5):
        value = top_value * i / 4
        if value == int(value):
            chart.ticks.append(Tick(round(chart.baseline - value * scale, 1), fmt_number(value)))
    plot_width = chart.width - chart.left - 4
    group_width = plot_width / max(len(months), 1)
    gap = min(4.0, group_width * 0.2)
    bar_width = (group_width - gap) / max(len(series), 1)
    every = math.ceil(len(months) / 12)  # at most twelve month labels
    for i, month in enumerate(months):
        x0 = chart.left + i * group_width + gap / 2
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
        bars = []
        for s, value in enumerate(counts[month]):
            height = round(value * scale, 1)
            bars.append(
                MonthBar(
                    x=round(x0 + s * bar_width, 1),
                    y=round(chart.baseline - height, 1),
                    width=round(bar_width, 1),
                    height=height,
                    value=value,
                    series=s + 1,
                )
            )
        chart.groups.append(
            MonthGroup(
                month=month,
                heading=format_date(first, "yyyy-MM"),
                label=format_date(first, "MMM"),
                year=format_date(first, "yyyy") if i == 0 or number == 1 else "",
                show_label=i % every == 0,
                x_label=round(x0 + (group_width - gap) / 2, 1),
                values=list(counts[month]),
                bars=bars,
            )
        )
    return chart


# --- the dashboard ------------------------------------------------------------------

MONTHLY_MOVES = {"submit": 0, "publish": 1, "resolve": 2}


def active_categories() -> list[Category]:
    return list(
        db.session.scalars(
            sa.select(Category).where(Category.is_active).order_by(Category.position, Category.id)
        )
    )


def _needs_in_scope(stmt, category_id: int | None, area_path: str | None):
    if category_id is not None:
        stmt = stmt.where(Need.category_id == category_id)
    if area_path is not None:
        stmt = stmt.where(Need.area_id.in_(subtree_ids(area_path)))
    return stmt


def monthly_counts(
    period: Period, category_id: int | None, area_path: str | None = None
) -> dict[str, list[int]]:
    """Needs received, published and resolved in each month of the period, in
    one grouped query (a need resolved twice in a month counts once)."""
    month = month_of(TimelineEvent.created_at).label("month")
    stmt = (
        sa.select(month, TimelineEvent.move, sa.func.count(sa.distinct(TimelineEvent.need_id)))
        .where(
            TimelineEvent.move.in_(tuple(MONTHLY_MOVES)),
            TimelineEvent.created_at >= period.start,
            TimelineEvent.created_at < period.end,
        )
        # Group by the label, so PostgreSQL sees one expression, not two with
        # their own bound parameters.
        .group_by(sa.literal_column("month"), TimelineEvent.move)
    )
    if category_id is not None or area_path is not None:
        stmt = _needs_in_scope(
            stmt.join(Need, Need.id == TimelineEvent.need_id), category_id, area_path
        )
    counts = {m: [0] * len(MONTHLY_MOVES) for m in period.months()}
    for key, move, count in db.session.execute(stmt):
        if key in counts:
            counts[key][MONTHLY_MOVES[move]] = count
    return counts


def state_counts(
    category_id: int | None, area_path: str | None = None
) -> list[tuple[NeedStatus, int]]:
    """Public needs by their status now."""
    stmt = (
        sa.select(Need.status, sa.func.count(Need.id)).where(Need.is_listed).group_by(Need.status)
    )
    stmt = _needs_in_scope(stmt, category_id, area_path)
    found = dict(db.session.execute(stmt).all())
    return [(status, found.get(status, 0)) for status in in_order(with_trait("listed"))]


@dataclass
class RoundTurnout:
    round: PriorityRound
    eligible: int
    is_open: bool

    @property
    def turnout(self) -> float | None:
        return self.round.voter_count / self.eligible if self.eligible else None


def round_turnouts(period: Period, now: datetime | None = None) -> list[RoundTurnout]:
    """Rounds that ran during the period (started ones only), with turnout =
    voters ÷ eligible members, counted as `voting.services.eligible_members`
    does, for every round in the same query."""
    now = now or utcnow()
    eligible = (
        eligible_members_query(PriorityRound.ends_at, now)
        .correlate(PriorityRound)
        .scalar_subquery()
    )
    stmt = (
        sa.select(PriorityRound, eligible)
        .where(
            PriorityRound.starts_at <= now,
            PriorityRound.starts_at < period.end,
            PriorityRound.ends_at >= period.start,
        )
        .order_by(PriorityRound.ends_at.desc(), PriorityRound.id.desc())
        .limit(ROUNDS_SHOWN)
    )
    return [
        RoundTurnout(round_, count or 0, round_.is_open(now))
        for round_, count in db.session.execute(stmt)
    ]


def _project_scope(stmt, category_id: int | None, area_path: str | None = None):
    """Projects carrying a need of the category (and area), when filtered."""
    if category_id is None and area_path is None:
        return stmt
    carries = _needs_in_scope(
        sa.select(ProjectNeed.project_id).join(Need, Need.id == ProjectNeed.need_id),
        category_id,
        area_path,
    )
    return stmt.where(Project.id.in_(carries))


@dataclass
class ProjectSummary:
    by_status: list[tuple[ProjectStatus, int, float | None]]  # count, average progress
    top: list[Project]

    @property
    def total(self) -> int:
        return sum(count for _, count, _ in self.by_status)

    @property
    def average_progress(self) -> float | None:
        weighted = sum(count * (avg or 0) for _, count, avg in self.by_status)
        return weighted / self.total if self.total else None


def project_summary(category_id: int | None, area_path: str | None = None) -> ProjectSummary:
    stmt = _project_scope(
        sa.select(
            Project.status, sa.func.count(Project.id), sa.func.avg(Project.progress)
        ).group_by(Project.status),
        category_id,
        area_path,
    )
    found = {status: (count, avg) for status, count, avg in db.session.execute(stmt)}
    by_status = [
        (status, found.get(status, (0, None))[0], _float(found.get(status, (0, None))[1]))
        for status in ProjectStatus
    ]
    top = _project_scope(
        sa.select(Project)
        .options(joinedload(Project.lead_organisation))
        .where(Project.status == ProjectStatus.IN_PROGRESS)
        .order_by(Project.progress.desc(), Project.id)
        .limit(TOP_PROJECTS),
        category_id,
        area_path,
    )
    return ProjectSummary(by_status, list(db.session.scalars(top)))


def _float(value) -> float | None:
    return None if value is None else float(value)


@dataclass
class RankedRow:
    rank: int | None
    organisation: Organisation
    metrics: Metrics


def ranked_partners(grouped: dict[int, Metrics]) -> tuple[list[RankedRow], int]:
    """Active partners with something counted in the period, best first: by
    response rate, then resolution rate, then the number routed. Partners
    without any rate come last, unranked. Returns the rows and how many active
    partners had nothing in the period."""
    organisations = list(db.session.scalars(sa.select(Organisation).where(Organisation.is_active)))
    with_data = [o for o in organisations if o.id in grouped]

    def key(org: Organisation):
        m = grouped[org.id]
        return (
            m.response_rate is None,
            -(m.response_rate or 0),
            -(m.resolution_rate or 0),
            -m.routed,
            org.name,
        )

    rows = []
    rank = 0
    for org in sorted(with_data, key=key):
        m = grouped[org.id]
        if m.response_rate is not None:
            rank += 1
        rows.append(RankedRow(rank if m.response_rate is not None else None, org, m))
    return rows, len(organisations) - len(with_data)


# --- by area -------------------------------------------------------------------------

#: At most this many rows in the table by area (the areas under one area).
AREA_ROWS = 100


@dataclass
class AreaRow:
    """One area of the table by area, with everything under it."""

    area: Area
    received: int
    metrics: Metrics | None


def _by_position(stmt):
    return stmt.order_by(Area.position, Area.code).limit(AREA_ROWS)


def area_rows_shown(area: Area | None) -> list[Area]:
    """The areas the table by area lists: those directly under the chosen
    area (the area itself when it has none); without a chosen area the
    top-level ones, or, when there is only one (the city), those under it.
    One or two queries."""
    if area is not None:
        below = list(
            db.session.scalars(_by_position(sa.select(Area).where(Area.parent_id == area.id)))
        )
        return below or [area]
    tops = list(db.session.scalars(_by_position(sa.select(Area).where(Area.parent_id.is_(None)))))
    if len(tops) != 1:
        return tops
    below = list(
        db.session.scalars(_by_position(sa.select(Area).where(Area.parent_id == tops[0].id)))
    )
    return below or tops


@dataclass
class Dashboard:
    filters: Filters
    categories: list[Category]
    monthly: MonthlyChart
    states: HBarChart
    overall: Metrics
    rates: HBarChart
    by_category: list[tuple[Category, Metrics | None]]
    by_area: list[AreaRow]
    partners: list[RankedRow]
    partners_without_data: int
    rounds: list[RoundTurnout]
    turnout: HBarChart
    projects: ProjectSummary
    project_status: HBarChart
    top_projects: HBarChart


def dashboard(
    filters: Filters, categories: list[Category], now: datetime | None = None
) -> Dashboard:
    live = now is None
    now = now or utcnow()
    period, category_id, area_path = filters.period, filters.category_id, filters.area_path
    scope = {"category_id": category_id, "area_path": area_path}
    window = {"start": period.start, "end": period.end}
    # As of now, the numbers are shared by every visitor for a few minutes (cache);
    # a given `now` (tests, reports) computes them afresh.
    numbers: DashboardMetrics
    if live:
        numbers = compute_dashboard_public(**scope, **window)
    else:
        numbers = compute_dashboard(now=now, **scope, **window)
    overall, per_category, per_partner, per_area = numbers

    if live:  # months, states and areas as of now: shared like the rates above
        counts = shared(
            ("months", period.start, period.end, category_id, area_path),
            lambda: monthly_counts(period, **scope),
        )
        states_rows = shared(("states", category_id, area_path), lambda: state_counts(**scope))
        received = shared(
            ("received-by-area", period.start, period.end, category_id, area_path),
            lambda: received_by_area(**scope, **window),
        )
    else:
        counts = monthly_counts(period, **scope)
        states_rows = state_counts(**scope)
        received = received_by_area(**scope, **window)
    by_area = [
        AreaRow(area, received.get(area.id, 0), per_area.get(area.id))
        for area in area_rows_shown(filters.area)
    ]
    series = [_("Received"), _("Published"), _("Resolved")]
    totals = [sum(counts[m][i] for m in counts) for i in range(len(series))]
    monthly = monthly_chart(
        "monthly",
        _("Needs per month"),
        _(
            "Needs received, published and resolved each month: %(received)s received, "
            "%(published)s published, %(resolved)s resolved in the period.",
            received=fmt_number(totals[0]),
            published=fmt_number(totals[1]),
            resolved=fmt_number(totals[2]),
        ),
        series,
        period.months(),
        counts,
    )

    states = hbar_chart(
        "states",
        _("Public needs by status now"),
        ", ".join(f"{s.label}: {fmt_number(n)}" for s, n in states_rows),
        [(s.label, n, fmt_number(n)) for s, n in states_rows],
        columns=(_("Status"), _("Needs")),
    )

    rate_rows = [
        (_("Response rate"), overall.response_rate),
        (_("Resolution rate"), overall.resolution_rate),
        (_("Satisfaction rate"), overall.satisfaction_rate),
    ]
    rates = hbar_chart(
        "rates",
        _("The three rates"),
        ", ".join(f"{label}: {fmt_rate(value)}" for label, value in rate_rows),
        [(label, value, fmt_rate(value)) for label, value in rate_rows],
        maximum=1,
        columns=(_("Rate"), _("Value")),
        series=2,
    )

    shown = [c for c in categories if category_id is None or c.id == category_id]
    partners, without_data = ranked_partners(per_partner)

    rounds = round_turnouts(period, now)
    turnout = hbar_chart(
        "turnout",
        _("Participation in priority rounds"),
        ", ".join(f"{r.round.title}: {fmt_rate(r.turnout)}" for r in rounds)
        or _("No priority round in this period."),
        [(r.round.title, r.turnout, fmt_rate(r.turnout)) for r in rounds],
        maximum=1,
        columns=(_("Round"), _("Turnout")),
        series=2,
    )

    projects = project_summary(**scope)
    project_status = hbar_chart(
        "project-status",
        _("Projects by status"),
        ", ".join(f"{s.label}: {fmt_number(n)}" for s, n, _avg in projects.by_status),
        [(s.label, n, fmt_number(n)) for s, n, _avg in projects.by_status],
        columns=(_("Status"), _("Projects")),
        series=1,
    )
    top_projects = hbar_chart(
        "top-projects",
        _("Projects under way, furthest along first"),
        ", ".join(f"{p.title}: {fmt_rate(p.progress / 100)}" for p in projects.top)
        or _("No project is under way."),
        [(p.title, p.progress / 100, fmt_rate(p.progress / 100)) for p in projects.top],
        maximum=1,
        columns=(_("Project"), _("Progress")),
        series=3,
    )
    return Dashboard(
        filters=filters,
        categories=categories,
        monthly=monthly,
        states=states,
        overall=overall,
        rates=rates,
        by_category=[(c, per_category.get(c.id)) for c in shown],
        by_area=by_area,
        partners=partners,
        partners_without_data=without_data,
        rounds=rounds,
        turnout=turnout,
        projects=projects,
        project_status=project_status,
        top_projects=top_projects,
    )
