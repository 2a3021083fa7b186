"""Required before routing: once areas exist, a need is sent to a partner only
with its area (the workflow's `route` check), whether an admin routes it, the
routing rule routes it on publishing, or a bulk action does; a portal without
areas routes as before."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import escape

from portal.audit.models import AuditEntry
from portal.core.settings import ROUTE_ON_PUBLISH, set_setting
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.partners.models import Assignment
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor, WorkflowError, transition
from tests.factories import make_category, make_need, make_organisation, make_user

REFUSAL = "Choose the need's area before sending it to a partner."
SHOWN = str(escape(REFUSAL))  # as the page writes it (&#39;)


@pytest.fixture
def partner():
    return make_organisation(name_en="District Youth League")


@pytest.fixture
def category(partner):
    return make_category(default_partner=partner)


def _need(need) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need.id)


def _moves(need) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent.move)
            .where(TimelineEvent.need_id == need.id)
            .order_by(TimelineEvent.id)
        )
    )


def test_without_areas_a_need_is_routed_as_before(app, partner, category):
    from portal.auth.models import Role

    need, _ = make_need(NeedStatus.OPEN, category=category)
    transition(need, "route", Actor.staff(make_user(Role.ADMIN)), organisation=partner)
    assert need.status == NeedStatus.ROUTED


def test_with_areas_the_workflow_refuses_to_route_a_need_without_one(city, partner, category):
    from portal.auth.models import Role

    need, _ = make_need(NeedStatus.OPEN, category=category)
    with pytest.raises(WorkflowError) as refused:
        transition(need, "route", Actor.staff(make_user(Role.ADMIN)), organisation=partner)
    assert str(refused.value) == REFUSAL and refused.value.field == "area"

    placed, _ = make_need(NeedStatus.OPEN, category=category, area=city.bund)
    transition(placed, "route", Actor.staff(make_user(Role.ADMIN)), organisation=partner)
    assert placed.status == NeedStatus.ROUTED


def test_the_admin_route_is_refused_with_the_reason_and_nothing_changes(
    client, admin, post, city, partner, category
):
    need, _ = make_need(NeedStatus.SUBMITTED, category=category)
    db.session.commit()
    response = post(f"/admin/needs/{need.ref}/route", {"organisation": str(partner.id)})
    assert response.status_code == 422
    assert SHOWN in response.get_data(as_text=True)
    assert _need(need).status == NeedStatus.SUBMITTED  # not even published on the way
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    assert _moves(need) == ["submit"]


def test_publishing_with_the_routing_rule_on_is_refused_without_an_area(
    client, admin, post, city, partner, category
):
    set_setting(ROUTE_ON_PUBLISH, "1", admin)
    need, _ = make_need(NeedStatus.SUBMITTED, category=category)
    db.session.commit()
    response = post(f"/admin/needs/{need.ref}/publish")
    assert response.status_code == 422
    assert SHOWN in response.get_data(as_text=True)
    assert _need(need).status == NeedStatus.SUBMITTED

    need.area_id = city.huangpu.id
    db.session.commit()
    assert post(f"/admin/needs/{need.ref}/publish").status_code == 303
    assert _need(need).status == NeedStatus.ROUTED


@pytest.mark.parametrize("action", ["route", "publish"])
def test_bulk_actions_leave_needs_without_an_area_untouched(
    client, admin, post, city, partner, category, action
):
    set_setting(ROUTE_ON_PUBLISH, "1", admin)
    without, _ = make_need(NeedStatus.SUBMITTED, category=category)
    placed, _ = make_need(NeedStatus.SUBMITTED, category=category, area=city.tianping)
    db.session.commit()
    response = post(
        "/admin/triage/bulk",
        {"action": action, "organisation": str(partner.id), "need": [without.ref, placed.ref]},
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{without.ref} was not changed: {SHOWN}" in page
    assert _need(without).status == NeedStatus.SUBMITTED and _moves(without) == ["submit"]
    assert _need(placed).status == NeedStatus.ROUTED
    routed = db.session.scalars(
        sa.select(AuditEntry.object_id).where(AuditEntry.action == "need.route")
    )
    assert list(routed) == [placed.ref]
