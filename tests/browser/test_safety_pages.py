"""The pages of issue 12 on a phone, with JavaScript and without: a staff
member's two-factor set-up and login, a member downloading their data and
deleting their account, a submitter without an account deleting their contact
details from the tracking page, and an admin keeping the sensitive-term list.

The pages are in English (the `locale` cookie), so the texts read as in the code.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.conftest import PHONE, SCREENSHOTS, Screenshots, seed_live

pytestmark = pytest.mark.browser

VARIANTS = pytest.mark.parametrize("variant", ["js", "nojs"], indirect=True)
PASSWORD = "Willow teapot harbour 58"
RECOVERY_CODE = re.compile(r"^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$")


# --- helpers ------------------------------------------------------------------------


def no_horizontal_overflow(page) -> None:
    """Nothing wider than the 360 px screen."""
    width = page.locator("html").evaluate("el => el.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def in_english(page, live_server) -> None:
    page.context.add_cookies([{"name": "locale", "value": "en", "url": live_server.url}])


def submit(page, button: str, url=None) -> None:
    """Clicks a submit button and waits for the page it leads to: a full load
    without JavaScript, a boosted swap (pushed URL) with it."""
    if url is None:
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.click(button)
        page.wait_for_load_state()
    else:
        page.click(button)
        page.wait_for_url(url)


def log_in(page, email: str, password: str, next_url: str, lands_on) -> None:
    page.goto(f"/auth/login?next={next_url}")
    page.fill("#email", email)
    page.fill("#password", password)
    submit(page, "main form.narrow-form button[type=submit]", lands_on)


def log_out(page) -> None:
    page.click("nav.main-nav form.inline-form button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("main .flash-info")).to_have_text("You are logged out.")


def recovery_codes_overlap(page) -> list[str]:
    """Codes that run into the number of a code in the next column (the list's
    numbers sit outside its columns, in the gap between them)."""
    return page.locator("#recovery-codes").evaluate(
        """ol => {
            const probe = document.createElement("span");
            probe.textContent = "10. ";
            ol.append(probe);
            const number = probe.getBoundingClientRect().width;
            probe.remove();
            const rows = [...ol.children].map(li => ({
                li: li.getBoundingClientRect(),
                code: li.querySelector("code").getBoundingClientRect(),
                text: li.innerText.trim(),
            }));
            return rows.filter(a => rows.some(b =>
                b.li.left > a.li.right - 1 && b.li.top < a.li.bottom && a.li.top < b.li.bottom
                && a.code.right + number > b.li.left)).map(a => a.text);
        }"""
    )


def flash(page, kind: str = "success") -> str:
    return page.locator(f"main .flash-{kind}").inner_text().strip()


@pytest.fixture
def safety_shot(request, page, variant) -> Screenshots:
    """Screenshots in a folder per test and variant, so the tests do not wipe
    each other's (the shared `shot` folder is emptied by every test using it)."""
    name = request.node.originalname.removeprefix("test_")
    return Screenshots(page, SCREENSHOTS / f"safety-{name}-{variant}")


@dataclass
class Account:
    email: str
    id: int


def _account(role_name: str, *, two_factor_required: bool = False) -> Account:
    from portal.auth.models import Role
    from portal.core.models import Setting
    from portal.core.settings import STAFF_TWO_FACTOR_FROM
    from tests.factories import make_user

    user = make_user(Role(role_name), password=PASSWORD)
    if two_factor_required:
        # The admins' date has passed: the password alone no longer logs staff in.
        past = (date.today() - timedelta(days=3)).isoformat()
        db.session.add(Setting(key=STAFF_TWO_FACTOR_FROM, value=past))
    db.session.flush()
    return Account(email=user.email, id=user.id)


@pytest.fixture
def staff_admin(live_server) -> Iterator[Account]:
    yield from seed_live(live_server, lambda: _account("admin", two_factor_required=True))


@pytest.fixture
def admin(live_server) -> Iterator[Account]:
    yield from seed_live(live_server, lambda: _account("admin"))


@pytest.fixture
def member(live_server) -> Iterator[Account]:
    yield from seed_live(live_server, lambda: _account("member"))


@pytest.fixture
def category(live_server) -> Iterator[str]:
    from tests.factories import make_category

    yield from seed_live(
        live_server,
        lambda: (
            make_category(name_zh="道路照明", name_en="Street lighting", code="safety0").name_en
        ),
    )


# --- 1. staff two-factor sign-in ------------------------------------------------------


