"""The inbox: open assignments of the staff member's organisation, overdue
first, then the newest; counts, filters, bounded pages, constant queries."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.partners.models import Assignment
from portal.partners.workspace import INBOX_PER_PAGE
from tests.factories import make_category


def _titles(html: str) -> list[str]:
    results = html.split('id="inbox-results"')[1]
    return re.findall(r'<h3><a href="/partner/needs/[^"]+">([^<]+)</a></h3>', results)


def _make_overdue(need, days: int = 2) -> None:
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == need.id))
    assignment.response_due_at = utcnow() - timedelta(days=days)
    assignment.due_at = utcnow() - timedelta(days=days)


def test_overdue_first_then_newest_with_due_dates_and_counts(client, login, make_partner, routed):
    partner = make_partner()
    category = make_category(name_en="Roads")
    old, _ = routed(partner, title="Old pothole", category=category)
    late, _ = routed(partner, title="Late streetlight", category=category)
    accepted, _ = routed(partner, status=NeedStatus.ACCEPTED, title="Accepted bench")
    new, _ = routed(partner, title="New graffiti", category=category)
    routed(partner, status=NeedStatus.RESOLVED, title="Resolved fountain")
    _make_overdue(late)
    login(partner.staff)
    db.session.commit()

    response = client.get("/partner/inbox")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _titles(html) == ["Late streetlight", "New graffiti", "Accepted bench", "Old pothole"]
    assert "Resolved fountain" not in html
    assert "Roads" in html and "Overdue" in html
    assert "Answer due" in html and "Resolution due" in html
    assert "<strong>3</strong> waiting for your answer" in html
    assert "<strong>1</strong> accepted" in html
    assert "<strong>1</strong> overdue" in html

    def shown(**args):
        return _titles(client.get("/partner/inbox", query_string=args).get_data(as_text=True))

    assert shown(state="pending") == ["Late streetlight", "New graffiti", "Old pothole"]
    assert shown(state="accepted") == ["Accepted bench"]
    assert shown(state="overdue") == ["Late streetlight"]
    assert shown(q="graffiti") == ["New graffiti"]
    assert shown(q=old.ref) == ["Old pothole"]
    assert shown(state="nonsense") == shown()
    assert new.ref and accepted.ref


def test_htmx_filter_returns_the_list_only(client, login, make_partner, routed):
    partner = make_partner()
    routed(partner, title="Only one")
    login(partner.staff)
    db.session.commit()
    response = client.get("/partner/inbox?state=pending", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="inbox-results"')
    assert "Only one" in html and "<html" not in html


def test_pages_are_bounded(client, login, make_partner, routed):
    partner = make_partner()
    category = make_category()
    for n in range(INBOX_PER_PAGE + 3):
        routed(partner, title=f"Need {n:02d}", category=category)
    login(partner.staff)
    db.session.commit()
    first = client.get("/partner/inbox").get_data(as_text=True)
    assert len(_titles(first)) == INBOX_PER_PAGE
    assert "page=2" in first
    second = client.get("/partner/inbox?page=2").get_data(as_text=True)
    assert _titles(second) == ["Need 02", "Need 01", "Need 00"]
    assert "page=3" not in second and "page=1" in second
    assert client.get("/partner/inbox?page=99999").status_code == 200
    assert client.get("/partner/inbox?page=-1").status_code == 200


def test_the_inbox_takes_the_same_number_of_queries_for_3_or_30_needs(
    client, login, make_partner, routed, queries
):
    partner = make_partner()
    category = make_category()

    def add(n):
        for _ in range(n):
            need, _ = routed(partner, category=category)
        _make_overdue(need)
        db.session.commit()

    def count() -> int:
        client.get("/partner/inbox")  # warm up
        with queries() as statements:
            response = client.get("/partner/inbox")
        assert response.status_code == 200
        return len(statements)

    login(partner.staff)
    add(3)
    small = count()
    add(27)
    assert count() == small
    # The list, the counts, the user, the metrics panel (4) and the organisations under it.
    assert small <= 11
