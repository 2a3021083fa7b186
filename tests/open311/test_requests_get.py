"""requests.{json,xml} GET and requests/<id>.{json,xml}: fields, filters, paging."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.workflow.services import Actor, record_event
from tests.factories import make_category, make_need, make_organisation, make_user
from tests.open311.conftest import API, FIELDS, assert_errors, parse_json, parse_xml

W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def world(app):
    roads = make_category(code="roads", name_en="Roads")
    parks = make_category(code="parks", name_en="Parks")
    partner = make_organisation(name_en="Works office")
    routed = make_need(NeedStatus.IN_PROGRESS, category=roads, partner=partner, body="Pothole")[0]
    routed.place, routed.lat, routed.lon = "People Road 1", 31.2304, 121.4737
    staff = make_user(Role.PARTNER, partner)
    record_event(routed, "update", Actor.staff(staff), text="Crew sent tomorrow.")
    record_event(routed, "note", Actor.staff(staff), text="Internal: budget issue")
    resolved = make_need(NeedStatus.RESOLVED, category=parks)[0]
    opened = make_need(NeedStatus.OPEN, category=roads)[0]
    hidden = {
        status: make_need(status, category=roads)[0]
        for status in (NeedStatus.SUBMITTED, NeedStatus.REJECTED, NeedStatus.WITHDRAWN)
    }
    old = make_need(NeedStatus.OPEN, category=roads)[0]
    old.created_at = utcnow() - timedelta(days=120)
    db.session.commit()
    return {"routed": routed, "resolved": resolved, "open": opened, "hidden": hidden, "old": old}


def _ids(response) -> list[str]:
    return [r["service_request_id"] for r in parse_json(response)]


def test_requests_json_fields_and_types(client, world):
    requests = parse_json(client.get(f"{API}/requests.json?locale=en"))
    by_id = {r["service_request_id"]: r for r in requests}
    routed = by_id[world["routed"].ref]
    assert set(routed) == FIELDS
    assert routed["status"] == "open"
    assert routed["status_notes"] == "Crew sent tomorrow."  # the internal note stays inside
    assert routed["service_name"] == "Roads"
    assert routed["service_code"] == "roads"
    assert routed["description"] == "Pothole"
    assert routed["agency_responsible"] == "Works office"
    assert routed["service_notice"] == "In progress"
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(routed[name]), name
    assert routed["address"] == "People Road 1"
    # The point rounded to about 100 m: the exact one is not public.
    assert routed["lat"] == 31.23 and routed["long"] == 121.474
    assert routed["address_id"] == routed["zipcode"] == routed["media_url"] == ""
    resolved = by_id[world["resolved"].ref]
    assert resolved["status"] == "closed"
    assert resolved["status_notes"] == "Because."  # the partner's answer
    assert resolved["expected_datetime"] is None  # no open assignment any more
    opened = by_id[world["open"].ref]
    assert opened["lat"] is None and opened["agency_responsible"] is None
    assert all(isinstance(r["service_request_id"], str) for r in requests)


def test_only_public_needs_of_the_last_90_days_newest_first(client, world):
    ids = _ids(client.get(f"{API}/requests.json"))
    assert ids == [world["open"].ref, world["resolved"].ref, world["routed"].ref]


def test_requests_xml(client, world):
    root = parse_xml(client.get(f"{API}/requests.xml?locale=en"))
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert len(requests) == 3
    first = {r.findtext("service_request_id"): r for r in requests}[world["routed"].ref]
    assert {c.tag for c in first} == FIELDS
    assert first.findtext("status") == "open"
    assert float(first.findtext("lat")) == 31.23
    assert float(first.findtext("long")) == 121.474
    assert W3C.match(first.findtext("requested_datetime"))
    assert first.findtext("agency_responsible") == "Works office"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_is_a_one_element_list(client, world, fmt):
    response = client.get(f"{API}/requests/{world['routed'].ref}.{fmt}")
    if fmt == "json":
        (request,) = parse_json(response)
        assert set(request) == FIELDS
        assert request["service_request_id"] == world["routed"].ref
    else:
        root = parse_xml(response)
        assert root.tag == "service_requests"
        (request,) = root.findall("request")
        assert request.findtext("service_request_id") == world["routed"].ref


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_or_unpublished_request_is_404(client, world, fmt):
    for ref in ["N-2000-999999", world["hidden"][NeedStatus.SUBMITTED].ref]:
        assert_errors(client.get(f"{API}/requests/{ref}.{fmt}"), 404, fmt)


def test_a_comma_list_of_ids_returns_all_of_them_and_overrides_the_rest(client, world):
    refs = [world["routed"].ref, world["resolved"].ref, world["old"].ref]
    wanted = ",".join(refs + [world["hidden"][NeedStatus.SUBMITTED].ref])
    ids = _ids(client.get(f"{API}/requests.json?service_request_id={wanted}&status=closed"))
    assert sorted(ids) == sorted(refs)  # even the old one; never the unpublished one


def test_service_code_filter_takes_a_comma_list(client, world):
    assert _ids(client.get(f"{API}/requests.json?service_code=parks")) == [world["resolved"].ref]
    both = _ids(client.get(f"{API}/requests.json?service_code=parks,roads"))
    assert len(both) == 3


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_is_404(client, world, fmt):
    response = client.get(f"{API}/requests.{fmt}?service_code=roads,nope")
    (description,) = assert_errors(response, 404, fmt)
    assert "nope" in description


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", {"routed", "open"}),
        ("closed", {"resolved"}),
        ("open,closed", {"routed", "open", "resolved"}),
    ],
)
def test_status_filter(client, world, status, expected):
    ids = set(_ids(client.get(f"{API}/requests.json?status={status}")))
    assert ids == {world[name].ref for name in expected}


def test_dates_accept_offsets_and_fractions(client, world):
    now = utcnow()
    start = (now - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%S.123456+08:00")
    end = (now - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%S%%2B08:00")
    assert _ids(client.get(f"{API}/requests.json?start_date={start}&end_date={end}")) == [
        world["old"].ref
    ]
    start_only = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(_ids(client.get(f"{API}/requests.json?start_date={start_only}"))) == 3


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "start_date=2026-01-01",
        "end_date=2026-01-01T00:00:00",  # no offset
        "start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z",  # over 90 days
        "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "status=pending",
        "page=0",
        "page_size=1001",
        "page=abc",
    ],
)
def test_bad_filters_are_400(client, world, fmt, query):
    assert_errors(client.get(f"{API}/requests.{fmt}?{query}"), 400, fmt)


def test_pages(client, world):
    everything = _ids(client.get(f"{API}/requests.json"))
    first = _ids(client.get(f"{API}/requests.json?page_size=2"))
    second = _ids(client.get(f"{API}/requests.json?page_size=2&page=2"))
    assert first + second == everything
    assert _ids(client.get(f"{API}/requests.json?page_size=2&page=3")) == []


def test_requests_take_a_constant_number_of_queries(client, app, queries):
    partner = make_organisation()
    staff = make_user(Role.PARTNER, partner)

    def add(n):
        for _ in range(n):
            for status in (NeedStatus.OPEN, NeedStatus.IN_PROGRESS, NeedStatus.RESOLVED):
                need = make_need(status, partner=partner)[0]
                if status == NeedStatus.IN_PROGRESS:
                    record_event(need, "update", Actor.staff(staff), text="Working on it.")
        db.session.commit()

    add(1)
    with queries() as few:
        assert len(_ids(client.get(f"{API}/requests.json?status=open,closed"))) == 3
    add(4)
    with queries() as many:
        requests = parse_json(client.get(f"{API}/requests.json?status=open,closed"))
    assert len(requests) == 15
    assert len(few) == len(many)
