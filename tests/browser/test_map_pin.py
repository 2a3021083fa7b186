"""The map pin on a phone (360 × 740): with a tile URL the citizen drops a pin
by tapping the map, sees the open needs near it, takes the phone's position
with "use my location" and sends the form; the pin is stored exactly and the
public page shows the rounded point on a small map. Without JavaScript, and
without a tile URL, there is no map and the form still works.

The tiles come from a small HTTP server of this test on the loopback
interface (PNG tiles drawn with Pillow): no internet, and the portal's CSP
has to let exactly that host through."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw

from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from tests.browser.conftest import SCREENSHOTS, Screenshots, seed_live

pytestmark = pytest.mark.browser

CENTRE = (39.9042, 116.4074)
HERE = {"latitude": 39.9061, "longitude": 116.4093}  # the phone's faked position
NEAR_TITLE = "路面坑洼 Pothole by the school gate"
FAR_TITLE = "地下通道太暗 Dark underpass"
PASSWORD = "Lantern orchard galaxy 47"


def _tile_png() -> bytes:
    """A 256 px tile: a pale street grid, enough to see the map in a screenshot."""
    image = Image.new("RGB", (256, 256), (238, 234, 226))
    draw = ImageDraw.Draw(image)
    for offset in (0, 128):
        draw.line([(offset, 0), (offset, 256)], fill=(255, 255, 255), width=10)
        draw.line([(0, offset), (256, offset)], fill=(255, 255, 255), width=10)
    draw.rectangle([30, 30, 100, 100], fill=(205, 226, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class TileServer:
    """Serves the same PNG for every /{z}/{x}/{y}.png and counts the requests."""

    def __init__(self) -> None:
        tile = _tile_png()
        self.requests: list[str] = []
        served = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 — http.server's name
                served.append(self.path)
                parts = self.path.strip("/").removesuffix(".png").split("/")
                if len(parts) != 3 or not all(p.isdigit() for p in parts):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args):
                pass

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def tile_server() -> Iterator[TileServer]:
    server = TileServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def tiles(live_server, tile_server) -> Iterator[TileServer]:
    """The live app draws maps from the test's tile server (read per request)."""
    config = live_server.app.config
    names = ("MAP_TILE_URL", "MAP_TILE_ATTRIBUTION", "MAP_CENTER", "MAP_ZOOM")
    saved = {name: config[name] for name in names}
    config.update(
        MAP_TILE_URL=tile_server.url,
        MAP_TILE_ATTRIBUTION="Test tiles © Huiju",
        MAP_CENTER=f"{CENTRE[0]},{CENTRE[1]}",
        MAP_ZOOM=16,
    )
    tile_server.requests.clear()
    try:
        yield tile_server
    finally:
        config.update(saved)


@dataclass
class Street:
    category: str  # its Chinese name, as the form shows it
    near_ref: str
    admin_email: str


@pytest.fixture
def street(live_server) -> Iterator[Street]:
    from portal.auth.models import Role
    from tests.factories import make_category, make_need, make_user

    def build() -> Street:
        roads = make_category(name_zh="道路交通", name_en="Roads", code="maproads")
        needs = []
        for title, lat in ((NEAR_TITLE, 39.9050), (FAR_TITLE, 39.9200)):
            need, _ = make_need(NeedStatus.OPEN, category=roads, title=title)
            need.lat, need.lon = lat, CENTRE[1]
            needs.append(need)
        admin = make_user(Role.ADMIN, password=PASSWORD)
        return Street(category=roads.name_zh, near_ref=needs[0].ref, admin_email=admin.email)

    yield from seed_live(live_server, build)


def _stored(live_server, title: str) -> Need:
    with live_server.app.app_context():
        try:
            return db.session.scalar(sa.select(Need).where(Need.title == title))
        finally:
            db.session.remove()


