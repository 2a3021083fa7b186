"""The triage queue: what it holds, its filters and search, its htmx results,
bulk actions and a constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Channel, Need, NeedStatus
from portal.needs.services import Submission, new_idempotency_key, submit_need
from portal.partners.models import Assignment
from portal.partners.services import request_extension
from portal.triage.services import QUEUE_PER_PAGE
from portal.workflow.services import Actor, transition
from tests.factories import make_category, make_need, make_organisation, make_user


def _refs(html: str) -> list[str]:
    return re.findall(r'<span class="triage-ref">(N-\d{4}-\d{6})</span>', html)


def _status(need) -> NeedStatus:
    db.session.expire_all()
    return db.session.get(Need, need.id).status


def _phone_need(category, title):
    need, _ = submit_need(
        Submission(
            title=title,
            body="Called the hotline about it.",
            category_id=category.id,
            place="",
            email="",
            idempotency_key=new_idempotency_key(),
            locale="en",
            channel=Channel.PHONE,
        ),
        Actor.public(),
    )
    return need


@pytest.fixture
def world():
    parks = make_category(name_en="Parks")
    roads = make_category(name_en="Roads")
    partner = make_organisation()
    first, _ = make_need(NeedStatus.SUBMITTED, category=parks, title="Broken swing in the park")
    second, _ = make_need(NeedStatus.OPEN, category=roads, title="Pothole on Elm Street")
    third = _phone_need(parks, "Dog waste bins are full")
    routed, _ = make_need(
        NeedStatus.ROUTED, category=roads, title="Routed elsewhere", partner=partner
    )
    rejected, _ = make_need(NeedStatus.REJECTED, category=roads, title="Rejected thing")
    db.session.commit()
    return {
        "first": first,
        "second": second,
        "third": third,
        "routed": routed,
        "rejected": rejected,
        "parks": parks,
        "roads": roads,
        "partner": partner,
    }


def test_the_queue_holds_new_and_returned_needs_oldest_first(client, admin, world):
    html = client.get("/admin/triage").get_data(as_text=True)
    assert _refs(html) == [world["first"].ref, world["second"].ref, world["third"].ref]
    assert "Routed elsewhere" not in html and "Rejected thing" not in html


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"status": "submitted"}, ["first", "third"]),
        ({"status": "open"}, ["second"]),
        ({"status": "routed"}, ["first", "second", "third"]),  # not a queue state: ignored
        ({"channel": "phone"}, ["third"]),
        ({"channel": "web"}, ["first", "second"]),
        ({"q": "pothole"}, ["second"]),
        ({"q": "park swing"}, ["first"]),
        ({"q": "hotline"}, ["third"]),  # the description too
        ({"q": "nothing like this"}, []),
    ],
)
def test_filters_and_search(client, admin, world, args, expected):
    html = client.get("/admin/triage", query_string=args).get_data(as_text=True)
    assert _refs(html) == [world[name].ref for name in expected]


def test_filter_by_category_and_search_by_reference(client, admin, world):
    html = client.get("/admin/triage", query_string={"category": world["parks"].id}).get_data(
        as_text=True
    )
    assert _refs(html) == [world["first"].ref, world["third"].ref]
    html = client.get("/admin/triage", query_string={"q": world["second"].ref}).get_data(
        as_text=True
    )
    assert _refs(html) == [world["second"].ref]


def test_htmx_search_returns_the_results_fragment(client, admin, world):
    response = client.get(
        "/admin/triage", query_string={"q": "pothole"}, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="queue-results"')
    assert "<html" not in html and _refs(html) == [world["second"].ref]
    assert "HX-Request" in response.headers["Vary"]
    page = client.get("/admin/triage").get_data(as_text=True)
    assert 'hx-trigger="submit, input changed delay:300ms from:#q' in page
    assert 'hx-push-url="true"' in page


def test_pages_are_bounded(client, admin):
    category = make_category()
    needs = [
        make_need(NeedStatus.SUBMITTED, category=category)[0] for _ in range(QUEUE_PER_PAGE + 3)
    ]
    db.session.commit()
    html = client.get("/admin/triage").get_data(as_text=True)
    assert _refs(html) == [n.ref for n in needs[:QUEUE_PER_PAGE]]
    match = re.search(r'href="(/admin/triage\?after=\d+)"', html)
    assert match
    html = client.get(match.group(1)).get_data(as_text=True)
    assert _refs(html) == [n.ref for n in needs[QUEUE_PER_PAGE:]]


# --- bulk ----------------------------------------------------------------------------


def _bulk(post, data, refs):
    form = {**data, "need": refs}
    return post("/admin/triage/bulk", form)


def test_bulk_publish_reports_successes_and_failures(client, admin, post, world):
    first, second, third = world["first"], world["second"], world["third"]
    response = _bulk(post, {"action": "publish"}, [first.ref, second.ref, third.ref])
    assert response.status_code == 303
    assert _status(first) == _status(third) == NeedStatus.OPEN
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"2 of 3 needs done: {first.ref}, {third.ref}." in page
    assert f"{second.ref} was not changed: Only needs awaiting review can be published." in page


def test_bulk_route_sends_all_to_one_partner(client, admin, post, world):
    partner = world["partner"]
    refs = [world["first"].ref, world["second"].ref]
    response = _bulk(post, {"action": "route", "organisation": str(partner.id)}, refs)
    assert response.status_code == 303
    for name in ("first", "second"):
        assert _status(world[name]) == NeedStatus.ROUTED
    assigned = db.session.scalars(
        sa.select(Assignment.need_id).where(Assignment.organisation_id == partner.id)
    ).all()
    assert {world["first"].id, world["second"].id} <= set(assigned)


@pytest.mark.parametrize(
    ("data", "refs", "message"),
    [
        ({"action": "route", "organisation": "9999"}, ["first"], "Choose an active partner"),
        (
            {"action": "route", "organisation": "P", "due_date": "2020-01-01"},
            ["first"],
            "The due date cannot be in the past.",
        ),
        ({"action": "explode"}, ["first"], "Choose what to do with the selected needs."),
        ({"action": "publish"}, [], "Select at least one need."),
    ],
)
def test_bulk_bad_input_changes_nothing(client, admin, post, world, data, refs, message):
    data = {k: str(world["partner"].id) if v == "P" else v for k, v in data.items()}
    response = _bulk(post, data, [world[name].ref for name in refs])
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _status(world["first"]) == NeedStatus.SUBMITTED
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 1  # the routed one


# --- query counts --------------------------------------------------------------------


STATES = [NeedStatus.SUBMITTED, NeedStatus.OPEN, NeedStatus.ROUTED, NeedStatus.ACCEPTED]


def _fill(n: int):
    partners = [make_organisation() for _ in range(3)]
    categories = [make_category(default_partner=p) for p in partners]
    for i in range(n):
        category = categories[i % 3]
        status = STATES[i % 4]
        need, _ = make_need(status, category=category, partner=partners[i % 3])
        if status == NeedStatus.ROUTED and i % 8 == 2:
            staff = make_user(Role.PARTNER, partners[i % 3])
            transition(need, "decline", Actor.staff(staff), text="Not ours.")
        if status == NeedStatus.ACCEPTED:
            assignment = db.session.scalar(
                sa.select(Assignment).where(Assignment.need_id == need.id)
            )
            assignment.due_at = utcnow() - timedelta(days=1)
            if i % 8 == 3:
                assignment.escalated_at = utcnow()
            staff = make_user(Role.PARTNER, partners[i % 3])
            request_extension(need, staff, utcnow() + timedelta(days=30), "More time please.")
    db.session.commit()


@pytest.mark.parametrize("url", ["/admin", "/admin/triage"])
def test_constant_queries(client, admin, queries, url):
    _fill(5)
    client.get(url)
    with queries() as few:
        assert client.get(url).status_code == 200
    _fill(35)
    with queries() as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_bulk_errors_keep_the_ticked_needs(client, admin, post, world):
    response = _bulk(post, {"action": "route", "organisation": "0"}, [world["second"].ref])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    ref = world["second"].ref
    assert re.search(rf'value="{ref}"\s+form="bulk-form" checked', html)
    assert "Choose an active partner organisation." in html
