"""The cascading choice of an area on a phone: with htmx the next level
appears when one is chosen; with JavaScript off the "Choose" button brings it
on a new page. Either way the need is saved with the deepest area, and the
pages filtered by area fit a 360 px screen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.browser.conftest import seed_live
from tests.browser.test_citizen_journey import no_horizontal_overflow

pytestmark = pytest.mark.browser


@dataclass
class AreaData:
    category: str
    bund_code: str


@pytest.fixture
def area_data(live_server) -> Iterator[AreaData]:
    from portal.needs.models import NeedStatus
    from tests.factories import make_area, make_category, make_need

    def build() -> AreaData:
        category = make_category(name_zh="市容环境", name_en="Streets", code="streets")
        city = make_area("310000", name_zh="上海市", name_en="Shanghai")
        huangpu = make_area("310101", city, name_zh="黄浦区", name_en="Huangpu")
        make_area("310104", city, name_zh="徐汇区", name_en="Xuhui")
        bund = make_area("310101013", huangpu, name_zh="外滩街道", name_en="The Bund")
        make_area("310101002", huangpu, name_zh="南京东路街道", name_en="East Nanjing Road")
        make_need(NeedStatus.OPEN, category=category, title="外滩栏杆损坏 Bund railing", area=bund)
        return AreaData(category="市容环境", bund_code=bund.code)

    yield from seed_live(live_server, build)


def _choose(page, variant: str, select: str, value: str, next_select: str) -> None:
    page.select_option(select, value)
    if variant == "js":
        page.locator(next_select).wait_for()  # swapped in by htmx, no reload
        # ... and settled: htmx has wired the new selects up.
        page.wait_for_function("() => !document.querySelector('.htmx-added, .htmx-settling')")
        assert page.evaluate("() => window.__sameDocument === true")
    else:
        with page.expect_navigation():
            page.click("button[name=area_choose]")
        page.locator(next_select).wait_for()


@pytest.mark.parametrize("variant", ["js", "nojs"], indirect=True)
def test_choose_an_area_level_by_level_and_submit(page, live_server, area_data, variant):
    page.goto("/needs/new")
    if variant == "js":
        page.wait_for_function("() => window.htmx !== undefined")
        page.evaluate("() => { window.__sameDocument = true; }")
    page.fill("#title", "Broken railing on the riverside walk")
    page.fill("#body", "A section of the railing is loose and could fall into the river.")
    page.select_option("#category", label=area_data.category)
    page.check("#consent")
    no_horizontal_overflow(page)

    _choose(page, variant, "#area", "310000", "#area-1")
    _choose(page, variant, "#area-1", "310101", "#area-2")
    page.select_option("#area-2", area_data.bund_code)
    assert page.input_value("#title") == "Broken railing on the riverside walk"
    no_horizontal_overflow(page)
    with page.expect_navigation(url="**/needs/submitted"):
        page.click("#need-form button.button-primary")

    from portal.extensions import db
    from portal.needs.models import Need

    with live_server.app.app_context():
        need = db.session.scalar(
            db.select(Need).where(Need.title == "Broken railing on the riverside walk")
        )
        assert need.area.code == area_data.bund_code
        db.session.remove()


@pytest.mark.parametrize("variant", ["js"], indirect=True)
def test_pages_filtered_by_area_fit_a_phone(page, area_data, variant):
    for url in ["/needs?area=310101", "/transparency?area=310101", "/areas/choices?area=310101"]:
        page.goto(url)
        no_horizontal_overflow(page)
    page.goto("/needs?area=310101")
    assert "Bund railing" in page.inner_text("#results")
    page.select_option("#area-1", "310104")  # htmx refreshes the results
    page.locator("#results .empty").wait_for()