@VARIANTS
def test_staff_sets_up_two_factor_and_logs_in_with_a_code(
    page, safety_shot, staff_admin, live_server
):
    shot = safety_shot
    in_english(page, live_server)

    # The right password leads to the set-up, not into the admin pages.
    log_in(page, staff_admin.email, PASSWORD, "/admin", "**/auth/two-factor/setup")
    expect(page.locator("main h1")).to_have_text("Set up two-factor sign-in")
    assert "Your password was right. Staff accounts need a second factor" in flash(page, "info")
    qr = page.locator("main img.totp-qr")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code did not load"
    assert qr.bounding_box()["width"] >= 150, "the QR code is too small to scan"
    secret = page.inner_text("#totp-secret").replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    shot("setup")
    no_horizontal_overflow(page)
    # Nothing is open yet: the admin pages send to the login; the set-up waits
    # with the same secret.
    page.goto("/admin")
    assert "/auth/login" in page.url
    page.goto("/auth/two-factor/setup")
    assert page.inner_text("#totp-secret").replace(" ", "") == secret

    # A wrong code: the error next to the field, the same secret to try again.
    totp = pyotp.TOTP(secret)
    now = time.time()
    near = {totp.at(now + drift) for drift in (-30, 0, 30, 60)}
    wrong = next(c for c in ("123456", "654321", "111111", "222222") if c not in near)
    page.fill("#code", wrong)
    submit(page, "main form.narrow-form button[type=submit]")
    expect(page.locator("#code-errors .error")).to_contain_text("This code does not match")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert page.inner_text("#totp-secret").replace(" ", "") == secret
    shot("setup-wrong-code")
    no_horizontal_overflow(page)

    # The app's code turns it on and shows the ten recovery codes, once.
    setup_code = totp.now()
    page.fill("#code", setup_code)
    submit(page, "main form.narrow-form button[type=submit]")
    expect(page.locator("main h1")).to_have_text("Two-factor sign-in is on")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    assert all(RECOVERY_CODE.match(c) for c in codes), codes
    assert recovery_codes_overlap(page) == [], "recovery codes overlap the numbers"
    page.set_viewport_size({"width": 1024, "height": 740})  # two columns where they fit
    assert recovery_codes_overlap(page) == [], "recovery codes overlap the numbers (1024 px)"
    page.set_viewport_size(PHONE)
    shot("recovery-codes")
    no_horizontal_overflow(page)

    # Continue: logged in, where the login was going.
    page.click("main a.button-primary")
    page.wait_for_url("**/admin")
    expect(page.locator("main h1")).to_have_text("Administration")
    expect(page.locator("#two-factor-banner")).to_have_count(0)
    shot("admin")

    # The next login asks for a code after the password.
    log_out(page)
    log_in(page, staff_admin.email, PASSWORD, "/admin", "**/auth/two-factor")
    expect(page.locator("main h1")).to_have_text("Two-factor sign-in")
    shot("code-step")
    no_horizontal_overflow(page)

    # The code used for the set-up counts once: typed again, it is refused.
    page.fill("#code", setup_code)
    submit(page, "main form.narrow-form button[type=submit]")
    expect(page.locator("#code-errors .error")).to_have_text(
        "This code is wrong or was used already. Please type the newest code."
    )
    assert page.url.endswith("/auth/two-factor")
    shot("code-used-already")
    no_horizontal_overflow(page)

    # A newer code (the server allows one step of clock drift, so the next
    # step's code is fresh however fast the test runs) logs in.
    page.fill("#code", totp.at(time.time() + 30))
    submit(page, "main form.narrow-form button[type=submit]", "**/admin")
    expect(page.locator("main h1")).to_have_text("Administration")
    assert "Welcome" in flash(page)
    shot("logged-in-with-code")


# --- 2. a member's data and account ----------------------------------------------------


@VARIANTS
def test_member_downloads_their_data_and_deletes_the_account(
    page, safety_shot, member, live_server
):
    from portal.auth.models import User

    shot = safety_shot
    in_english(page, live_server)
    log_in(page, member.email, PASSWORD, "/me", "**/me")
    section = page.locator("#my-data")
    section.scroll_into_view_if_needed()
    shot("my-page")
    no_horizontal_overflow(page)

    # "Download my data": a ZIP with the account inside, straight from the link.
    link = section.get_by_role("link", name="Download my data")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert re.fullmatch(r"huiju-my-data-\d{8}\.zip", download.suggested_filename)
    with zipfile.ZipFile(download.path()) as archive:
        data = json.loads(archive.read("my-data.json"))
    assert data["account"]["email"] == member.email
    # The same URL with the page's cookies: a ZIP, never cached.
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/zip"
    assert "no-store" in response.headers["cache-control"]
    assert zipfile.is_zipfile(io.BytesIO(response.body()))

    # "Delete my account…" asks for the password.
    section.get_by_role("link", name="Delete my account…").click()
    page.wait_for_url("**/me/delete")
    expect(page.locator("main h1")).to_have_text("Delete my account")
    expect(page.get_by_label("Your password")).to_be_visible()
    shot("delete-asks-password")
    no_horizontal_overflow(page)

    # A wrong password: the error next to the field, still on the page.
    page.fill("#password", "not the password")
    submit(page, "main form button.button-danger")
    expect(page.locator("#password-errors .error")).to_have_text("The password is wrong.")
    assert page.url.endswith("/me/delete")
    expect(page.locator("main h1")).to_have_text("Delete my account")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    shot("delete-wrong-password")
    no_horizontal_overflow(page)
    with live_server.app.app_context():
        assert db.session.get(User, member.id).email == member.email
        db.session.remove()

    # The right one deletes it, logs out and says so.
    page.fill("#password", PASSWORD)
    submit(page, "main form button.button-danger", re.compile(r"/$"))
    assert flash(page) == "Your account is deleted. Thank you for taking part."
    expect(page.locator("nav.main-nav").get_by_role("link", name="Log in")).to_be_visible()
    shot("deleted")
    no_horizontal_overflow(page)
    with live_server.app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.email == member.email)
        )
        db.session.remove()
    assert count == 0

    # The address and password no longer open anything.
    log_in(page, member.email, PASSWORD, "/me", None)
    expect(page.locator("#password-errors .error")).to_have_text(
        "The e-mail address or the password is wrong."
    )
    assert "/auth/login" in page.url
    shot("login-refused")


