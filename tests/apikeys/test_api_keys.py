"""Open311 API keys: issued once, stored as a hash, revoked, rate-limited, audited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.open311.apikeys import (
    authenticate,
    issue_key,
    key_rate_limit,
    rate_limit_error,
    revoke_key,
)
from portal.open311.models import ApiKey
from tests.conftest import audit_rows, csrf_token_from
from tests.factories import make_user
from tests.forms import form_for

KEY_INPUT = re.compile(r'id="new-key-value" type="text" value="([^"]+)"')


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def admin(login):
    user = make_user(Role.ADMIN)
    db.session.commit()
    return login(user)


def _keys() -> list[ApiKey]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)))


def _issue(client, name="City app", rate_limit="100 per hour", htmx=False):
    page = client.get("/admin/api-keys").get_data(as_text=True)
    form = form_for(page, "/admin/api-keys")
    data = {**form["fields"], "name": name, "rate_limit": rate_limit}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(form["action"], data=data, headers=headers)


def test_sending_the_issue_form_twice_issues_one_key(client, admin):
    page = client.get("/admin/api-keys").get_data(as_text=True)
    form = form_for(page, "/admin/api-keys")
    data = {**form["fields"], "name": "Kiosk", "rate_limit": "10 per minute"}
    first = client.post(form["action"], data=data)
    assert first.status_code == 200 and KEY_INPUT.findall(first.get_data(as_text=True))
    second = client.post(form["action"], data=data)
    assert second.status_code == 303
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "was already sent" in shown and not KEY_INPUT.findall(shown)
    assert [k.name for k in _keys()] == ["Kiosk"]
    stale = client.post(form["action"], data={**data, "idempotency_key": ""})
    assert stale.status_code == 422 and len(_keys()) == 1


def test_an_admin_issues_a_key_shown_once(client, admin):
    response = _issue(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    [raw_key] = KEY_INPUT.findall(page)
    assert len(raw_key) >= 40
    [key] = _keys()
    assert key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in (key.key_hash, key.prefix) and raw_key.startswith(key.prefix)
    assert (key.name, key.rate_limit, key.created_by_id) == ("City app", "100 per hour", admin.id)
    # Never again: not on the list, not in the session cookie, not in the audit log.
    listing = client.get("/admin/api-keys")
    assert listing.headers["Cache-Control"] == "no-store"
    text = listing.get_data(as_text=True)
    assert raw_key not in text and "City app" in text and f"{key.prefix}…" in text
    assert "100 per hour" in text and "never" in text
    cookie = client.get_cookie("session")
    assert cookie is None or raw_key not in cookie.value
    [row] = audit_rows("api_key.issue")
    assert row.actor_id == admin.id and row.object_id == str(key.id)
    assert raw_key not in str(row.after) and key.key_hash not in str(row.after)
    assert row.after["name"] == "City app"
    assert authenticate(raw_key).id == key.id


def test_htmx_gets_the_fragment_with_the_key(client, admin):
    response = _issue(client, htmx=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<html" not in page and 'id="api-keys"' in page
    assert KEY_INPUT.search(page)


@pytest.mark.parametrize(
    ("name", "rate_limit", "message"),
    [
        ("", "100 per hour", "Please give the key a name."),
        ("x" * 101, "100 per hour", "At most 100 characters, please."),
        ("App", "lots", "Write a limit such as “100 per hour” or “10/minute”."),
        ("App", "0 per hour", "Write a limit such as “100 per hour” or “10/minute”."),
        ("App", "", "Please give a rate limit, e.g. “100 per hour”."),
    ],
)
def test_bad_input_is_refused_and_kept(client, admin, name, rate_limit, message):
    response = _issue(client, name=name, rate_limit=rate_limit)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if rate_limit:
        assert f'value="{rate_limit}"' in page
    assert not KEY_INPUT.search(page)
    assert _keys() == []
    assert audit_rows() == []


@pytest.mark.parametrize("value", ["100 per hour", "10/minute", "5/second;1000 per day", "1/hour"])
def test_flask_limiter_strings_are_accepted(app, value):
    assert rate_limit_error(value) is None


def test_rate_limit_of_a_key(app):
    admin = make_user(Role.ADMIN)
    key, raw = issue_key("App", "10/minute", admin)
    db.session.commit()
    assert key_rate_limit(key) == "10/minute"


def test_revoking_without_javascript_asks_to_confirm(client, admin):
    _issue(client)
    [key] = _keys()
    page = client.get("/admin/api-keys").get_data(as_text=True)
    form = form_for(page, f"/admin/api-keys/{key.id}/revoke")
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 200
    confirm_page = response.get_data(as_text=True)
    assert "Revoke the key “City app”?" in confirm_page
    assert _keys()[0].revoked_at is None
    confirm = form_for(confirm_page, f"/admin/api-keys/{key.id}/revoke")
    assert confirm["fields"]["confirm"] == "yes"
    response = client.post(confirm["action"], data=confirm["fields"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/api-keys")
    text = client.get("/admin/api-keys").get_data(as_text=True)
    assert "The key “City app” is revoked." in text and "Revoked" in text
    assert _keys()[0].revoked_at is not None
    [row] = audit_rows("api_key.revoke")
    assert row.actor_id == admin.id
    # A second submit changes nothing and writes no second audit row.
    again = client.post(confirm["action"], data=confirm["fields"])
    assert again.status_code == 303
    assert len(audit_rows("api_key.revoke")) == 1


def test_revoking_with_htmx_swaps_the_row(client, admin):
    _issue(client)
    [key] = _keys()
    token = csrf_token_from(client.get("/admin/api-keys").get_data(as_text=True))
    response = client.post(
        f"/admin/api-keys/{key.id}/revoke",
        data={"csrf_token": token, "confirm": "yes"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith(f'<li class="card admin-row" id="api-key-{key.id}"')
    assert "Revoked" in page and "is revoked" in page


def test_a_revoked_key_no_longer_authenticates(app):
    admin = make_user(Role.ADMIN)
    key, raw = issue_key("App", "100 per hour", admin)
    db.session.commit()
    assert authenticate(raw) is key
    assert revoke_key(key, admin) is True
    assert revoke_key(key, admin) is False
    db.session.commit()
    assert authenticate(raw) is None
    assert len(audit_rows("api_key.revoke")) == 1


def test_unknown_and_empty_keys_do_not_authenticate(app):
    admin = make_user(Role.ADMIN)
    key, raw = issue_key("App", "100 per hour", admin)
    db.session.commit()
    assert authenticate("") is None
    assert authenticate(raw + "x") is None
    assert authenticate(key.key_hash) is None
    assert authenticate("x" * 10_000) is None


def test_last_used_is_written_at_most_once_a_minute(app):
    admin = make_user(Role.ADMIN)
    key, raw = issue_key("App", "100 per hour", admin)
    db.session.commit()
    authenticate(raw)
    first = key.last_used_at
    assert first is not None
    db.session.commit()
    authenticate(raw)
    assert key.last_used_at == first
    assert not db.session.dirty
    key.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    authenticate(raw)
    assert key.last_used_at > first


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_other_roles_are_refused(client, login, role):
    login(make_user(role))
    admin = make_user(Role.ADMIN)
    key, _raw = issue_key("App", "100 per hour", admin)
    db.session.commit()
    assert client.get("/admin/api-keys").status_code == 403
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    data = {"csrf_token": token, "name": "Mine", "rate_limit": "1/second", "confirm": "yes"}
    assert client.post("/admin/api-keys", data=data).status_code == 403
    assert client.post(f"/admin/api-keys/{key.id}/revoke", data=data).status_code == 403
    assert [k.name for k in _keys()] == ["App"] and _keys()[0].revoked_at is None


def test_the_key_list_runs_a_constant_number_of_queries(client, admin, queries):
    counts = []
    for n in (1, 6):
        while len(_keys()) < n:
            issue_key(f"App {len(_keys())}", "100 per hour", admin)
            db.session.commit()
        with queries() as statements:
            assert client.get("/admin/api-keys").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_admin_menu_links_to_the_keys(client, admin):
    page = client.get("/admin/categories").get_data(as_text=True)
    assert 'href="/admin/api-keys"' in page
