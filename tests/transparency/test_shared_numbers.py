"""The dashboard's and partner pages' numbers are computed once and shared by
every visitor for a few minutes (CACHE_DEFAULT_TIMEOUT), not per request: at
city scale a period holds millions of timeline events."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.factories import make_need, make_organisation


@pytest.fixture
def app_config():
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}


def _timeline_reads(statements: list[str]) -> int:
    return sum("timeline_events" in s and "feedback" not in s for s in statements)


def test_the_second_visitor_gets_the_shared_numbers(client, queries):
    partner = make_organisation()
    make_need(NeedStatus.ACCEPTED, partner=partner)
    db.session.commit()

    with queries() as first:
        assert client.get("/transparency").status_code == 200
    with queries() as second:
        assert client.get("/transparency").status_code == 200
    assert _timeline_reads(first) > _timeline_reads(second)

    with queries() as first:
        assert client.get(f"/partners/{partner.id}").status_code == 200
    with queries() as second:
        assert client.get(f"/partners/{partner.id}").status_code == 200
    assert _timeline_reads(first) > _timeline_reads(second) >= 0


def test_what_is_cached_keeps_the_numbers_but_not_every_duration():
    from portal.metrics.services import Metrics

    metrics = Metrics(start=None, end=None, routed=4, response_due=4, responded_in_time=3)
    metrics.response_days = [1.0, 2.0, 4.0, 9.0]
    metrics.resolution_days = [3.25]
    small = metrics.compact()
    assert small.response_days == [3.0] and small.resolution_days == [3.25]
    for name in ("response_rate", "median_days_to_response", "median_days_to_resolution"):
        assert getattr(small, name) == getattr(metrics, name)
