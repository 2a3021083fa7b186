"""The admin dashboard: counts per state, what waits, what is overdue or
escalated, and the way to everything else."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.partners.models import Assignment
from tests.factories import make_category, make_need, make_organisation


def test_the_dashboard_shows_counts_waiting_overdue_and_escalated(client, admin):
    category = make_category()
    partner = make_organisation(name_en="Women's Federation")
    oldest, _ = make_need(NeedStatus.SUBMITTED, category=category, title="The oldest request")
    make_need(NeedStatus.SUBMITTED, category=category)
    make_need(NeedStatus.OPEN, category=category)
    late, _ = make_need(NeedStatus.ACCEPTED, category=category, partner=partner, title="Late one")
    stuck, _ = make_need(NeedStatus.ROUTED, category=category, partner=partner, title="Stuck one")
    for need in (late, stuck):
        assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == need.id))
        assignment.due_at = utcnow() - timedelta(days=3)
        if need is stuck:
            assignment.escalated_at = utcnow()
    db.session.commit()

    response = client.get("/admin")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r"<strong>3</strong>\s*needs waiting for triage", html)
    escalated = html.split("<h2>Escalated</h2>")[1].split("<h2>")[0]
    assert "Stuck one" in escalated and "Late one" not in escalated
    overdue = html.split("<h2>Overdue</h2>")[1].split("<h2>")[0]
    assert "Stuck one" in overdue and "Late one" in overdue and "Women&#39;s Federation" in overdue
    waiting = html.split("<h2>Waiting longest</h2>")[1]
    assert waiting.index("The oldest request") < waiting.index("Need number")
    assert 'href="/admin/triage"' in html and 'href="/admin/rounds"' in html
    # Each state has its count (the grouped query fills the zeros).
    counts = html.split('class="triage-counts"')[1].split("</dl>")[0]
    assert counts.count("<dd>") == len(NeedStatus)


def test_admin_nav_links_only_to_pages_that_exist(client, admin, app):
    html = client.get("/admin").get_data(as_text=True)
    for endpoint, path in [
        ("partner_admin.index", "/admin/partners"),
        ("audit.log", "/admin/audit"),
    ]:
        exists = endpoint in {r.endpoint for r in app.url_map.iter_rules()}
        assert (f'href="{path}"' in html) == exists
