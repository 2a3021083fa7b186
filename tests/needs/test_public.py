"""What the public sees: only published needs, found by filters and search, fast."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.factories import make_category, make_need

HIDDEN = [NeedStatus.SUBMITTED, NeedStatus.REJECTED, NeedStatus.WITHDRAWN]


@pytest.mark.parametrize("status", HIDDEN)
def test_unpublished_rejected_and_withdrawn_needs_are_404(client, status):
    need, _ = make_need(status, title=f"Hidden need {status.value}")
    db.session.commit()
    assert client.get(f"/needs/{need.ref}").status_code == 404
    assert f"Hidden need {status.value}" not in client.get("/needs").get_data(as_text=True)
    assert f"Hidden need {status.value}" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "status",
    [
        NeedStatus.OPEN,
        NeedStatus.ROUTED,
        NeedStatus.IN_PROGRESS,
        NeedStatus.RESOLVED,
        NeedStatus.CLOSED,
    ],
)
def test_published_needs_show_with_their_public_timeline(client, status):
    need, _ = make_need(status, title="Lift broken in building 7", email="private@example.org")
    db.session.commit()
    client.set_cookie("locale", "en")
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Lift broken in building 7" in page
    assert "Published" in page
    assert "private@example.org" not in page


def test_a_duplicate_points_to_the_kept_need(client):
    need, _ = make_need(NeedStatus.DUPLICATE)
    db.session.commit()
    response = client.get(f"/needs/{need.ref}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/needs/{need.duplicate_of.ref}")


def test_unknown_reference_is_404(client):
    assert client.get("/needs/N-2026-999999").status_code == 404


def test_the_list_filters_by_category_and_status(client):
    housing = make_category(name_en="Housing")
    youth = make_category(name_en="Youth")
    make_need(NeedStatus.OPEN, category=housing, title="Housing open need")
    make_need(NeedStatus.RESOLVED, category=housing, title="Housing resolved need")
    make_need(NeedStatus.OPEN, category=youth, title="Youth open need")
    db.session.commit()

    by_category = client.get(f"/needs?category={housing.id}").get_data(as_text=True)
    assert "Housing open need" in by_category and "Housing resolved need" in by_category
    assert "Youth open need" not in by_category

    by_status = client.get("/needs?status=resolved").get_data(as_text=True)
    assert "Housing resolved need" in by_status
    assert "Housing open need" not in by_status and "Youth open need" not in by_status

    both = client.get(f"/needs?category={housing.id}&status=open").get_data(as_text=True)
    assert "Housing open need" in both and "Housing resolved need" not in both


def test_an_unpublished_status_in_the_filter_is_ignored(client):
    make_need(NeedStatus.SUBMITTED, title="Secret submitted need")
    db.session.commit()
    page = client.get("/needs?status=submitted").get_data(as_text=True)
    assert "Secret submitted need" not in page


def test_search_finds_chinese_and_english_text(client):
    make_need(NeedStatus.OPEN, title="小区停车难")
    make_need(NeedStatus.OPEN, title="Broken street lights", body="The lamps on Elm Road are dark.")
    make_need(NeedStatus.OPEN, title="垃圾分类点异味")
    db.session.commit()
    chinese = client.get("/needs?q=停车").get_data(as_text=True)
    assert "小区停车难" in chinese and "垃圾分类点异味" not in chinese
    english = client.get("/needs?q=elm+ROAD").get_data(as_text=True)
    assert "Broken street lights" in english and "小区停车难" not in english
    wildcard = client.get("/needs?q=%25").get_data(as_text=True)  # a literal %
    assert "小区停车难" not in wildcard


def test_the_list_is_paginated_newest_first(client, app):
    category = make_category()
    app.config["NEEDS_PER_PAGE"] = 3
    titles = [f"Paged need {i:02d}" for i in range(7)]
    for title in titles:
        make_need(NeedStatus.OPEN, category=category, title=title)
    db.session.commit()

    first = client.get("/needs").get_data(as_text=True)
    assert [t for t in reversed(titles) if t in first] == [
        "Paged need 06",
        "Paged need 05",
        "Paged need 04",
    ]
    older = _link(first, "before")
    second = client.get(older).get_data(as_text=True)
    assert [t for t in reversed(titles) if t in second] == [
        "Paged need 03",
        "Paged need 02",
        "Paged need 01",
    ]
    newer = _link(second, "after")
    back = client.get(newer).get_data(as_text=True)
    assert "Paged need 06" in back and "Paged need 03" not in back
    third = client.get(_link(second, "before")).get_data(as_text=True)
    assert "Paged need 00" in third and 'href="/needs?before=' not in third


def _link(page: str, name: str) -> str:
    import html
    import re

    match = re.search(rf'href="(/needs\?[^"]*{name}=[^"]*)"', page)
    assert match, f"no {name} link"
    return html.unescape(match.group(1))


def test_htmx_filter_request_gets_only_the_results(client):
    make_need(NeedStatus.OPEN, title="A need to filter")
    db.session.commit()
    response = client.get("/needs?q=filter", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.lstrip().startswith('<section id="results"')
    assert "A need to filter" in text
    assert "HX-Request" in response.headers["Vary"]
    # A boosted navigation (or a reload of the pushed URL) gets the whole page.
    full = client.get("/needs?q=filter", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in full.get_data(as_text=True)


def _needs(count: int) -> None:
    categories = [make_category() for _ in range(3)]
    for i in range(count):
        make_need(NeedStatus.OPEN, category=categories[i % 3], title=f"Counted need {i}")
    db.session.commit()


@pytest.mark.parametrize("path", ["/needs", "/needs?q=Counted", "/", "/needs?status=open"])
def test_list_pages_run_a_constant_number_of_queries(client, queries, path):
    _needs(10)
    with queries() as small:
        assert client.get(path).status_code == 200
    _needs(190)
    with queries() as large:
        assert client.get(path).status_code == 200
    assert len(small) == len(large)
    assert len(large) <= 4


def test_the_detail_page_runs_a_constant_number_of_queries(client, queries):
    need, _ = make_need(NeedStatus.OPEN)
    db.session.commit()
    with queries() as few:
        client.get(f"/needs/{need.ref}")
    big, _ = make_need(NeedStatus.CLOSED)
    db.session.commit()
    with queries() as many:
        client.get(f"/needs/{big.ref}")
    assert len(few) == len(many) <= 9  # need, timeline, assignment, supporters, projects, …
