"""Transparency by area: /transparency narrows every figure to an area with
?area=CODE and shows a table by area (needs received, resolution rate, median
days to resolution), checked here against a small example worked out by hand;
the open data carry each need's area code, take ?area= too, and publish the
same figures for every area."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from portal.extensions import db
from portal.metrics.services import compute, compute_dashboard, compute_grouped
from portal.needs.models import NeedStatus
from portal.transparency import services as transparency
from portal.workflow.models import TimelineEvent
from tests.factories import make_category, make_need, make_organisation
from tests.opendata.conftest import read_csv


def at(day: int, hour: int = 1, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


NOW = at(20, 12)
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def example(city):
    """Seven needs, by hand (days from routing to resolution in brackets):

    - the Bund (Huangpu): received 2 March, routed, accepted, resolved (3.0)
    - East Nanjing Road (Huangpu): received, routed, accepted, resolved (6.0)
    - Huangpu itself: received, routed, accepted, not resolved yet
    - Tianping Road (Xuhui): received, routed, accepted, resolved (1.0)
    - Xuhui itself: received, never routed
    - Pudong: received in February, nothing in March
    - no area: received, routed, accepted, resolved (2.0)

    So in March: Huangpu received 3, resolved 2 of 3 accepted (66.7 %),
    median (3.0, 6.0) = 4.5 days; Xuhui 2, 1 of 1 (100 %), 1.0 day; Pudong
    nothing; the city (all with an area) 5, 3 of 4, median 3.0 days."""
    partner = make_organisation()
    category = make_category()

    def need(area, received, *steps):
        made, _ = make_need(NeedStatus.SUBMITTED, category=category, area=area)
        submit = db.session.scalars(
            db.select(TimelineEvent).where(TimelineEvent.need_id == made.id)
        ).one()
        submit.created_at = received
        for move, moment in steps:
            db.session.add(
                TimelineEvent(
                    need=made,
                    move=move,
                    from_status=NeedStatus.OPEN,
                    to_status=NeedStatus.OPEN,
                    actor_role="admin",
                    organisation_id=partner.id,
                    created_at=moment,
                )
            )
        return made

    loop = (("route", at(2)), ("accept", at(2, 5)))
    need(city.bund, at(2), *loop, ("resolve", at(5)))
    need(city.nanjing_road, at(3), ("route", at(4)), ("accept", at(4, 5)), ("resolve", at(10)))
    need(city.huangpu, at(6), ("route", at(6)), ("accept", at(6, 2)))
    need(city.tianping, at(3), ("route", at(3)), ("accept", at(3, 2)), ("resolve", at(4)))
    need(city.xuhui, at(7))
    need(city.pudong, at(20, month=2))
    need(None, at(8), ("route", at(8)), ("accept", at(8, 2)), ("resolve", at(10)))
    db.session.commit()
    return city


def _board(**args):
    categories = transparency.active_categories()
    filters = transparency.Filters.from_args(
        MultiDict({**MARCH, **args}), {c.id for c in categories}
    )
    return transparency.dashboard(filters, categories, now=NOW)


def _rows(board) -> dict[str, tuple]:
    return {
        row.area.code: (
            row.received,
            row.metrics.resolved if row.metrics else None,
            row.metrics.accepted if row.metrics else None,
            row.metrics.median_days_to_resolution if row.metrics else None,
        )
        for row in board.by_area
    }


def test_the_table_by_area_matches_the_hand_count(example):
    assert _rows(_board()) == {
        "310101": (3, 2, 3, 4.5),
        "310104": (2, 1, 1, 1.0),
        "310115": (0, None, None, None),
    }


def test_the_area_filter_narrows_every_figure_and_the_table_goes_one_level_down(example):
    board = _board(area="310101")
    assert (board.overall.accepted, board.overall.resolved) == (3, 2)
    assert board.overall.median_days_to_resolution == 4.5
    assert _rows(board) == {"310101002": (1, 1, 1, 6.0), "310101013": (1, 1, 1, 3.0)}
    received = dict((m.month, m.values[0]) for m in board.monthly.groups)
    assert received == {"2026-03": 3}
    # A street has nothing under it: the table shows the street itself.
    assert _rows(_board(area="310101013")) == {"310101013": (1, 1, 1, 3.0)}


def test_grouped_by_area_is_compute_for_each_subtree(example):
    window = {"start": at(1, 0), "end": at(1, 0, month=4), "now": NOW}
    grouped = compute_grouped("area", **window)
    for area in (example.city, example.huangpu, example.xuhui, example.bund):
        expected = compute(area_path=area.path, **window)
        got = grouped[area.id]
        assert (got.routed, got.accepted, got.resolved, got.resolution_days) == (
            expected.routed,
            expected.accepted,
            expected.resolved,
            expected.resolution_days,
        )
    assert grouped[example.city.id].median_days_to_resolution == 3.0
    assert compute_dashboard(**window).per_area[example.huangpu.id].resolved == 2


def test_the_dashboard_page_has_the_area_filter_and_table(client, example, queries):
    html = client.get("/transparency?start=2026-03-01&end=2026-03-31").get_data(as_text=True)
    assert '<label for="area">Area</label>' in html
    row = re.search(r'<tr data-area="310101">(.*?)</tr>', html, re.S).group(1)
    assert "Huangpu" in row and "66.7%" in row and "4.5" in row
    assert 'href="/transparency?start=2026-03-01&amp;end=2026-03-31&amp;area=310101"' in row

    narrowed = client.get("/transparency?start=2026-03-01&end=2026-03-31&area=310101")
    page = narrowed.get_data(as_text=True)
    assert "Area: Huangpu" in page
    assert '<tr data-area="310101013">' in page and '<tr data-area="310104">' not in page

    bad = client.get("/transparency?area=nowhere").get_data(as_text=True)
    assert "Choose an area from the list." in bad

    with queries() as few:
        client.get("/transparency?area=310101")
    for n in range(30):
        make_need(area=example.bund, title=f"Another need {n}")
    db.session.commit()
    with queries() as many:
        client.get("/transparency?area=310101")
    assert len(few) == len(many)


def test_open_data_needs_carry_the_area_code_and_take_an_area(client, example):
    listed = make_need(area=example.bund, title="A published need on the Bund")[0]
    make_need(area=example.tianping, title="A published need in Xuhui")
    db.session.commit()
    rows = read_csv(client.get("/data/needs.csv"))
    assert {r["ref"]: r["area_code"] for r in rows}[listed.ref] == "310101013"
    narrowed = read_csv(client.get("/data/needs.csv?area=310101"))
    assert [r["title"] for r in narrowed] == ["A published need on the Bund"]
    refused = client.get("/data/needs.csv?area=nowhere")
    assert refused.status_code == 400
    assert "No area has this code" in refused.get_data(as_text=True)


def test_open_data_publishes_the_figures_of_every_area(client, example):
    rows = {
        r["area_code"]: r
        for r in read_csv(client.get("/data/areas.csv?start=2026-03-01&end=2026-03-31"))
    }
    assert set(rows) == {
        "310000",
        "310101",
        "310104",
        "310115",
        "310101002",
        "310101013",
        "310104003",
    }
    huangpu = rows["310101"]
    assert huangpu["parent_code"] == "310000" and huangpu["level"] == "1"
    assert (huangpu["needs_received"], huangpu["accepted"], huangpu["resolved"]) == ("3", "3", "2")
    assert huangpu["resolution_rate"] == "0.6667"
    assert huangpu["median_days_to_resolution"] == "4.5"
    city = rows["310000"]
    assert (city["needs_received"], city["resolved"], city["median_days_to_resolution"]) == (
        "5",
        "3",
        "3.0",
    )
    assert city["lat"] == "31.2304" and city["parent_code"] == ""
    assert rows["310115"]["needs_received"] == "0" and rows["310115"]["resolution_rate"] == ""
    only = read_csv(client.get("/data/areas.csv?area=310104&start=2026-03-01&end=2026-03-31"))
    assert {r["area_code"] for r in only} == {"310104", "310104003"}