# --- 3. a submitter without an account ---------------------------------------------------


@VARIANTS
def test_submitter_deletes_contact_details_from_the_tracking_page(
    page, safety_shot, category, live_server
):
    from portal.needs.models import Need

    shot = safety_shot
    in_english(page, live_server)
    title = "Street light out at the north gate"
    email = "zhou.lei@example.org"
    page.goto("/needs/new")
    page.fill("#title", title)
    page.fill("#body", "The street light at the north gate has been out for ten days.")
    page.select_option("#category", label=category)
    page.fill("#email", email)
    page.check("#consent")
    submit(page, "#need-form button[type=submit]", "**/needs/submitted")
    expect(page.locator("main h1")).to_have_text("Thank you, we received your need")
    ref = page.inner_text("#need-ref").strip()
    shot("confirmation")
    no_horizontal_overflow(page)

    page.locator("#tracking-link").click()
    page.wait_for_url("**/track/*")
    track_url = page.url
    expect(page.locator("main h1")).to_have_text(title)
    contact = page.locator("#contact-details")
    expect(contact.get_by_role("link", name="Delete my contact details…")).to_be_visible()
    contact.scroll_into_view_if_needed()
    shot("tracking")
    no_horizontal_overflow(page)
    with live_server.app.app_context():
        need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
        assert need.contact.email == email
        db.session.remove()

    # Asked on a page of its own, then done.
    contact.get_by_role("link", name="Delete my contact details…").click()
    page.wait_for_url("**/delete-contact")
    expect(page.locator("main h1")).to_have_text("Delete your contact details?")
    assert title in page.inner_text("main")
    shot("confirm-delete")
    no_horizontal_overflow(page)
    submit(page, "main form button.button-danger", track_url)
    assert flash(page) == (
        "Your contact details are deleted. We will not e-mail you about this need again."
    )
    expect(contact).to_contain_text("Your contact details for this need are deleted.")
    expect(contact.get_by_role("link")).to_have_count(0)
    shot("contact-deleted")
    no_horizontal_overflow(page)
    with live_server.app.app_context():
        need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
        assert not (need.contact and need.contact.email), "the e-mail address is still stored"
        db.session.remove()

    # The tracking page keeps working.
    page.goto(track_url)
    expect(page.locator("main h1")).to_have_text(title)
    assert ref in page.locator("main article .meta").first.inner_text()
    expect(page.locator("main .badge-submitted")).to_have_text("Awaiting review")
    expect(page.locator("main section h2").first).to_have_text("Timeline")
    shot("tracking-still-works")


# --- 4. the sensitive-term list ------------------------------------------------------------


@VARIANTS
def test_admin_adds_and_removes_a_sensitive_term(page, safety_shot, admin, live_server):
    shot = safety_shot
    in_english(page, live_server)
    term = "加微信领红包"
    log_in(page, admin.email, PASSWORD, "/admin/moderation/words", "**/admin/moderation/words")
    expect(page.locator("main h1")).to_have_text("Sensitive terms")
    rows = page.locator("#terms li.term-row", has_text=term)
    expect(rows).to_have_count(0)
    shot("words")
    no_horizontal_overflow(page)

    page.fill("#term", term)
    submit(page, "#term-form button[type=submit]", "**/admin/moderation/words")
    expect(page.locator("main .flash-success")).to_have_text(
        f"“{term}” is on the list: texts with it wait for a moderator."
    )
    expect(rows).to_have_count(1)
    expect(rows.locator(".term")).to_have_text(term)
    assert page.input_value("#term") == ""
    shot("term-added")
    no_horizontal_overflow(page)

    rows.get_by_role("button", name=f"Remove “{term}”").click()
    expect(page.locator("main .flash-success")).to_have_text(f"“{term}” is removed from the list.")
    expect(rows).to_have_count(0)
    assert page.url.endswith("/admin/moderation/words")
    shot("term-removed")
    no_horizontal_overflow(page)
