"""/needs?area=CODE lists the needs of the area and everything under it, in a
constant number of indexed queries; a need's page names its area and links to
more needs there; the open needs of an area for the "nearby" hint."""

from __future__ import annotations

import re

import pytest

from portal.areas.services import open_needs_in_area
from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.factories import make_area, make_category, make_need


@pytest.fixture
def needs(city):
    category = make_category()
    made = {
        "city": make_need(category=category, title="Citywide bus timetable", area=city.city)[0],
        "huangpu": make_need(category=category, title="Huangpu square lights", area=city.huangpu)[
            0
        ],
        "bund": make_need(category=category, title="Bund railing broken", area=city.bund)[0],
        "xuhui": make_need(category=category, title="Xuhui library hours", area=city.tianping)[0],
        "nowhere": make_need(category=category, title="No area given at all")[0],
        "hidden": make_need(NeedStatus.SUBMITTED, category=category, area=city.bund)[0],
    }
    db.session.commit()
    return made


def _titles(html: str) -> set[str]:
    return set(re.findall(r'<h3><a href="/needs/[^"]+">([^<]+)</a></h3>', html))


def test_the_area_filter_takes_the_area_and_everything_under_it(client, needs):
    html = client.get("/needs?area=310101").get_data(as_text=True)
    assert _titles(html) == {"Huangpu square lights", "Bund railing broken"}
    assert _titles(client.get("/needs?area=310101013").get_data(as_text=True)) == {
        "Bund railing broken"
    }
    everything = _titles(client.get("/needs?area=310000").get_data(as_text=True))
    assert "No area given at all" not in everything and len(everything) == 4
    assert len(_titles(client.get("/needs").get_data(as_text=True))) == 5


def test_the_filter_form_reads_every_level_and_shows_the_next(client, needs):
    html = client.get("/needs?area=310000&area=310101&area=310101").get_data(as_text=True)
    assert _titles(html) == {"Huangpu square lights", "Bund railing broken"}
    assert re.findall(r'<option value="([^"]*)" selected>', html) == ["310000", "310101"]
    assert "All of Huangpu" in html  # the streets of the district, none chosen
    assert 'hx-get="/areas/choices?mode=filter"' in html


def test_pages_keep_the_area(client, app, needs, city):
    app.config["NEEDS_PER_PAGE"] = 1
    html = client.get("/needs?area=310101").get_data(as_text=True)
    assert re.search(r'href="/needs\?before=\d+&amp;area=310101"', html)


def test_an_htmx_filter_answers_the_results(client, needs):
    response = client.get("/needs?area=310104", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="results"')
    assert _titles(html) == {"Xuhui library hours"}


def test_the_area_filter_runs_a_constant_number_of_queries(client, queries, city):
    category = make_category()
    for n in range(10):
        make_need(category=category, area=city.bund, title=f"Counted need {n}")
    db.session.commit()
    with queries() as small:
        assert client.get("/needs?area=310101").status_code == 200
    streets = [make_area(f"S{n}", city.huangpu) for n in range(40)]
    for n in range(190):
        make_need(category=category, area=streets[n % 40], title=f"More need {n}")
    db.session.commit()
    with queries() as large:
        html = client.get("/needs?area=310000&area=310101").get_data(as_text=True)
    assert len(small) == len(large) <= 4
    assert html.count('class="card need-card"') == 20
    # The list is one statement: the subtree is a subquery on the path range.
    (listing,) = [s for s in large if "FROM needs" in s]
    assert "areas.path >=" in listing and "areas.path <" in listing


def test_a_need_page_names_its_area_and_links_to_more_there(client, needs):
    html = client.get(f"/needs/{needs['bund'].ref}").get_data(as_text=True)
    assert "Area: Shanghai › Huangpu › The Bund" in html
    assert 'href="/needs?area=310101013">More in this area</a>' in html
    plain = client.get(f"/needs/{needs['nowhere'].ref}").get_data(as_text=True)
    assert "More in this area" not in plain


def test_open_needs_in_an_area(app, needs, city):
    make_need(NeedStatus.RESOLVED, area=city.bund)  # no longer open
    make_need(NeedStatus.ROUTED, area=city.nanjing_road, title="Routed on Nanjing Road")
    titles = [n.title for n in open_needs_in_area(city.huangpu.id)]
    assert titles == ["Routed on Nanjing Road", "Bund railing broken", "Huangpu square lights"]
    assert [n.title for n in open_needs_in_area(city.bund.id, exclude_id=needs["bund"].id)] == []
    assert len(open_needs_in_area(city.city.id, limit=2)) == 2
    assert open_needs_in_area(999_999) == []
