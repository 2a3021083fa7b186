"""/developers: what a developer reads to get a key and use the Open311 API."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.factories import make_category, make_need


@pytest.fixture
def app_config() -> dict:
    return {
        "PUBLIC_BASE_URL": "https://civic.example.org/portal",
        "OPEN311_JURISDICTION": "civic.test",
    }


def _page(client, **headers) -> str:
    response = client.get("/developers", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_the_page_explains_keys_formats_errors_and_privacy(client):
    html = _page(client, **{"Accept-Language": "en"})
    for text in (
        "Get an API key",
        "Ask the portal",
        "shown only once",
        "rate limit",
        "revoke",
        'href="/admin/api-keys"',
        "https://civic.example.org/portal/open311/v2",
        "civic.test",
        "application/json",
        "text/xml",
        "Moderation and tokens",
        "No personal data is ever returned",
        "403",
        "429",
    ):
        assert text in html, text
    assert 'href="https://civic.example.org/portal/open311/v2/openapi.json"' in html
    # The status table is read from the workflow's public states.
    assert "In progress" in html
    assert "Resolved" in html
    assert "Awaiting review" not in html


def test_the_examples_use_a_real_service_code_and_the_public_address(client, app):
    make_category(code="lights")
    db.session.commit()
    html = _page(client)
    assert "curl &#39;https://civic.example.org/portal/open311/v2/services/lights.xml&#39;" in html
    assert "curl -X POST &#39;https://civic.example.org/portal/open311/v2/requests.json" in html
    assert "api_key=YOUR_KEY" in html


def test_the_page_has_no_inline_styles_and_a_phone_viewport(client):
    html = _page(client)
    assert "style=" not in html
    assert 'name="viewport"' in html
    assert "css/developers.css" in html


def test_the_page_is_translated_with_the_visitor_language(client):
    zh = _page(client, **{"Accept-Language": "zh-CN"})
    en = _page(client, **{"Accept-Language": "en"})
    assert '<html lang="en"' in en
    assert '<html lang="zh' in zh


def test_the_page_runs_a_constant_number_of_queries(client, queries):
    def count() -> int:
        with queries() as statements:
            _page(client)
        return len(statements)

    few = count()
    for _ in range(5):
        make_need(NeedStatus.OPEN)
    db.session.commit()
    assert count() == few


def test_the_openapi_document_is_public_json(client):
    response = client.get("/open311/v2/openapi.json")
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    assert response.get_json()["info"]["title"] == "Huiju Open311 GeoReport v2"
