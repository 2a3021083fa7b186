"""A live server and a headless Chromium for the browser tests.

The server is one app for the whole session, served by Werkzeug in a daemon
thread on a free port of 127.0.0.1. Its data is set up and emptied around each
test (the `journey_data` fixture), so it never sees what other tests leave and
never leaves anything for them. Chromium is Debian's, driven by Playwright's
sync API; nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.conftest import REQUIRE_SERVICES, _config, _empty_all_tables

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "browser"
PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@dataclass
class LiveServer:
    app: object
    url: str


@pytest.fixture(scope="session")
def live_server(migrated, tmp_path_factory) -> Iterator[LiveServer]:
    app = create_app(_config(migrated, PHOTO_FOLDER=str(tmp_path_factory.mktemp("photos"))))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@dataclass
class JourneyData:
    categories: list[tuple[str, str]]  # (name_zh, name_en)
    published_titles: list[str]


def seed_live(live_server, build: Callable[[], object]) -> Iterator[object]:
    """Runs `build` in the live app, commits, yields its result, empties every table."""
    app = live_server.app
    with app.app_context():
        try:
            data = build()
            db.session.commit()
        finally:
            db.session.remove()
    try:
        yield data
    finally:
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


@pytest.fixture
def journey_data(live_server) -> Iterator[JourneyData]:
    """Categories and published needs for one test, emptied afterwards."""
    from tests.factories import make_category, make_need

    names = [
        ("道路交通", "Roads and traffic"),
        ("环境卫生", "Environment"),
        ("青年就业", "Youth jobs"),
    ]
    titles = ["小区路灯不亮 Broken street lights on Heping Road", "公园垃圾桶太少 Too few bins"]

    def build() -> JourneyData:
        categories = [
            make_category(name_zh=zh, name_en=en, code=f"journey{i}")
            for i, (zh, en) in enumerate(names)
        ]
        for title, category in zip(titles, categories, strict=False):
            make_need(NeedStatus.OPEN, category=category, title=title)
        return JourneyData(categories=names, published_titles=titles)

    yield from seed_live(live_server, build)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Chromium not found (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Screenshots:
    """Full-page screenshots numbered in the order they are taken."""

    def __init__(self, page, directory: Path):
        self.page = page
        self.directory = directory
        self.count = 0
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.directory / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def variant(request) -> str:
    """ "js" (htmx active) or "nojs"; set by indirect parametrisation."""
    return request.param


@pytest.fixture
def page(request, browser, variant, live_server):
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        java_script_enabled=(variant == "js"),
        base_url=live_server.url,
    )
    context.set_default_timeout(float(os.environ.get("BROWSER_TIMEOUT_MS", "10000")))
    page = context.new_page()
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            (SCREENSHOTS / variant).mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=str(SCREENSHOTS / variant / "99-failure.png"), full_page=True)
            except Exception as error:  # never hide the real failure behind this one
                print(f"could not take the failure screenshot: {error}")
        context.close()


@pytest.fixture
def shot(page, variant) -> Screenshots:
    return Screenshots(page, SCREENSHOTS / variant)


# --- the member's journey: a mail server, an account, a round ---------------------


class MailCatcher:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox(live_server) -> Iterator[MailCatcher]:
    """An SMTP server on the loopback interface that the live app delivers to; the
    links in its mails point at the live server."""
    from aiosmtpd.controller import Controller

    catcher = MailCatcher()
    controller = Controller(catcher, hostname="127.0.0.1", port=_free_port())
    controller.start()
    config = live_server.app.config
    saved = {k: config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_TIMEOUT", "PUBLIC_BASE_URL")}
    config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_TIMEOUT=5.0,
        PUBLIC_BASE_URL=live_server.url,
    )
    try:
        yield catcher
    finally:
        config.update(saved)
        controller.stop()


@dataclass
class MemberData:
    need_ref: str  # a published need, already supported by `start_count` others
    need_title: str
    start_count: int
    round_id: int  # open now, 3 needs on the shortlist, 2 votes per member
    round_title: str
    round_need_titles: list[str]
    member_email: str  # a verified member with a password
    member_password: str
    member_name: str


@pytest.fixture
def member_data(live_server) -> Iterator[MemberData]:
    """Published needs, an open priority round and a verified member, emptied afterwards."""
    from portal.auth.models import Role, User
    from portal.models_base import utcnow
    from portal.voting.models import Support
    from portal.voting.services import create_round
    from tests.factories import make_category, make_need, make_user

    app = live_server.app
    password = "Lantern orchard galaxy 47"
    with app.app_context():
        try:
            category = make_category(
                name_zh="道路交通", name_en="Roads and traffic", code="member0"
            )
            need, _ = make_need(
                NeedStatus.OPEN, category=category, title="小区路灯不亮 Broken street lights"
            )
            shortlist = [
                make_need(NeedStatus.OPEN, category=category, title=title)[0]
                for title in (
                    "公交站没有雨棚 Bus stop without a shelter",
                    "人行道被占用 Pavement blocked by parked cars",
                    "公园垃圾桶太少 Too few bins in the park",
                )
            ]
            now = utcnow()
            # Two earlier supporters, written directly so the seed does not
            # depend on the code under test.
            for _ in range(2):
                supporter = make_user(Role.MEMBER)
                supporter.email_verified_at = now
                db.session.add(Support(user_id=supporter.id, need_id=need.id, created_at=now))
            need.support_count = 2
            member = User(
                email="wang.fang@example.org",
                display_name="王芳 Wang Fang",
                role=Role.MEMBER,
                email_verified_at=now,
                locale="zh_CN",
            )
            member.set_password(password)
            db.session.add(member)
            round_ = create_round(
                title="春季优先事项 Spring priorities",
                description="",
                needs=shortlist,
                votes_per_member=2,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=7),
                show_live_counts=True,
                actor=make_user(Role.ADMIN),
            )
            db.session.commit()
            data = MemberData(
                need_ref=need.ref,
                need_title=need.title,
                start_count=2,
                round_id=round_.id,
                round_title=round_.title,
                round_need_titles=[n.title for n in shortlist],
                member_email=member.email,
                member_password=password,
                member_name=member.display_name,
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


@pytest.fixture
def member_shot(page, variant) -> Screenshots:
    return Screenshots(page, SCREENSHOTS / f"member-{variant}")
