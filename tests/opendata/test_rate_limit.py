"""Downloads are rate limited lightly (DATA_DOWNLOAD_RATE_LIMIT)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "DATA_DOWNLOAD_RATE_LIMIT": "2 per minute"}


def test_downloads_are_rate_limited(client, app):
    from portal.extensions import limiter

    limiter.reset()
    assert client.get("/data/needs.csv").status_code == 200
    assert client.get("/data/events.json").status_code == 200
    assert client.get("/data/needs.json").status_code == 429
    assert client.get("/data").status_code == 200  # the page itself is not limited
    limiter.reset()
