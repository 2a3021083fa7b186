"""Which organisation a need goes to: the admins' ordered routing rules by
category and area subtree, then the category's default partner.

Precedence, the most specific first:
1. a rule naming both the category and an area beats one naming only one;
2. among those, the deeper area wins (a street's rule beats its district's);
3. among rules equally specific, the one higher in the admins' list wins (so a
   second rule for the same category and area is the fallback of the first).
Rules of inactive organisations are skipped. The rules are few (hundreds at most), so
they are loaded once per request and matched in Python against each need's
area path: a queue page of fifty needs costs two queries, not fifty."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.areas.models import Area, lineage
from portal.audit.services import record
from portal.auth.models import User
from portal.categories.models import Category
from portal.domain import DomainError
from portal.extensions import db
from portal.needs.models import Need
from portal.partners.models import Organisation
from portal.routing.models import RoutingRule

#: More rules than this is a sign that the areas or categories need rethinking.
MAX_RULES = 1000


class RoutingError(DomainError):
    """A routing rule that cannot be saved that way."""


@dataclass(frozen=True)
class _Rule:
    id: int
    position: int
    category_id: int | None
    area_id: int | None
    area_depth: int
    organisation: Organisation

    def matches(self, category_id: int | None, area_ids: set[int]) -> bool:
        if self.category_id is not None and self.category_id != category_id:
            return False
        return self.area_id is None or self.area_id in area_ids

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        named = (self.category_id is not None) + (self.area_id is not None)
        return (named, self.area_depth, -self.position, -self.id)


def rules() -> list[RoutingRule]:
    """Every rule in the admins' order, with what it names (one query)."""
    return list(
        db.session.scalars(
            sa.select(RoutingRule)
            .options(
                joinedload(RoutingRule.category),
                joinedload(RoutingRule.area),
                joinedload(RoutingRule.organisation),
            )
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def _active_rules() -> list[_Rule]:
    """The rules whose organisation is active, once per request."""
    cached = g.get("_routing_rules")
    if cached is None:
        cached = g._routing_rules = [
            _Rule(
                r.id,
                r.position,
                r.category_id,
                r.area_id,
                r.area.depth if r.area is not None else -1,
                r.organisation,
            )
            for r in rules()
            if r.organisation.is_active
        ]
    return cached


def best_rule(category_id: int | None, area_path: str | None) -> _Rule | None:
    """The most specific rule for a need of this category in the area with this
    path (None: no area), or None when no rule matches."""
    area_ids = set(lineage(area_path))
    found = [r for r in _active_rules() if r.matches(category_id, area_ids)]
    return max(found, key=lambda r: r.specificity, default=None)


def partner_for(need: Need) -> Organisation | None:
    """Where the need should go: the best rule's organisation, else the
    category's active default partner, else None."""
    return suggestions([need]).get(need.id)


def suggestions(needs: Iterable[Need]) -> dict[int, Organisation]:
    """`partner_for` of many needs at once: one query for their areas' paths
    (the rules are loaded once per request)."""
    needs = list(needs)
    area_ids = {n.area_id for n in needs if n.area_id is not None}
    paths = (
        dict(db.session.execute(sa.select(Area.id, Area.path).where(Area.id.in_(area_ids))).all())
        if area_ids
        else {}
    )
    found: dict[int, Organisation] = {}
    for need in needs:
        rule = best_rule(need.category_id, paths.get(need.area_id))
        if rule is not None:
            found[need.id] = rule.organisation
            continue
        default = need.category.default_partner if need.category is not None else None
        if default is not None and default.is_active:
            found[need.id] = default
    return found


def add_rule(
    category: Category | None, area: Area | None, organisation: Organisation | None, actor: User
) -> RoutingRule:
    if organisation is None or not organisation.is_active:
        raise RoutingError(_("Choose an active partner organisation."), "organisation")
    if category is None and area is None:
        raise RoutingError(
            _(
                "Name a category, an area or both: the category's default partner already "
                "covers the rest."
            ),
            "category",
        )
    same = sa.select(RoutingRule.id).where(
        RoutingRule.category_id.is_(None)
        if category is None
        else RoutingRule.category_id == category.id,
        RoutingRule.area_id.is_(None) if area is None else RoutingRule.area_id == area.id,
        RoutingRule.organisation_id == organisation.id,
    )
    if db.session.scalar(same.limit(1)) is not None:
        raise RoutingError(_("This rule exists already."), "organisation")
    count = db.session.scalar(sa.select(sa.func.count(RoutingRule.id)))
    if count >= MAX_RULES:
        raise RoutingError(_("There are too many rules already."))
    last = db.session.scalar(sa.select(sa.func.max(RoutingRule.position))) or 0
    rule = RoutingRule(
        position=last + 1,
        category_id=category.id if category else None,
        area_id=area.id if area else None,
        organisation_id=organisation.id,
        created_by_id=actor.id,
    )
    db.session.add(rule)
    db.session.flush()
    record(actor, "routing.add", rule, after=_describe(rule))
    g.pop("_routing_rules", None)
    return rule


def remove_rule(rule: RoutingRule, actor: User) -> None:
    record(actor, "routing.remove", rule, before=_describe(rule))
    db.session.delete(rule)
    g.pop("_routing_rules", None)


def move_rule(rule: RoutingRule, up: bool, actor: User) -> bool:
    """Swap the rule with its neighbour above or below; False at an end."""
    order = RoutingRule.position.desc() if up else RoutingRule.position
    compare = RoutingRule.position < rule.position if up else RoutingRule.position > rule.position
    other = db.session.scalar(sa.select(RoutingRule).where(compare).order_by(order).limit(1))
    if other is None:
        return False
    rule.position, other.position = other.position, rule.position
    record(actor, "routing.move", rule, after={"position": rule.position})
    g.pop("_routing_rules", None)
    return True


def get_rule(rule_id: int) -> RoutingRule | None:
    return db.session.get(RoutingRule, rule_id)


def _describe(rule: RoutingRule) -> dict:
    return {
        "category_id": rule.category_id,
        "area_id": rule.area_id,
        "organisation_id": rule.organisation_id,
        "position": rule.position,
    }
