"""The member's journey on a phone: register, confirm the address from the
e-mail that really went out over SMTP, log in, support a need, vote in a
priority round and find both on "My page". With htmx the support and the vote
change the page without loading it; with JavaScript off the plain forms work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.notify.channels import deliver_outbox

pytestmark = pytest.mark.browser

VERIFY_LINK = re.compile(r"https?://\S+/auth/verify/\S+")


def no_horizontal_overflow(page) -> None:
    """Nothing wider than the 360 px screen."""
    width = page.locator("html").evaluate("el => el.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def mark_document(page) -> None:
    """Waits for htmx and sets a marker that a full page load would wipe out."""
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__sameDocument = true; }")


def same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def support_count(page) -> int:
    return int(page.inner_text("#support .support-count strong").strip())


def log_in(page, email: str, password: str) -> None:
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form.narrow-form button[type=submit]")
    page.wait_for_url("**/me")


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_register_confirm_support_and_vote(page, member_shot, member_data, mailbox, live_server):
    shot = member_shot
    # Register.
    page.goto("/auth/register")
    mark_document(page)
    email = "li.na@example.org"
    password = "Copper kettle whistles 83"
    page.fill("#display_name", "李娜 Li Na")
    page.fill("#email", email)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.check("#consent")
    shot("register-filled")
    no_horizontal_overflow(page)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/auth/register/check-email")
    assert email in page.inner_text("main")
    shot("check-email")

    # The verification mail goes out over SMTP, as the worker would send it.
    with live_server.app.app_context():
        report = deliver_outbox()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (mail,) = mailbox.messages
    assert mail["To"] == email
    link = VERIFY_LINK.search(mail.get_content()).group(0)
    assert link.startswith(live_server.url + "/auth/verify/")

    # The link confirms the address and leads to the login page.
    page.goto(link)
    assert page.url.endswith("/auth/login")
    expect(page.locator("main .flash-success")).to_be_visible()
    shot("address-confirmed")
    log_in(page, email, password)
    assert "李娜 Li Na" in page.inner_text("main h1")
    shot("logged-in")

    # Support a need: the count goes up without a page load.
    page.goto(f"/needs/{member_data.need_ref}")
    mark_document(page)
    before = support_count(page)
    assert before == member_data.start_count
    shot("need-before-support")
    button = page.locator("#support button[type=submit]")
    assert button.get_attribute("aria-pressed") == "false"
    with page.expect_request(lambda r: r.method == "POST" and "/support" in r.url) as sent:
        button.click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the support"
    expect(page.locator("#support .support-count strong")).to_have_text(str(before + 1))
    expect(page.locator("#support button[type=submit]")).to_have_attribute("aria-pressed", "true")
    assert same_document(page), "the page was reloaded"
    shot("need-supported")
    no_horizontal_overflow(page)

    # Vote in the round: "votes left" goes from 2 to 1 without a page load.
    page.goto(f"/rounds/{member_data.round_id}")
    mark_document(page)
    votes_left = page.locator("#ballot .votes-left strong")
    left_before = votes_left.inner_text().strip()
    assert "2" in left_before, left_before
    shot("round-before-vote")
    first = page.locator("#ballot ol.ranking > li").first
    assert member_data.round_need_titles[0] in first.inner_text()
    with page.expect_request(lambda r: r.method == "POST" and "/vote" in r.url) as sent:
        first.locator("button[type=submit]").click()
    assert sent.value.headers.get("hx-request") == "true", "htmx did not send the vote"
    expect(votes_left).not_to_have_text(left_before)
    assert "1" in votes_left.inner_text()
    expect(page.locator("#ballot ol.ranking > li").first).to_have_class(re.compile(r"\bvoted\b"))
    assert same_document(page), "the page was reloaded"
    shot("round-voted")
    no_horizontal_overflow(page)

    # "My page" lists both.
    page.goto("/me")
    supports = page.inner_text("#supports")
    assert member_data.need_title in supports
    votes = page.locator("#votes .my-round-vote")
    expect(votes).to_have_count(1)
    assert member_data.round_title in votes.inner_text()
    assert member_data.round_need_titles[0] in votes.inner_text()
    shot("my-page")
    no_horizontal_overflow(page)


@pytest.mark.parametrize("variant", ["nojs"], indirect=True)
def test_support_with_the_plain_form(page, member_shot, member_data):
    shot = member_shot
    page.goto("/auth/login")
    shot("login")
    page.fill("#email", member_data.member_email)
    page.fill("#password", member_data.member_password)
    with page.expect_navigation(url="**/me"):
        page.click("main form.narrow-form button[type=submit]")
    assert member_data.member_name in page.inner_text("main h1")
    shot("logged-in")

    page.goto(f"/needs/{member_data.need_ref}")
    before = support_count(page)
    assert before == member_data.start_count
    shot("need-before-support")
    with page.expect_navigation(url=re.compile(r"/needs/N-\d{4}-\d{6}#support$")):
        page.click("#support button[type=submit]")
    assert support_count(page) == before + 1
    assert page.get_attribute("#support button[type=submit]", "aria-pressed") == "true"
    shot("need-supported")
    no_horizontal_overflow(page)

    page.goto("/me")
    assert member_data.need_title in page.inner_text("#supports")
    shot("my-page")
