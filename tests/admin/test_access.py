"""Every admin management page and action: admins only."""

from __future__ import annotations

from datetime import date

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.workdays.models import CalendarDay, DayKind
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_organisation, make_user

GET_PAGES = [
    "/admin/partners",
    "/admin/partners/new",
    "/admin/partners/{org}",
    "/admin/categories",
    "/admin/categories/new",
    "/admin/categories/{category}",
    "/admin/users",
    "/admin/calendar",
    "/admin/settings",
    "/admin/audit",
    "/admin/checks",
]
POSTS = [
    "/admin/partners/new",
    "/admin/partners/{org}",
    "/admin/partners/{org}/resources",
    "/admin/partners/{org}/resources/1",
    "/admin/partners/{org}/resources/1/remove",
    "/admin/partners/{org}/staff",
    "/admin/categories/new",
    "/admin/categories/{category}",
    "/admin/users/{user}/role",
    "/admin/users/{user}/active",
    "/admin/calendar",
    "/admin/calendar/2026-10-01/remove",
    "/admin/settings",
    "/admin/checks",
    "/admin/checks/1",
]


@pytest.fixture
def world(app):
    org = make_organisation()
    category = make_category()
    user = make_user()
    db.session.add(CalendarDay(day=date(2026, 10, 1), kind=DayKind.HOLIDAY))
    db.session.commit()
    return {"org": org.id, "category": category.id, "user": user.id}


def _fill(path: str, world) -> str:
    return path.format(**world)


def test_admins_open_every_page(client, admin, world):
    for path in GET_PAGES:
        response = client.get(_fill(path, world))
        assert response.status_code == 200, path
        assert 'class="admin-nav"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_members_and_partner_staff_get_403(client, login, world, role):
    login(make_user(role))
    db.session.commit()
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    for path in GET_PAGES:
        response = client.get(_fill(path, world))
        assert response.status_code == 403, path
        assert "Partner organisations" not in response.get_data(as_text=True)
    for path in POSTS:
        response = client.post(_fill(path, world), data={"csrf_token": token, "name_zh": "x"})
        assert response.status_code == 403, path
    assert db.session.get(CalendarDay, date(2026, 10, 1)) is not None


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    for path in GET_PAGES:
        response = client.get(_fill(path, world))
        assert response.status_code == 302, path
        assert "/auth/login" in response.headers["Location"]
    for path in POSTS:
        response = client.post(_fill(path, world), data={"csrf_token": token})
        assert response.status_code == 302, path
        assert "/auth/login" in response.headers["Location"]


def test_posts_without_a_csrf_token_are_refused(client, admin, world):
    for path in POSTS:
        assert client.post(_fill(path, world), data={"name_zh": "x"}).status_code == 400, path


def test_every_page_renders_in_chinese_too(client, admin, world):
    client.set_cookie("locale", "zh_CN")
    for path in GET_PAGES:
        response = client.get(_fill(path, world))
        assert response.status_code == 200, path
        assert '<html lang="zh-CN">' in response.get_data(as_text=True)
