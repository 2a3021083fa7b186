"""Photos on a phone (360 × 740): a visitor attaches a camera photo to a new
need and, once an administrator published it, sees its thumbnail on the need
page; with JavaScript the photo is previewed, made smaller before it is sent
and its upload shows a progress bar; without JavaScript the plain form works.
A need page with three big photos stays light (thumbnails only), and the
browser refuses too many or too large files before sending anything."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.photos.models import Photo
from tests.browser.conftest import PHONE, SCREENSHOTS, Screenshots
from tests.photos.images import jpeg_with_gps

pytestmark = pytest.mark.browser

VARIANTS = pytest.mark.parametrize("variant", ["js", "nojs"], indirect=True)
THUMB_URL = re.compile(r"^/photos/[0-9a-f]{32}/thumb\.jpg$")
PAGE_BUDGET = 300 * 1024
UPLOAD_PROGRESS = """() => {
  const bar = document.querySelector('#need-form [data-photo-progress]');
  return bar !== null && !bar.hidden && bar.value > 0 && bar.value < 100;
}"""
PREPARED_FILE = """async (input) => {
  const file = input.files[0];
  const text = new TextDecoder('latin1').decode(await file.arrayBuffer());
  const exif = text.includes('Exif') || text.includes('PhoneMaker');
  return {size: file.size, type: file.type, exif};
}"""
PREVIEWS_READY = """(count) => {
  const field = document.querySelector('[data-photo-field]');
  const images = [...field.querySelectorAll('[data-photo-preview] img')];
  return !field.classList.contains('is-preparing') && images.length === count
    && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


# --- pictures -----------------------------------------------------------------------


def camera_photo(width: int = 4000, height: int = 3000, *, angle: int = 0) -> bytes:
    """What a phone camera sends: many pixels of fine detail (so a few MB), with
    the camera's EXIF and where it was taken (GPS)."""
    exif = Image.open(io.BytesIO(jpeg_with_gps(64, 48))).info["exif"]
    assert b"PhoneMaker" in exif
    base = Image.radial_gradient("L").rotate(angle).resize((width, height))
    noise = Image.effect_noise((width // 3, height // 3), 60).resize((width, height))
    image = Image.merge(
        "RGB", (Image.blend(base, noise, 0.6), noise, base.transpose(Image.FLIP_LEFT_RIGHT))
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def chosen_file(data: bytes, name: str = "IMG_0001.jpg", mime: str = "image/jpeg") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


# --- helpers ------------------------------------------------------------------------


def no_horizontal_overflow(page) -> None:
    width = page.locator("html").evaluate("el => el.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def sent_bytes(request) -> int:
    """The size of a request's body, as the browser announced it."""
    return int(request.all_headers()["content-length"])


def fill_need(page, category: str, title: str) -> None:
    page.fill("#title", title)
    page.fill("#body", "The drain in front of building 3 overflows whenever it rains.")
    page.select_option("#category", label=category)
    page.check("#consent")


def publish(app, ref: str) -> Need:
    """An administrator publishes the need (the workflow service, as the triage page does)."""
    from portal.auth.models import Role
    from portal.workflow.services import Actor, transition
    from tests.factories import make_user

    with app.app_context():
        try:
            need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
            transition(need, "publish", Actor.staff(make_user(Role.ADMIN)))
            db.session.commit()
            return need
        finally:
            db.session.remove()


def photos_of(app, ref: str) -> list[Photo]:
    with app.app_context():
        try:
            return list(
                db.session.scalars(
                    sa.select(Photo).join(Need, Need.id == Photo.need_id).where(Need.ref == ref)
                )
            )
        finally:
            db.session.remove()


def gallery_thumbnails(page) -> list[dict]:
    """The need page's thumbnails: where each comes from and its decoded width."""
    images = page.locator("main .photo-gallery img")
    return [
        {
            "src": images.nth(i).get_attribute("src"),
            "alt": images.nth(i).get_attribute("alt"),
            "width": images.nth(i).evaluate("img => img.naturalWidth"),
        }
        for i in range(images.count())
    ]


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture
def photo_folder(live_server, tmp_path) -> Iterator[Path]:
    """The live server keeps this test's photos in the test's own folder."""
    config = live_server.app.config
    saved = config["PHOTO_FOLDER"]
    config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    try:
        yield tmp_path / "photos"
    finally:
        config["PHOTO_FOLDER"] = saved


SHOT_FOLDERS = {
    "test_a_photo_sent_with_a_need_is_shown_once_published": "submit",
    "test_too_many_or_too_large_photos_are_refused_before_sending": "refused",
    "test_photos_kept_by_a_form_shown_again_count_too": "kept",
}


@pytest.fixture
def photo_shot(request, page, variant) -> Screenshots:
    """test-output/browser/photos/<test>-<variant>/NN-step.png"""
    folder = SHOT_FOLDERS[request.function.__name__]
    return Screenshots(page, SCREENSHOTS / "photos" / f"{folder}-{variant}")


# --- the journeys -------------------------------------------------------------------


@VARIANTS
def test_a_photo_sent_with_a_need_is_shown_once_published(
    page, photo_shot, journey_data, photo_folder, live_server, variant
):
    original = camera_photo()
    assert len(original) > 3 * 2**20  # a real camera file: a few MB, with its GPS position
    page.goto("/needs/new")
    title = "Drain overflowing at building 3"
    fill_need(page, journey_data.categories[0][0], title)
    page.set_input_files("#photos", files=[chosen_file(original)])

    if variant == "js":
        page.wait_for_function("() => window.htmx !== undefined")
        page.wait_for_function(PREVIEWS_READY, arg=1)
        preview = page.locator("[data-photo-preview] img")
        assert preview.get_attribute("alt").strip()
        assert preview.get_attribute("src").startswith("blob:")
        # The browser made the file smaller before sending (and dropped its EXIF).
        prepared = page.eval_on_selector("#photos", PREPARED_FILE)
        assert prepared["type"] == "image/jpeg"
        assert prepared["size"] < len(original) / 2, prepared
        assert not prepared["exif"], "the camera data and location would leave the phone"
        photo_shot("photo-chosen")
        no_horizontal_overflow(page)

        # A slow upload (about 2 s), so the progress bar can be seen moving.
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 600_000},
        )
        bar = page.locator("#need-form [data-photo-progress]")
        assert bar.is_hidden()
        with (
            page.expect_navigation(url="**/needs/submitted", timeout=30_000),
            page.expect_request(lambda r: r.method == "POST" and "/needs/new" in r.url) as sent,
        ):
            page.click("#need-form button[type=submit]")
            page.wait_for_function(UPLOAD_PROGRESS)
            photo_shot("uploading")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        assert sent.value.headers.get("hx-request") == "true", "htmx did not send the form"
        assert sent_bytes(sent.value) < len(original) / 2
    else:
        photo_shot("photo-chosen")
        no_horizontal_overflow(page)
        with page.expect_navigation(url="**/needs/submitted"):
            page.click("#need-form button[type=submit]")

    ref = page.inner_text("#need-ref").strip()
    photo_shot("confirmation")
    [photo] = photos_of(live_server.app, ref)
    assert (photo.width, photo.height) == (1600, 1200)

    # Not published yet: the public page does not exist.
    assert page.goto(f"/needs/{ref}").status == 404

    publish(live_server.app, ref)
    thumbs = []
    page.on("response", lambda r: thumbs.append(r) if "/thumb.jpg" in r.url else None)
    page.goto(f"/needs/{ref}")
    assert page.inner_text("main h1").strip() == title
    gallery = page.locator("main .photo-gallery img")
    gallery.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    if variant == "js":
        [shown] = gallery_thumbnails(page)
        assert shown["width"] > 0, "the thumbnail did not load"
        assert THUMB_URL.match(shown["src"]) and photo.key in shown["src"]
        assert shown["alt"].strip()
    else:
        assert gallery.count() == 1
        assert THUMB_URL.match(gallery.get_attribute("src"))
    [thumb] = thumbs
    assert thumb.status == 200 and thumb.headers["content-type"] == "image/jpeg"
    decoded = Image.open(io.BytesIO(thumb.body()))
    assert decoded.width == 400 and not decoded.getexif()
    link = page.locator("main .photo-gallery a").get_attribute("href")
    assert link == f"/photos/{photo.key}/display.jpg"
    photo_shot("need-page")
    no_horizontal_overflow(page)


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_a_form_sent_while_its_photo_is_prepared_waits_for_it(
    page, journey_data, photo_folder, live_server
):
    original = camera_photo()
    page.goto("/needs/new")
    page.wait_for_function("() => window.htmx !== undefined")
    fill_need(page, journey_data.categories[0][0], "Pothole at the bus stop")
    page.set_input_files("#photos", files=[chosen_file(original)])
    with (
        page.expect_navigation(url="**/needs/submitted"),
        page.expect_request(lambda r: r.method == "POST" and "/needs/new" in r.url) as sent,
    ):
        sent_while_preparing = page.evaluate(
            """() => {
              const preparing = document.querySelector('[data-photo-field]')
                .classList.contains('is-preparing');
              document.querySelector('#need-form').requestSubmit(
                document.querySelector('#need-form button[type=submit]'));
              return preparing;
            }"""
        )
    assert sent_while_preparing, "the photo was ready before the form was sent"
    assert sent.value.headers.get("hx-request") == "true"
    assert sent_bytes(sent.value) < len(original) / 2, "the big file was sent"
    [photo] = photos_of(live_server.app, page.inner_text("#need-ref").strip())
    assert (photo.width, photo.height) == (1600, 1200)


def test_a_need_page_with_three_big_photos_stays_light(
    browser, journey_data, photo_folder, live_server
):
    from portal.photos.services import attach_photos, receive_photos
    from tests.factories import make_category, make_need

    app = live_server.app
    with app.test_request_context():
        try:
            need, _ = make_need(
                NeedStatus.OPEN,
                category=make_category(name_zh="排水", name_en="Drainage"),
                title="Flooded stairwell in building 5",
            )
            uploads = [
                FileStorage(
                    io.BytesIO(camera_photo(angle=90 * i)),
                    f"IMG_{i}.jpg",
                    content_type="image/jpeg",
                )
                for i in range(3)
            ]
            batch = receive_photos(uploads)
            assert batch.ok, batch.errors
            attach_photos(need, batch, uploader=None)
            db.session.commit()
            ref = need.ref
        finally:
            db.session.remove()
    display_bytes = sum(p.stat().st_size for p in photo_folder.rglob("*-display.jpg"))
    # Loading even one display file would break the budget.
    assert display_bytes > PAGE_BUDGET

    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", base_url=live_server.url
    )
    try:
        page = context.new_page()
        responses = []
        page.on("response", lambda r: responses.append(r))
        page.goto(f"/needs/{ref}", wait_until="networkidle")
        page.locator("main .photo-gallery li").last.scroll_into_view_if_needed()
        page.wait_for_function(
            """() => [...document.querySelectorAll('main .photo-gallery img')]
                 .every((img) => img.complete && img.naturalWidth > 0)"""
        )
        page.wait_for_load_state("networkidle")
        shown = gallery_thumbnails(page)
        assert len(shown) == 3 and all(THUMB_URL.match(s["src"]) for s in shown)

        sizes = {r.url.removeprefix(live_server.url): len(r.body()) for r in responses}
        assert not [u for u in sizes if "display.jpg" in u], sizes
        assert len([u for u in sizes if u.endswith("/thumb.jpg")]) == 3, sizes
        total = sum(sizes.values())
        assert total < PAGE_BUDGET, f"{total} bytes: {sizes}"

        shots = Screenshots(page, SCREENSHOTS / "photos" / "page-weight")
        page.evaluate("() => window.scrollTo(0, 0)")
        shots("need-with-three-photos-phone")
        no_horizontal_overflow(page)
        page.set_viewport_size({"width": 1280, "height": 800})
        shots("need-with-three-photos-desktop")
    finally:
        context.close()


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_too_many_or_too_large_photos_are_refused_before_sending(
    page, photo_shot, journey_data, photo_folder, live_server
):
    config = live_server.app.config
    saved = config["PHOTO_MAX_BYTES"]
    config["PHOTO_MAX_BYTES"] = 2 * 2**20  # the page tells the browser the limit
    try:
        page.goto("/needs/new")
    finally:
        config["PHOTO_MAX_BYTES"] = saved
    page.wait_for_function("() => window.htmx !== undefined")
    fill_need(page, journey_data.categories[0][0], "Broken bench in the park")
    field = page.locator("[data-photo-field]")
    errors = page.locator("#photos-errors .error")
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)

    small = [chosen_file(jpeg_with_gps(800, 600), f"IMG_{i}.jpg") for i in range(4)]
    page.set_input_files("#photos", files=small)
    errors.wait_for()
    assert errors.all_inner_texts() == [field.get_attribute("data-too-many")]
    assert "3" in errors.inner_text()
    assert page.get_attribute("#photos", "aria-invalid") == "true"
    page.wait_for_function(PREVIEWS_READY, arg=4)
    photo_shot("four-chosen")
    no_horizontal_overflow(page)
    page.click("#need-form button[type=submit]")
    page.wait_for_timeout(500)
    assert sent == [], "the form was sent with too many photos"
    assert page.url.endswith("/needs/new")

    # Three are fine: the message goes away.
    page.set_input_files("#photos", files=small[:3])
    page.wait_for_function(PREVIEWS_READY, arg=3)
    assert errors.count() == 0
    assert page.get_attribute("#photos", "aria-invalid") == "false"

    # A file the browser cannot make smaller, above the limit: refused too.
    page.set_input_files("#photos", files=[chosen_file(b"\xff\xd8\xff" + b"\x00" * (3 * 2**20))])
    errors.wait_for()
    assert errors.all_inner_texts() == [field.get_attribute("data-too-large")]
    assert "2" in errors.inner_text()
    photo_shot("too-large")
    page.click("#need-form button[type=submit]")
    page.wait_for_timeout(500)
    assert sent == [], "the form was sent with a too large photo"


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_photos_kept_by_a_form_shown_again_count_too(
    page, photo_shot, journey_data, photo_folder, live_server
):
    page.goto("/needs/new")
    page.wait_for_function("() => window.htmx !== undefined")
    page.fill("#title", "Graffiti on the school wall")
    page.fill("#body", "The wall next to the school gate was sprayed last night.")
    page.select_option("#category", label=journey_data.categories[1][0])
    page.set_input_files("#photos", files=[chosen_file(jpeg_with_gps(1200, 900))])
    page.wait_for_function(PREVIEWS_READY, arg=1)
    # No consent: the form comes back with the error, and keeps the photo.
    with page.expect_response(lambda r: r.request.method == "POST" and "/needs/new" in r.url):
        page.click("#need-form button[type=submit]")
    kept = page.locator(".photo-kept input[name=kept_photo]")
    kept.wait_for()
    assert kept.is_checked()
    assert page.locator(".photo-kept img").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#consent-errors .error").is_visible()
    assert page.eval_on_selector("#photos", "i => i.files.length") == 0
    photo_shot("photo-kept")
    no_horizontal_overflow(page)

    # One kept and three new make four: too many, until the kept one is let go.
    field = page.locator("[data-photo-field]")
    errors = page.locator("#photos-errors .error")
    new = [chosen_file(jpeg_with_gps(900, 1200), f"IMG_{i}.jpg") for i in range(3)]
    page.set_input_files("#photos", files=new)
    errors.wait_for()
    assert errors.all_inner_texts() == [field.get_attribute("data-too-many")]
    photo_shot("kept-and-three-more")
    no_horizontal_overflow(page)
    kept.uncheck()
    errors.wait_for(state="detached")

    page.check("#consent")
    with page.expect_navigation(url="**/needs/submitted"):
        page.click("#need-form button[type=submit]")
    ref = page.inner_text("#need-ref").strip()
    photos = photos_of(live_server.app, ref)
    assert sorted((p.width, p.height) for p in photos) == [(900, 1200)] * 3


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_a_request_too_large_for_the_server_is_said_next_to_the_photos(
    page, journey_data, photo_folder, live_server
):
    config = live_server.app.config
    saved = config["PHOTO_REQUEST_MAX_BYTES"]
    config["PHOTO_REQUEST_MAX_BYTES"] = 20 * 1024  # smaller than one prepared photo
    try:
        page.goto("/needs/new")
        page.wait_for_function("() => window.htmx !== undefined")
        fill_need(page, journey_data.categories[0][0], "Water leaking from the ceiling")
        page.set_input_files("#photos", files=[chosen_file(camera_photo(1600, 1200))])
        page.wait_for_function(PREVIEWS_READY, arg=1)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("#need-form button[type=submit]")
        assert answer.value.status == 413
        errors = page.locator("#photos-errors .error")
        errors.wait_for()
        field = page.locator("[data-photo-field]")
        assert errors.all_inner_texts() == [field.get_attribute("data-too-large")]
        assert page.input_value("#title") == "Water leaking from the ceiling"
    finally:
        config["PHOTO_REQUEST_MAX_BYTES"] = saved