def _no_horizontal_overflow(page) -> None:
    width = page.locator("html").evaluate("el => el.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def _fill(page, street: Street, title: str) -> None:
    page.fill("#title", title)
    page.fill("#body", "The pavement is broken and people trip over it at night.")
    page.select_option("#category", label=street.category)
    page.check("#consent")


def _watch_problems(page) -> list[str]:
    """Console errors (a CSP refusal is one) and failed requests of the page; a
    request the page itself dropped (a hint still on its way when the form is
    sent and the page changes) is no problem."""
    problems: list[str] = []

    def failed(request) -> None:
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"failed ({request.failure}): {request.url}")

    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", failed)
    return problems


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_drop_a_pin_see_nearby_needs_use_my_location_and_send(
    page, live_server, tiles, street, variant
):
    shot = Screenshots(page, SCREENSHOTS / "map-js")
    problems = _watch_problems(page)
    page.goto("/needs/new")
    picker = page.locator("[data-map-picker]")
    picker.wait_for(state="visible")
    page.locator("img.leaflet-tile-loaded").first.wait_for()
    assert tiles.requests, "no tile was asked of the tile server"
    assert page.locator(".leaflet-control-attribution").inner_text().endswith("Test tiles © Huiju")
    # Nothing on the page leads out of the portal (the attribution is text).
    assert page.locator(".leaflet-control-attribution a").count() == 0
    picker.scroll_into_view_if_needed()
    shot("map-shown")
    _no_horizontal_overflow(page)

    # A tap on the map drops the pin and fills the coordinates; the needs near
    # it appear under the map, the far one does not.
    canvas = page.locator("[data-map-canvas]")
    box = canvas.bounding_box()
    with page.expect_response(lambda r: "/needs/similar?" in r.url and "lat=" in r.url):
        canvas.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    page.locator(".leaflet-marker-icon").wait_for()
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
    assert abs(lat - CENTRE[0]) < 0.001 and abs(lon - CENTRE[1]) < 0.001, (lat, lon)
    nearby = page.locator("#nearby a", has_text=NEAR_TITLE)
    nearby.wait_for()
    assert nearby.get_attribute("href").startswith("/needs/N-")
    assert page.locator("#nearby a", has_text=FAR_TITLE).count() == 0
    shot("pin-dropped-nearby-shown")

    # "Use my location": the browser is asked only now (granted, faked here).
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(HERE)
    with page.expect_response(lambda r: "/needs/similar?" in r.url):
        page.click("[data-map-locate]")
    page.wait_for_function(
        "(lat) => document.querySelector('#lat').value === lat", arg=f"{HERE['latitude']:.6f}"
    )
    assert page.input_value("#lon") == f"{HERE['longitude']:.6f}"
    assert page.locator("[data-map-status]").inner_text().strip()
    shot("my-location")
    _no_horizontal_overflow(page)

    title = "人行道破损 Broken pavement at the crossing"
    _fill(page, street, title)
    with page.expect_navigation(url="**/needs/submitted"):
        page.click("#need-form button[type=submit]")
    shot("submitted")
    need = _stored(live_server, title)
    assert (need.lat, need.lon) == (HERE["latitude"], HERE["longitude"])

    # The public page of a published need: the rounded point, drawn as an area.
    page.goto("/needs?q=Pothole")
    page.click(f"text={NEAR_TITLE}")
    page.locator("[data-map-view] img.leaflet-tile-loaded").first.wait_for()
    assert "39.905, 116.407" in page.inner_text("main")
    assert page.locator("[data-map-view] path.leaflet-interactive, [data-map-view] path").count()
    assert page.locator("[data-map-view] .leaflet-marker-icon").count() == 0
    page.locator("[data-map-view]").scroll_into_view_if_needed()
    shot("public-page")
    _no_horizontal_overflow(page)
    assert problems == [], problems


@pytest.mark.parametrize("variant", ["nojs"], indirect=True)
def test_without_javascript_no_map_and_the_coordinates_are_typed(
    page, live_server, tiles, street, variant
):
    shot = Screenshots(page, SCREENSHOTS / "map-nojs")
    page.goto("/needs/new")
    assert page.locator("[data-map-picker]").is_hidden()
    assert not page.locator("#lat").is_visible()  # folded away under "Enter coordinates"
    page.click("details.coordinates summary")
    page.fill("#lat", "39.9055")
    page.fill("#lon", "116.4081")
    title = "路灯不亮 Street light out"
    _fill(page, street, title)
    page.locator("details.coordinates").scroll_into_view_if_needed()
    shot("coordinates-typed")
    _no_horizontal_overflow(page)
    with page.expect_navigation(url="**/needs/submitted"):
        page.click("#need-form button[type=submit]")
    need = _stored(live_server, title)
    assert (need.lat, need.lon) == (39.9055, 116.4081)
    assert not tiles.requests


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_without_a_tile_url_no_map_and_the_form_works(page, live_server, street, variant):
    shot = Screenshots(page, SCREENSHOTS / "map-none")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/needs/new")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.locator("[data-map-picker]").count() == 0
    assert not any("leaflet" in url or "map.js" in url for url in requested)
    title = "井盖缺失 Missing drain cover"
    _fill(page, street, title)
    shot("form-without-map")
    _no_horizontal_overflow(page)
    with page.expect_navigation(url="**/needs/submitted"):
        page.click("#need-form button[type=submit]")
    need = _stored(live_server, title)
    assert need is not None and (need.lat, need.lon) == (None, None)


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_an_admin_moves_the_pin_on_the_need_page(page, live_server, tiles, street, variant):
    shot = Screenshots(page, SCREENSHOTS / "map-admin")
    problems = _watch_problems(page)
    page.goto(f"/auth/login?next=/admin/needs/{street.near_ref}")
    page.fill("#email", street.admin_email)
    page.fill("#password", PASSWORD)
    page.click("main form.narrow-form button[type=submit]")
    page.wait_for_url(f"**/admin/needs/{street.near_ref}")
    assert "39.905, 116.4074" in page.inner_text("#position")
    page.locator("#position .leaflet-marker-icon").wait_for()  # the exact pin, to drag
    page.locator("#position").scroll_into_view_if_needed()
    shot("admin-pin")
    _no_horizontal_overflow(page)

    canvas = page.locator("#position [data-map-canvas]")
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.25})
    moved = (float(page.input_value("#lat")), float(page.input_value("#lon")))
    assert moved[0] > 39.905 and moved[1] > CENTRE[1], moved
    with page.expect_response(lambda r: r.request.method == "POST" and "/position" in r.url):
        page.click("#position button[type=submit]")
    page.locator("#need-admin .flash-success").wait_for()
    # htmx swapped the page section in: its map is drawn again, with the new pin.
    page.locator("#position .leaflet-marker-icon").wait_for()
    page.locator("#position").scroll_into_view_if_needed()
    shot("admin-pin-moved")
    need = _stored(live_server, NEAR_TITLE)
    assert (need.lat, need.lon) == moved
    assert problems == [], problems
