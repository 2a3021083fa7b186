"""The audit log and quality checks tests read in English (`admin`, `post`
and `audit_rows` are in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")
