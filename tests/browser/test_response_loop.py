"""The response loop in three browsers at once, on a phone and on a desktop:
an admin publishes a new need and routes it to its category's default partner
from the triage queue, the partner's staff accept and resolve it in their
workspace, and the submitter, with the private tracking link, says it was
resolved. Every step is an htmx request that changes part of the page (or a
boosted form), never a full page load; the database follows each step.

The pages are in English (the `locale` cookie), so the labels read as in the
code."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.extensions import db
from portal.needs.models import Need, NeedStatus, Outcome
from tests.browser.conftest import _REPORTS, SCREENSHOTS
from tests.conftest import _empty_all_tables

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False},
}

NOTE = "Please check the lamp at the school gate first."
ANSWER = "The lamp at the school gate was replaced on Tuesday; it works again."


# --- helpers ------------------------------------------------------------------------


def no_horizontal_overflow(page) -> None:
    """Nothing wider than the screen."""
    width = page.locator("html").evaluate("el => el.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def mark_document(page) -> None:
    """Waits for htmx and sets a marker that a full page load would wipe out."""
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__sameDocument = true; }")


def same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def htmx_post(path_end: str):
    """A predicate for the POST to a URL ending in `path_end`."""
    return lambda r: r.method == "POST" and r.url.split("?")[0].endswith(path_end)


def log_in(page, email: str, password: str, next_url: str) -> None:
    page.goto(f"/auth/login?next={next_url}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form.narrow-form button[type=submit]")
    page.wait_for_url(f"**{next_url}")


class LoopShots:
    """Full-page screenshots of several pages, numbered in the order taken."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.count = 0
        if directory.exists():
            for old in directory.glob("*.png"):
                old.unlink()
        directory.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.directory / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


# --- fixtures -----------------------------------------------------------------------


@dataclass
class LoopData:
    need_id: int
    need_ref: str
    need_title: str
    token: str
    partner_id: int
    partner_name: str
    due_default: date  # the route form's prefilled due date
    admin_email: str
    staff_email: str
    password: str


@pytest.fixture
def loop_data(live_server) -> Iterator[LoopData]:
    """A category with a default partner, an admin, one of the partner's staff
    and a need just submitted; emptied afterwards."""
    from portal.auth.models import Role
    from portal.triage.services import default_due_dates
    from tests.factories import make_category, make_need, make_organisation, make_user

    app = live_server.app
    password = "Harbour lantern moss 62"
    with app.app_context():
        try:
            partner = make_organisation(name_zh="市照明管理处", name_en="City lighting office")
            category = make_category(
                name_zh="道路照明",
                name_en="Street lighting",
                code="loop0",
                default_partner=partner,
                resolution_sla_days=10,
            )
            admin = make_user(Role.ADMIN, password=password)
            admin.display_name = "Zhao Min (admin)"
            staff = make_user(Role.PARTNER, partner, password=password)
            staff.display_name = "Chen Jie (lighting office)"
            need, token = make_need(
                NeedStatus.SUBMITTED,
                category=category,
                title="Street light broken at the school gate",
                body="The light at the school gate has been off for a week; "
                "children walk home in the dark.",
            )
            db.session.commit()
            data = LoopData(
                need_id=need.id,
                need_ref=need.ref,
                need_title=need.title,
                token=token,
                partner_id=partner.id,
                partner_name=partner.name_en,
                due_default=default_due_dates({10})[10],
                admin_email=admin.email,
                staff_email=staff.email,
                password=password,
            )
        finally:
            db.session.remove()
    try:
        yield data
    finally:
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def new_page(request, browser, live_server, viewport):
    """Opens a page in a context of its own (its own cookies), JavaScript on,
    in English; on failure each open page leaves a screenshot."""
    contexts = []

    def open_page(role: str):
        context = browser.new_context(
            **VIEWPORTS[viewport],
            locale="en-GB",
            java_script_enabled=True,
            base_url=live_server.url,
        )
        context.add_cookies([{"name": "locale", "value": "en", "url": live_server.url}])
        context.set_default_timeout(float(os.environ.get("BROWSER_TIMEOUT_MS", "10000")))
        page = context.new_page()
        contexts.append((role, context, page))
        return page

    try:
        yield open_page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        failed = any(r.failed for r in reports.values())
        for role, context, page in contexts:
            if failed:
                directory = SCREENSHOTS / f"loop-{viewport}"
                directory.mkdir(parents=True, exist_ok=True)
                try:
                    page.screenshot(path=str(directory / f"99-failure-{role}.png"), full_page=True)
                except Exception as error:  # never hide the real failure behind this one
                    print(f"could not take the failure screenshot of {role}: {error}")
            context.close()


