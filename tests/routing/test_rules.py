"""Routing rules by category and area: the most specific rule wins, the
admins' order breaks ties (a second rule is the first one's fallback), the
category's default partner stays the last resort; publishing routes by them
and triage suggests their partner, in constant queries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import g

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.core.settings import ROUTE_ON_PUBLISH, set_setting
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.routing.models import RoutingRule
from portal.routing.services import add_rule, move_rule, partner_for
from tests.conftest import csrf_token_from
from tests.factories import make_area, make_category, make_need, make_organisation, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def world(app):
    """Lights and roads; a city with two districts, one with a street; an
    organisation per rule, and a default partner for each category."""
    w = type("World", (), {})()
    w.admin = make_user(Role.ADMIN)
    w.orgs = {k: make_organisation(name_en=f"Org {k}") for k in "ABCDEFGXY"}
    w.lights = make_category(name_en="Lights", default_partner=w.orgs["X"])
    w.roads = make_category(name_en="Roads", default_partner=w.orgs["Y"])
    w.city = make_area("C0")
    w.district = make_area("D1", w.city)
    w.other_district = make_area("D2", w.city)
    w.street = make_area("S1", w.district)
    o = w.orgs
    add_rule(w.lights, None, o["A"], w.admin)  # lights anywhere
    add_rule(None, w.district, o["B"], w.admin)  # anything in the district
    add_rule(w.lights, w.district, o["C"], w.admin)  # lights in the district
    add_rule(w.lights, w.street, o["D"], w.admin)  # lights in the street
    add_rule(None, w.street, o["E"], w.admin)  # anything in the street
    db.session.flush()
    return w


def _need(world, category, area, status=NeedStatus.OPEN):
    need, _ = make_need(status, category=category, area=area)
    return need


@pytest.mark.parametrize(
    ("category", "area", "expected"),
    [
        ("lights", "street", "D"),  # category and the deepest area
        ("roads", "street", "E"),  # area only, the street's
        ("lights", "district", "C"),  # category and the district
        ("roads", "district", "B"),  # area only, the district's
        ("lights", "other_district", "A"),  # category only
        ("lights", None, "A"),  # no area: category only
        ("roads", "other_district", "Y"),  # no rule: the default partner
        ("roads", None, "Y"),
    ],
)
def test_the_most_specific_rule_wins(world, category, area, expected):
    need = _need(world, getattr(world, category), getattr(world, area) if area else None)
    assert partner_for(need) is world.orgs[expected]


def test_among_equal_rules_the_list_order_decides_and_inactive_ones_are_skipped(world):
    second = add_rule(None, world.district, world.orgs["G"], world.admin)
    need = _need(world, world.roads, world.district)
    assert partner_for(need) is world.orgs["B"]  # B's rule is higher in the list
    while move_rule(second, up=True, actor=world.admin):  # to the top of the list
        pass
    assert partner_for(need) is world.orgs["G"]
    world.orgs["G"].is_active = False
    db.session.flush()
    g.pop("_routing_rules", None)  # (the rules are read once per request)
    assert partner_for(need) is world.orgs["B"]  # the fallback rule


def test_publishing_routes_by_the_rules(client, login, world):
    set_setting(ROUTE_ON_PUBLISH, "1", world.admin)
    need = _need(world, world.lights, world.street, NeedStatus.SUBMITTED)
    db.session.commit()
    login(world.admin)
    page = client.get(f"/admin/needs/{need.ref}").text
    response = client.post(
        f"/admin/needs/{need.ref}/publish", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    fresh = db.session.get(Need, need.id)
    assert (
        fresh.status == NeedStatus.ROUTED and fresh.assigned_organisation_id == world.orgs["D"].id
    )


def test_triage_suggests_the_rules_partner_in_constant_queries(client, login, world, queries):
    login(world.admin)
    _need(world, world.roads, world.street)
    db.session.commit()
    client.get("/admin/triage")  # warm: the term matcher is compiled once per process
    with queries() as few:
        page = client.get("/admin/triage").text
    assert "Suggested partner:" in page and "Org E" in page
    assert f'<option selected value="{world.orgs["E"].id}">Org E (suggested)</option>' in page
    for area in (world.district, world.other_district, world.street, None, world.city):
        _need(world, world.lights, area)
        _need(world, world.roads, area)
    db.session.commit()
    with queries() as many:
        client.get("/admin/triage")
    assert len(many) == len(few)


def test_admins_add_move_and_remove_rules_through_the_page(client, login, world):
    login(world.admin)
    page = client.get("/admin/routing").text
    assert page.index("Org A") < page.index("Org E")  # the list in its order
    token = csrf_token_from(page)
    # Neither a category nor an area: refused, nothing saved, the choice kept.
    before = db.session.scalar(sa.select(sa.func.count(RoutingRule.id)))
    refused = client.post(
        "/admin/routing",
        data={"csrf_token": token, "category": "", "organisation": str(world.orgs["F"].id)},
    )
    assert refused.status_code == 422
    assert "Name a category, an area or both" in refused.text
    assert f'<option selected value="{world.orgs["F"].id}">' in refused.text
    assert db.session.scalar(sa.select(sa.func.count(RoutingRule.id))) == before
    # The roads of the other district go to F.
    added = client.post(
        "/admin/routing",
        data={
            "csrf_token": token,
            "category": str(world.roads.id),
            "area": ["C0", "D2"],
            "organisation": str(world.orgs["F"].id),
        },
    )
    assert added.status_code == 303
    rule = db.session.scalar(sa.select(RoutingRule).order_by(RoutingRule.id.desc()).limit(1))
    assert (rule.category_id, rule.area_id, rule.organisation_id) == (
        world.roads.id,
        world.other_district.id,
        world.orgs["F"].id,
    )
    # The same rule twice is refused.
    again = client.post(
        "/admin/routing",
        data={
            "csrf_token": token,
            "category": str(world.roads.id),
            "area": ["C0", "D2"],
            "organisation": str(world.orgs["F"].id),
        },
    )
    assert again.status_code == 422 and "This rule exists already." in again.text
    assert (
        client.post(
            f"/admin/routing/{rule.id}/move", data={"csrf_token": token, "direction": "up"}
        ).status_code
        == 303
    )
    rule_id = rule.id
    assert (
        client.post(f"/admin/routing/{rule_id}/remove", data={"csrf_token": token}).status_code
        == 303
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(RoutingRule.id).where(RoutingRule.id == rule_id)) is None
    actions = set(
        db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("routing.%")))
    )
    assert actions == {"routing.add", "routing.move", "routing.remove"}
    assert (
        client.post("/admin/routing/999999/remove", data={"csrf_token": token}).status_code == 404
    )


def test_other_roles_cannot_touch_the_rules(client, login, world):
    login(make_user(Role.PARTNER))
    assert client.get("/admin/routing").status_code == 403
    rule = db.session.scalar(sa.select(RoutingRule).limit(1))
    token = csrf_token_from(client.get("/needs/new").text)
    assert (
        client.post(f"/admin/routing/{rule.id}/remove", data={"csrf_token": token}).status_code
        == 403
    )
    assert db.session.get(RoutingRule, rule.id) is not None
