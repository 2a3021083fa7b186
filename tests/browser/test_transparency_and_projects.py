"""On a 360 × 740 phone with the demo data: the transparency dashboard changes
its category with htmx (no page load, the URL follows), a project page reads
well, and a member posts a comment that appears in place."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.demo import load_demo_data
from portal.extensions import db
from portal.projects.models import Project
from tests.browser.conftest import SCREENSHOTS, Screenshots
from tests.browser.test_member_journey import (
    log_in,
    mark_document,
    no_horizontal_overflow,
    same_document,
)
from tests.conftest import _empty_all_tables

pytestmark = pytest.mark.browser

MEMBER = ("member@huiju.example", "demo-member-pass-2026")


@pytest.fixture
def demo(live_server) -> Iterator[int]:
    """The demo data in the live server's database; yields a project's id."""
    app = live_server.app
    with app.app_context():
        try:
            load_demo_data()
            db.session.commit()
            project_id = db.session.scalar(sa.select(Project.id).order_by(Project.id))
        finally:
            db.session.remove()
    try:
        yield project_id
    finally:
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_dashboard_filter_project_page_and_comment(page, variant, demo):
    shot = Screenshots(page, SCREENSHOTS / f"transparency-{variant}")

    page.goto("/transparency")
    mark_document(page)
    expect(page.locator("#dashboard-results svg[role=img]").first).to_be_visible()
    no_horizontal_overflow(page)
    shot("dashboard")

    page.select_option("#category", index=1)
    chosen = page.locator("#category option").nth(1).inner_text().strip()
    page.click("form.transparency-filters button[type=submit]")
    page.wait_for_url("**/transparency?*category=*")
    expect(page.locator("#category")).to_have_value(
        page.locator("#category option").nth(1).get_attribute("value")
    )
    assert same_document(page), "the filter reloaded the page instead of swapping the results"
    expect(page.locator("#dashboard-results")).to_contain_text(chosen)
    no_horizontal_overflow(page)
    shot("dashboard-one-category")

    page.goto(f"/projects/{demo}")
    expect(page.locator("#milestones")).to_be_visible()
    lead = page.locator("a[href^='/partners/']").first.get_attribute("href").rsplit("/", 1)[1]
    no_horizontal_overflow(page)
    shot("project")

    # The other public pages of the issue fit the phone too.
    for path, name in [
        ("/partners", "partners"),
        (f"/partners/{lead}", "partner-page"),
        ("/data", "open-data"),
        ("/posters", "posters"),
    ]:
        page.goto(path)
        no_horizontal_overflow(page)
        shot(name)

    page.goto("/auth/login")
    log_in(page, *MEMBER)
    page.goto(f"/projects/{demo}")
    mark_document(page)
    text = "我们社区也愿意出场地。 We can offer our hall too."
    page.fill("#comments textarea", text)
    page.click("#comments form.comment-form button[type=submit]")
    expect(page.locator("#comment-list")).to_contain_text(text)
    expect(page.locator("#comments textarea")).to_have_value("")
    assert same_document(page), "posting the comment reloaded the page"
    no_horizontal_overflow(page)
    shot("project-comment-posted")
