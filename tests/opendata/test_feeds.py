"""Atom feeds: valid XML, the right entries, absolute links, 404 for unknown
categories and projects, a constant number of queries."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.projects.models import ProjectUpdate
from tests.factories import make_category, make_need

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL in the tests


def _parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.get_data())  # noqa: S314 — our own output
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    return feed


def _entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{ATOM}entry")


def _links(element: ET.Element) -> dict[str, str]:
    # No rel means "alternate" (RFC 4287 4.2.7.2); feedgen leaves it out on entries.
    return {
        link.get("rel", "alternate"): link.get("href") for link in element.findall(f"{ATOM}link")
    }


def test_the_needs_feed_lists_published_needs_newest_first(client, world):
    feed = _parse(client.get("/feeds/needs.atom"))
    assert _links(feed)["self"] == f"{BASE}/feeds/needs.atom"
    assert _links(feed)["alternate"] == f"{BASE}/needs"
    entries = _entries(feed)
    refs = [e.find(f"{ATOM}id").text.rsplit("/", 1)[1] for e in entries]
    assert refs == [n.ref for n in reversed(world.listed)]
    first = entries[-1]
    assert first.find(f"{ATOM}title").text == "Broken lamp on Elm Street"
    assert _links(first)["alternate"] == f"{BASE}/needs/{world.listed[0].ref}"
    assert first.find(f"{ATOM}category").get("term") == "roads"
    assert first.find(f"{ATOM}updated").text.startswith("20")
    assert first.find(f"{ATOM}published") is not None
    assert first.find(f"{ATOM}content").text == "A description that is long enough."
    text = client.get("/feeds/needs.atom").get_data(as_text=True)
    assert "secret need" not in text


def test_the_needs_feed_holds_the_newest_fifty(client, app):
    category = make_category()
    needs = [make_need(NeedStatus.OPEN, category=category)[0] for _ in range(52)]
    db.session.commit()
    entries = _entries(_parse(client.get("/feeds/needs.atom")))
    assert len(entries) == 50
    assert entries[0].find(f"{ATOM}title").text == needs[-1].title


def test_a_category_feed_has_only_that_category(client, world):
    feed = _parse(client.get("/feeds/categories/parks.atom"))
    assert "Parks" in feed.find(f"{ATOM}title").text
    assert _links(feed)["alternate"] == f"{BASE}/needs?category={world.other_category.id}"
    assert [e.find(f"{ATOM}category").get("term") for e in _entries(feed)] == ["parks"]
    assert client.get("/feeds/categories/nope.atom").status_code == 404


def test_an_empty_feed_is_still_valid(client, app):
    make_category(code="empty")
    db.session.commit()
    assert _entries(_parse(client.get("/feeds/categories/empty.atom"))) == []


def test_a_project_feed_carries_its_sanitised_updates(client, world):
    db.session.add(
        ProjectUpdate(
            project_id=world.project.id,
            organisation_id=world.supporter.id,
            body_markdown="Second",
            body_html="<p>Second &amp; last</p>",
        )
    )
    db.session.commit()
    feed = _parse(client.get(f"/feeds/projects/{world.project.id}.atom"))
    assert "Safer streets" in feed.find(f"{ATOM}title").text
    page = f"{BASE}/projects/{world.project.id}"
    assert _links(feed)["alternate"] == page
    entries = _entries(feed)
    assert len(entries) == 2
    newest, oldest = entries
    assert newest.find(f"{ATOM}author/{ATOM}name").text == "Youth League"
    assert oldest.find(f"{ATOM}content").get("type") == "html"
    assert oldest.find(f"{ATOM}content").text == "<p><strong>Half</strong> done</p>"
    assert _links(oldest)["alternate"].startswith(page + "#update-")
    assert client.get("/feeds/projects/999.atom").status_code == 404


def test_control_characters_do_not_break_the_feed(client, app):
    make_need(NeedStatus.OPEN, title="Bell \x07 rings", body="Form feed \x0c here, long enough.")
    db.session.commit()
    [entry] = _entries(_parse(client.get("/feeds/needs.atom")))
    assert entry.find(f"{ATOM}title").text == "Bell  rings"


def test_pages_point_to_the_feed(client, world):
    html = client.get("/data").get_data(as_text=True)
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feeds/needs.atom"' in html


@pytest.mark.parametrize(
    "url", ["/feeds/needs.atom", "/feeds/categories/roads.atom", "/feeds/projects/{project}.atom"]
)
def test_feeds_run_a_constant_number_of_queries(client, world, queries, url):
    url = url.format(project=world.project.id)

    def count() -> int:
        with queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    few = count()
    for _ in range(12):
        make_need(NeedStatus.ROUTED, category=world.category, partner=world.partner)
        db.session.add(
            ProjectUpdate(
                project_id=world.project.id,
                organisation_id=world.partner.id,
                body_markdown="More",
                body_html="<p>More</p>",
            )
        )
    db.session.commit()
    assert count() == few
