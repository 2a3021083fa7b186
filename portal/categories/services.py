"""The rules of the category admin pages. Every change flushes and writes one
audit row with the fields that changed; nothing here commits (the view
commits once)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.audit.services import apply_changes, record
from portal.auth.models import User
from portal.categories.models import Category
from portal.domain import DomainError
from portal.extensions import db


class CategoryError(DomainError):
    """A rule of the categories refused the change."""


def all_categories() -> list[Category]:
    """Every category, active or not, in list order, with its default partner."""
    return list(
        db.session.scalars(
            sa.select(Category)
            .options(joinedload(Category.default_partner))
            .order_by(Category.position, Category.id)
        )
    )


def get_category(category_id: int) -> Category | None:
    return db.session.get(Category, category_id)


def _check_category(category: Category | None, values: dict) -> None:
    if values["response_sla_days"] < 1 or values["resolution_sla_days"] < 1:
        raise CategoryError(_("The time limits must be at least one day."), "response_sla_days")
    stmt = sa.select(Category.id).where(Category.code == values["code"])
    if category is not None and category.id is not None:
        stmt = stmt.where(Category.id != category.id)
    if db.session.scalar(stmt) is not None:
        raise CategoryError(_("Another category already uses this code."), "code")
    if values["resolution_sla_days"] < values["response_sla_days"]:
        raise CategoryError(
            _("The time to resolution cannot be shorter than the time to first response."),
            "resolution_sla_days",
        )


def create_category(values: dict, actor: User) -> Category:
    _check_category(None, values)
    category = Category(**values)
    db.session.add(category)
    db.session.flush()
    record(
        actor,
        "category.create",
        category,
        after={k: v for k, v in values.items() if v not in ("", None)},
    )
    return category


def update_category(category: Category, values: dict, actor: User) -> bool:
    """False when nothing changed (and nothing is audited)."""
    _check_category(category, values)
    before, after = apply_changes(category, values)
    if not after:
        return False
    db.session.flush()
    record(actor, "category.update", category, before=before, after=after)
    return True
