"""Every error under /open311/ is the specification's error list in the
requested format, never an HTML page."""

from __future__ import annotations

import pytest

from portal.open311 import services
from tests.open311.conftest import API, assert_errors


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_path_is_404(client, fmt):
    assert_errors(client.get(f"{API}/nothing.{fmt}"), 404, fmt)


def test_an_unknown_path_without_suffix_answers_json(client):
    assert_errors(client.get("/open311/elsewhere"), 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_wrong_method_is_405_with_allow(client, fmt):
    response = client.delete(f"{API}/requests.{fmt}")
    assert_errors(response, 405, fmt)
    assert "POST" in response.headers["Allow"]
    assert_errors(client.post(f"{API}/services.{fmt}"), 405, fmt)


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1000}])
def test_too_large_is_413(client):
    response = client.post(f"{API}/requests.xml", data={"description": "x" * 5000})
    assert_errors(response, 413, "xml")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_server_error_is_500_in_the_format(app, client, monkeypatch, fmt):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "service_list", broken)
    monkeypatch.setattr(app.logger, "disabled", True)
    (description,) = assert_errors(client.get(f"{API}/services.{fmt}"), 500, fmt)
    assert "boom" not in description


def test_errors_are_translated(client):
    response = client.get(f"{API}/nothing.json", headers={"Accept-Language": "en"})
    (description,) = assert_errors(response, 404)
    assert description == "There is nothing here. It may have been removed."


def test_other_pages_keep_their_html_errors(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "text/html" in response.content_type
