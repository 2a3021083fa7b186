"""/transparency: the numbers of a hand-built quarter, the htmx filter, bad
filters, and a constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.projects.models import Project, ProjectStatus
from portal.voting.models import PriorityRound
from portal.voting.services import create_round, eligible_members
from tests.factories import make_need, make_organisation, make_user

Q1 = "/transparency?start=2026-01-01&end=2026-03-31"


def page(client, url=Q1, **headers) -> str:
    client.set_cookie("locale", "en")
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def month_row(html: str, month: str) -> list[str]:
    row = re.search(rf'<tr data-month="{month}">(.*?)</tr>', html, re.S).group(1)
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def table_row(html: str, attribute: str, value: int) -> list[str]:
    row = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    ]


def test_needs_per_month(client, world):
    html = page(client)
    # Received (submitted), published, resolved in each month of the quarter.
    assert month_row(html, "2026-01") == ["1", "1", "1"]
    assert month_row(html, "2026-02") == ["2", "2", "1"]  # n2, n3; n2 resolved
    assert month_row(html, "2026-03") == ["3", "2", "1"]  # n4 unpublished; n6 resolved
    assert 'data-month="2025-12"' not in html  # outside the period
    assert "Period: Jan 1, 2026 – Mar 31, 2026" in html
    assert "6 received, 5 published, 3 resolved" in html  # the chart's description


def test_current_states_of_public_needs(client, world):
    html = page(client)
    states = dict(
        re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', html)
    )
    # Public now: n1, n2 and December's need resolved; n3 accepted; n5 open; n6 closed.
    assert states["Resolved"] == "3"
    assert states["Accepted"] == "1"
    assert states["Open"] == "1"
    assert states["Closed"] == "1"
    assert states["Sent to a partner"] == "0"


def test_rates_overall_per_category_and_ranked_partners(client, world):
    html = page(client)
    overall = re.search(r'id="overall-metrics">(.*?)</dl>', html, re.S).group(1)
    # Routed in the quarter: n1, n2 (P), n3, n6 (Q); n3 accepted 10 days late.
    assert "75.0%" in overall and "3 of 4 answered in time" in overall
    # Accepted 4, resolved n1, n2, n6 (n6 then closed as resolved, still counts).
    assert "3 of 4 accepted" in overall
    # Feedback 5 on n1 and 2 on n6.
    assert "50.0%" in overall and "1 of 2 answers" in overall

    roads = table_row(html, "data-category", world["a"].id)
    assert roads[:5] == ["Roads", "2", "100.0%", "100.0%", "100.0%"]
    housing = table_row(html, "data-category", world["b"].id)
    assert housing[:5] == ["Housing", "2", "50.0%", "50.0%", "0.0%"]

    ranked = re.findall(r'<tr data-partner="(\d+)">', html)
    assert ranked == [str(world["p"].id), str(world["q"].id)]
    assert table_row(html, "data-partner", world["p"].id)[:6] == [
        "1",
        "Pine Union",
        "2",
        "100.0%",
        "100.0%",
        "100.0%",
    ]
    assert table_row(html, "data-partner", world["q"].id)[:6] == [
        "2",
        "Quay League",
        "2",
        "50.0%",
        "50.0%",
        "0.0%",
    ]


def test_category_filter_narrows_every_number(client, world):
    html = page(client, f"{Q1}&category={world['b'].id}")
    assert month_row(html, "2026-02") == ["1", "1", "0"]
    assert month_row(html, "2026-03") == ["2", "2", "1"]
    assert re.findall(r'<tr data-partner="(\d+)">', html) == [str(world["q"].id)]
    assert f'data-category="{world["a"].id}"' not in html
    assert "Category: Housing" in html


def test_a_rate_without_data_shows_a_dash(client, world):
    html = page(client, "/transparency?start=2024-01-01&end=2024-03-31")
    overall = re.search(r'id="overall-metrics">(.*?)</dl>', html, re.S).group(1)
    assert "0.0%" not in overall
    assert overall.count("<dd>—</dd>") == 5  # three rates, two medians
    assert "No need was routed to a partner in this period." in html


def test_numbers_follow_the_readers_locale(client, world):
    client.set_cookie("locale", "zh_CN")
    html = client.get(Q1).get_data(as_text=True)
    assert "75.0%" in html
    assert "<h1>信息公开</h1>" in html


def test_htmx_filter_gets_the_results_fragment(client, world):
    fragment = client.get(f"{Q1}&category={world['a'].id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers["Vary"]
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="dashboard-results"')
    full = client.get(f"{Q1}&category={world['a'].id}")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]


def test_the_form_is_a_plain_get_form_enhanced_by_htmx(client, world):
    html = page(client, "/transparency")
    form = re.search(r"<form class=\"filters transparency-filters\"(.*?)>", html, re.S).group(1)
    assert 'method="get"' in form and 'action="/transparency"' in form
    assert 'hx-get="/transparency"' in form and 'hx-target="#dashboard-results"' in form
    assert 'hx-push-url="true"' in form


def test_bad_dates_show_an_error_and_the_default_period(client, world):
    html = page(client, "/transparency?start=2026-13-01&end=soon")
    assert "Enter dates as year-month-day" in html
    assert 'value="2026-13-01"' in html  # what was typed stays in the form
    assert "Period: " in html and "Needs per month" in html

    html = page(client, "/transparency?start=2026-03-01&end=2026-02-01", **{"HX-Request": "true"})
    assert "The end date must be on or after the start date." in html

    html = page(client, "/transparency?category=nope")
    assert "Choose a category from the list." in html

    html = page(client, "/transparency?start=2000-01-01&end=2026-01-01")
    assert "at most 60 months" in html


def test_charts_are_accessible_svg_without_inline_style(client, world):
    html = page(client)
    charts = re.findall(r"<svg(.*?)</svg>", html, re.S)
    assert len(charts) >= 4
    for chart in charts:
        assert 'role="img"' in chart and "<title id=" in chart and "<desc id=" in chart
        assert 'viewBox="0 0 360 ' in chart and 'width="100%"' in chart
    assert "style=" not in html and "<style" not in html
    assert html.count('<details class="chart-data">') == len(charts)


def test_rounds_turnout_and_projects(client, world):
    admin = make_user(Role.ADMIN)
    voters = [make_user() for _ in range(4)]
    needs = [make_need(NeedStatus.OPEN)[0] for _ in range(2)]
    now = utcnow()
    round_ = create_round(
        title="Spring round",
        description="",
        needs=needs,
        votes_per_member=1,
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=2),
        show_live_counts=False,
        actor=admin,
    )
    round_.voter_count = 1  # one of the four eligible members voted
    make_user(verified=False)  # not eligible: no confirmed address
    make_user(Role.PARTNER)  # not eligible: not a member
    for title, status, progress in (
        ("Bridge repair", ProjectStatus.IN_PROGRESS, 80),
        ("Night school", ProjectStatus.IN_PROGRESS, 30),
        ("Library", ProjectStatus.COMPLETED, 100),
    ):
        db.session.add(
            Project(
                title=title,
                goal="Goal",
                target="Target",
                lead_organisation_id=world["p"].id,
                status=status,
                progress=progress,
            )
        )
    db.session.commit()
    assert len(voters) == eligible_members(round_) == 4  # the rule /rounds/<id> uses
    html = page(client, "/transparency")
    rounds = re.search(r'id="round-list">(.*?)</ul>', html, re.S).group(1)
    assert "Spring round" in rounds and "open" in rounds
    assert "1 voters of 4 eligible members" in rounds and "25.0%" in rounds
    # 3 projects, average progress (80 + 30 + 100) / 3 = 70 %.
    assert "3 projects, average progress 70.0%." in html
    top = re.search(r'id="top-projects">(.*?)</ul>', html, re.S).group(1)
    assert top.index("Bridge repair") < top.index("Night school")
    assert "Library" not in top


def _grow(size: int) -> None:
    admin = make_user(Role.ADMIN)
    for i in range(size):
        org = make_organisation()
        make_need(NeedStatus.RESOLVED, partner=org)
        project = Project(
            title=f"Project {i}",
            goal="Goal",
            target="T",
            lead_organisation_id=org.id,
            status=ProjectStatus.IN_PROGRESS,
            progress=i,
        )
        project.supporting_organisations.append(make_organisation())
        db.session.add(project)
        make_user()
        db.session.add(
            PriorityRound(
                title=f"Round {i}",
                starts_at=utcnow() - timedelta(days=3 + i),
                ends_at=utcnow() - timedelta(days=1 + i),
                created_by_id=admin.id,
                voter_count=1,
            )
        )
    db.session.commit()


def test_the_dashboard_runs_a_constant_number_of_queries(app, client, queries):
    client.set_cookie("locale", "en")
    _grow(2)
    client.get("/transparency")  # warm up (the app's first request loads settings)
    with queries() as small:
        assert client.get("/transparency").status_code == 200
    _grow(18)
    with queries() as large:
        html = client.get("/transparency").get_data(as_text=True)
    assert html.count("<tr data-partner=") == 20
    assert len(large) == len(small), "\n".join(large)
