"""Quality checks (/admin/checks): admins draw resolved needs at random and
record whether each was really resolved, against gaming the numbers. Every
change flushes and writes one audit row; nothing here commits (the view
commits once)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from portal.audit.models import CHECK_OUTCOMES, QualityCheck
from portal.audit.services import apply_changes, record
from portal.auth.models import User
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus, Outcome
from portal.workdays.services import local_day_start

SAMPLES_PER_PAGE = 10
MAX_SAMPLE = 50


class QualityCheckError(DomainError):
    """A rule of the quality checks refused the change."""


def _eligible_needs(date_from: date, date_to: date):
    """Resolved (or closed as resolved) in the local date range, and never drawn
    into a check before."""
    already = sa.select(QualityCheck.id).where(QualityCheck.need_id == Need.id).exists()
    return sa.select(Need.id).where(
        sa.or_(
            Need.status == NeedStatus.RESOLVED,
            sa.and_(Need.status == NeedStatus.CLOSED, Need.outcome == Outcome.RESOLVED),
        ),
        Need.resolved_at >= local_day_start(date_from),
        Need.resolved_at < local_day_start(date_to + timedelta(days=1)),
        ~already,
    )


class _Sample:
    """What the audit row of a drawn sample points at: the sample's id."""

    __tablename__ = "quality_checks"

    def __init__(self, sample: str):
        self.id = sample


def new_sample_id() -> str:
    return utcnow().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def draw_sample(
    size: int, date_from: date, date_to: date, actor: User
) -> tuple[str, list[QualityCheck]]:
    """Draw up to `size` eligible needs at random. The database picks them
    (ORDER BY random() LIMIT n), so the candidates never come into Python."""
    if not 1 <= size <= MAX_SAMPLE:
        raise QualityCheckError(
            _("Between %(min)s and %(max)s needs.", min=1, max=MAX_SAMPLE), "size"
        )
    if date_to < date_from:
        raise QualityCheckError(_("The end date must not be before the start date."), "date_to")
    stmt = _eligible_needs(date_from, date_to).order_by(sa.func.random()).limit(size)
    need_ids = list(db.session.scalars(stmt))
    if not need_ids:
        raise QualityCheckError(
            _("No resolved need from this period is left to check."), "date_from"
        )
    sample = new_sample_id()
    now = utcnow()
    checks = [
        QualityCheck(need_id=need_id, sample=sample, drawn_by_id=actor.id, drawn_at=now)
        for need_id in need_ids
    ]
    db.session.add_all(checks)
    db.session.flush()
    refs = db.session.scalars(sa.select(Need.ref).where(Need.id.in_(need_ids)).order_by(Need.id))
    record(
        actor,
        "quality_check.draw",
        _Sample(sample),
        after={
            "sample": sample,
            "size": len(need_ids),
            "from": date_from,
            "to": date_to,
            "needs": ", ".join(r or "" for r in refs),
        },
    )
    return sample, checks


def get_check(check_id: int) -> QualityCheck | None:
    return db.session.get(QualityCheck, check_id)


def record_check_outcome(check: QualityCheck, outcome: str, notes: str, actor: User) -> bool:
    if outcome not in CHECK_OUTCOMES:
        raise QualityCheckError(_("Please choose an outcome."), "outcome")
    before, after = apply_changes(check, {"outcome": outcome, "notes": notes})
    if not after:
        return False
    check.checked_by_id = actor.id
    check.checked_at = utcnow()
    db.session.flush()
    record(
        actor,
        "quality_check.record",
        check,
        before={"sample": check.sample, **before},
        after={"sample": check.sample, **after},
    )
    return True


@dataclass
class CheckRow:
    check: QualityCheck
    need_ref: str
    need_title: str
    need_status: NeedStatus
    checked_by: str


@dataclass
class SampleView:
    sample: str
    drawn_at: datetime
    drawn_by: str
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for row in self.rows if row.check.outcome)


def _check_rows(condition) -> list[tuple[CheckRow, datetime, str]]:
    drawer = aliased(User)
    checker = aliased(User)
    rows = db.session.execute(
        sa.select(
            QualityCheck,
            Need.ref,
            Need.title,
            Need.status,
            drawer.display_name,
            checker.display_name,
        )
        .join(Need, Need.id == QualityCheck.need_id)
        .join(drawer, drawer.id == QualityCheck.drawn_by_id)
        .outerjoin(checker, checker.id == QualityCheck.checked_by_id)
        .where(condition)
        .order_by(QualityCheck.id)
    )
    return [
        (CheckRow(check, ref or "", title, status, checked_by or ""), drawn_by)
        for check, ref, title, status, drawn_by, checked_by in rows
    ]


def check_row(check_id: int) -> CheckRow | None:
    rows = _check_rows(QualityCheck.id == check_id)
    return rows[0][0] if rows else None


def samples_page(page: int, *, only_sample: str | None = None) -> tuple[list[SampleView], bool]:
    """The newest samples with their checks, in two queries whatever the size."""
    if only_sample is not None:
        names, has_next = [only_sample], False
    else:
        sample_rows = list(
            db.session.execute(
                sa.select(QualityCheck.sample)
                .group_by(QualityCheck.sample)
                .order_by(sa.func.max(QualityCheck.id).desc())
                .limit(SAMPLES_PER_PAGE + 1)
                .offset((page - 1) * SAMPLES_PER_PAGE)
            )
        )
        has_next = len(sample_rows) > SAMPLES_PER_PAGE
        names = [row[0] for row in sample_rows[:SAMPLES_PER_PAGE]]
    if not names:
        return [], False
    by_name: dict[str, SampleView] = {}
    for row, drawn_by in _check_rows(QualityCheck.sample.in_(names)):
        check = row.check
        view = by_name.setdefault(
            check.sample,
            SampleView(sample=check.sample, drawn_at=check.drawn_at, drawn_by=drawn_by),
        )
        view.rows.append(row)
    return [by_name[name] for name in names if name in by_name], has_next