@pytest.fixture
def loop_shot(viewport) -> LoopShots:
    return LoopShots(SCREENSHOTS / f"loop-{viewport}")


def need_row(app, ref: str) -> Need:
    """The need as the database has it now (detached, attributes loaded)."""
    with app.app_context():
        try:
            need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
            db.session.expunge(need)
            return need
        finally:
            db.session.remove()


def assignment_row(app, need_id: int):
    from portal.partners.models import Assignment
    from portal.workdays.services import local_zone

    with app.app_context():
        try:
            assignment = db.session.scalars(
                sa.select(Assignment).where(Assignment.need_id == need_id)
            ).one()
            return (
                assignment.organisation_id,
                assignment.state.value,
                assignment.due_at.astimezone(local_zone()).date(),
                assignment.note,
            )
        finally:
            db.session.remove()


# --- the loop -----------------------------------------------------------------------


def test_publish_route_resolve_and_close(new_page, loop_shot, loop_data, live_server):
    app = live_server.app
    data = loop_data
    shot = loop_shot

    # 1. The admin: publish and route from the triage queue, with inline actions.
    admin = new_page("admin")
    log_in(admin, data.admin_email, data.password, "/admin/triage")
    mark_document(admin)
    row = admin.locator(f"#need-row-{data.need_id}")
    expect(row.locator("h3")).to_have_text(data.need_title)
    expect(row.locator(".badge-submitted")).to_have_text("Awaiting review")
    expect(row).to_contain_text(f"Suggested partner: {data.partner_name}")
    shot(admin, "triage-queue")
    no_horizontal_overflow(admin)

    with admin.expect_request(htmx_post(f"/admin/needs/{data.need_ref}/publish")) as sent:
        row.locator("form.triage-button-form button[type=submit]").click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the publish"
    assert sent.value.headers.get("hx-boosted") is None, "a boosted form, not the row action"
    expect(row.locator(".badge-open")).to_have_text("Open")
    expect(row.locator(".flash-success")).to_have_text("Published.")
    expect(row.locator("form.triage-button-form")).to_have_count(0)
    assert same_document(admin), "the publish reloaded the page"
    assert need_row(app, data.need_ref).status == NeedStatus.OPEN
    shot(admin, "published")
    no_horizontal_overflow(admin)

    route = row.locator("details.triage-edit", has=admin.locator("summary", has_text="Route"))
    route.locator("summary").click()
    expect(route).to_have_attribute("open", "")
    partner_select = route.locator(f"#row-{data.need_id}-route-organisation")
    expect(partner_select).to_have_value(str(data.partner_id))
    expect(partner_select.locator("option:checked")).to_have_text(
        f"{data.partner_name} (suggested)"
    )
    due = route.locator(f"#row-{data.need_id}-route-due_date")
    expect(due).to_have_value(data.due_default.isoformat())
    route.locator(f"#row-{data.need_id}-route-note").fill(NOTE)
    shot(admin, "route-form")
    no_horizontal_overflow(admin)

    with admin.expect_request(htmx_post(f"/admin/needs/{data.need_ref}/route")) as sent:
        route.locator("button[type=submit]").click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the route"
    expect(row).to_have_class(re.compile(r"\btriage-row-done\b"))
    expect(row.locator(".badge-routed")).to_have_text("Sent to a partner")
    expect(row.locator(".flash-success")).to_contain_text(f"Sent to {data.partner_name}, due")
    expect(row.locator(".triage-actions")).to_have_count(0)
    expect(row.locator("input.triage-select")).to_have_count(0)
    assert same_document(admin), "the route reloaded the page"
    assert need_row(app, data.need_ref).status == NeedStatus.ROUTED
    assert assignment_row(app, data.need_id) == (
        data.partner_id,
        "pending",
        data.due_default,
        NOTE,
    )
    shot(admin, "routed")
    no_horizontal_overflow(admin)

    # The row leads to the need's admin page; the queue no longer lists it.
    row.get_by_role("link", name="Open the need").click()
    admin.wait_for_url(f"**/admin/needs/{data.need_ref}")
    expect(admin.locator("main .badge-routed").first).to_be_visible()
    expect(admin.locator("main")).to_contain_text(data.partner_name)
    shot(admin, "admin-need")
    no_horizontal_overflow(admin)
    admin.goto("/admin/triage")
    expect(admin.locator(f"#need-row-{data.need_id}")).to_have_count(0)
    expect(admin.locator("#queue-results .empty")).to_be_visible()

    # 2. The partner's staff: accept, then resolve with a public answer.
    partner = new_page("partner")
    log_in(partner, data.staff_email, data.password, "/partner/inbox")
    item = partner.locator("#inbox-results article.inbox-item", has_text=data.need_title)
    expect(item).to_have_count(1)
    expect(item.locator(".badge-pending")).to_be_visible()
    expect(item).to_contain_text(data.need_ref)
    shot(partner, "partner-inbox")
    no_horizontal_overflow(partner)

    item.get_by_role("link", name=data.need_title).click()
    partner.wait_for_url(f"**/partner/needs/{data.need_ref}")
    expect(partner.locator("main h1")).to_have_text(data.need_title)
    expect(partner.locator("#workspace")).to_contain_text(NOTE)
    mark_document(partner)
    shot(partner, "partner-need")
    no_horizontal_overflow(partner)

    workspace = partner.locator("#workspace")
    with partner.expect_request(htmx_post(f"/partner/needs/{data.need_ref}/accept")) as sent:
        workspace.get_by_role("button", name="Accept this need").click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the accept"
    expect(workspace.locator(".flash-success")).to_contain_text("You accepted this need.")
    expect(workspace.locator("#assignment-title + .meta .badge-accepted")).to_have_text("Accepted")
    expect(workspace.get_by_role("button", name="Accept this need")).to_have_count(0)
    assert same_document(partner), "the accept reloaded the page"
    assert need_row(app, data.need_ref).status == NeedStatus.ACCEPTED
    shot(partner, "partner-accepted")
    no_horizontal_overflow(partner)

    resolve = workspace.locator(
        "details.partner-action", has=partner.locator("summary", has_text="Resolve with an answer")
    )
    resolve.locator("summary").click()
    resolve.locator("#resolve-text").fill(ANSWER)
    shot(partner, "partner-answer")
    with partner.expect_request(htmx_post(f"/partner/needs/{data.need_ref}/resolve")) as sent:
        resolve.get_by_role("button", name="Publish the answer").click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the answer"
    expect(workspace.locator(".flash-success")).to_contain_text("Your answer is published")
    expect(workspace.locator(".badge-resolved")).to_have_text("Resolved")
    expect(workspace.locator("ol.timeline")).to_contain_text(ANSWER)
    assert same_document(partner), "the answer reloaded the page"
    need = need_row(app, data.need_ref)
    assert need.status == NeedStatus.RESOLVED
    assert assignment_row(app, data.need_id)[1] == "completed"
    shot(partner, "partner-resolved")
    no_horizontal_overflow(partner)

    # 3. The submitter, anonymous, with the tracking link: feedback closes it.
    submitter = new_page("submitter")
    submitter.goto(f"/track/{data.token}")
    mark_document(submitter)
    expect(submitter.locator("main h1")).to_have_text(data.need_title)
    expect(submitter.locator("main .need .badge-resolved")).to_have_text("Resolved")
    expect(submitter.locator("ol.timeline li.timeline-resolve .timeline-text")).to_have_text(ANSWER)
    feedback = submitter.locator("#feedback")
    expect(feedback.locator("h2")).to_have_text("Your feedback on the answer")
    shot(submitter, "track-answer")
    no_horizontal_overflow(submitter)

    feedback.locator("input[name=resolved][value=yes]").check()
    feedback.locator("input[name=satisfaction][value='5']").check()
    shot(submitter, "feedback-filled")
    with submitter.expect_request(htmx_post(f"/track/{data.token}/feedback")) as sent:
        feedback.get_by_role("button", name="Send my feedback").click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the feedback"
    expect(submitter.locator(".flash-success")).to_have_text("Thank you for your feedback.")
    expect(submitter.locator("main .need .badge-closed")).to_have_text("Closed")
    expect(submitter.locator("#feedback")).to_have_count(0)
    expect(submitter.locator("ol.timeline li.timeline-close")).to_contain_text("Closed as resolved")
    assert same_document(submitter), "the feedback reloaded the page"
    need = need_row(app, data.need_ref)
    assert (need.status, need.outcome) == (NeedStatus.CLOSED, Outcome.RESOLVED)
    shot(submitter, "closed")
    no_horizontal_overflow(submitter)
