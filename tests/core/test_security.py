"""Security properties every page shares: CSRF, headers, who sees what."""

from __future__ import annotations

import re
import secrets

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_need

#: POSTs that do not come from our pages: machine clients authenticate with an
#: API key instead of a CSRF token (tested in tests/open311/test_requests_post.py).
CSRF_EXEMPT = {"open311.requests"}


def _post_urls(app, token: str) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        values = {
            arg: token if arg == "token" else 1 if arg.endswith("_id") else "N-2026-000001"
            for arg in rule.arguments
        }
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **values))
    return urls


def test_every_post_without_a_csrf_token_is_refused(app, client):
    _, token = make_need(NeedStatus.OPEN)
    db.session.commit()
    urls = _post_urls(app, token)
    assert "/needs/new" in urls and "/locale" in urls and len(urls) >= 3
    for url in urls:
        plain = client.post(url, data={"locale": "en"})
        assert plain.status_code == 400, url
        htmx = client.post(url, data={"locale": "en"}, headers={"HX-Request": "true"})
        assert htmx.status_code == 400, url
        forged = client.post(url, data={"locale": "en"}, headers={"X-CSRFToken": "forged"})
        assert forged.status_code == 400, url


def test_only_the_open311_api_is_exempt_from_csrf(app):
    from portal.extensions import csrf

    exempt = {view for view in csrf._exempt_views}
    exempt_endpoints = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if f"{view.__module__}.{view.__name__}" in exempt
    }
    assert exempt_endpoints == CSRF_EXEMPT


def test_htmx_requests_pass_with_the_token_in_the_header(client):
    category = make_category()
    db.session.commit()
    page = client.get("/needs/new").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(
        "/needs/new",
        data={
            "idempotency_key": secrets.token_hex(16),
            "title": "Broken lamp",
            "body": "The lamp at the gate is broken.",
            "category": str(category.id),
            "consent": "y",
        },
        headers={"HX-Request": "true", "X-CSRFToken": header_token},
    )
    assert response.status_code == 200
    assert "HX-Redirect" in response.headers


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/needs/new")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_or_style_on_the_pages(client):
    need, _ = make_need(NeedStatus.OPEN)
    db.session.commit()
    for path in ["/", "/needs", "/needs/new", f"/needs/{need.ref}", "/privacy"]:
        page = client.get(path).get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, path
        assert " style=" not in page and "<style" not in page, path
        assert " onclick=" not in page and "hx-on" not in page, path


def test_the_session_cookie_is_http_only_and_same_site(client):
    client.get("/needs/new")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_the_submitter_contact_never_reaches_public_pages(client):
    need, _ = make_need(NeedStatus.OPEN, email="hidden.person@example.org")
    db.session.commit()
    for path in ["/", "/needs", f"/needs/{need.ref}", f"/needs?q={need.title}"]:
        assert "hidden.person" not in client.get(path).get_data(as_text=True), path


def test_errors_render_a_page_not_a_traceback(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_oversized_requests_are_refused(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    app.config["PHOTO_REQUEST_MAX_BYTES"] = 4096
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    response = client.post("/auth/login", data={"csrf_token": token, "email": "x" * 5000})
    assert response.status_code == 413
    # Forms that take photos may send more, but not without bound.
    response = client.post("/needs/new", data={"csrf_token": token, "body": "x" * 3000})
    assert response.status_code != 413
    response = client.post("/needs/new", data={"csrf_token": token, "body": "x" * 5000})
    assert response.status_code == 413


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    "app_config",
    [{"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"}],
)
def test_healthz_is_503_without_a_database(app_config, migrated):
    from portal import create_app
    from tests.conftest import _config

    app = create_app(_config(app_config["SQLALCHEMY_DATABASE_URI"]))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
    with app.app_context():
        db.engine.dispose()
