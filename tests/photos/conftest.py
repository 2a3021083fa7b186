"""Fixtures of the photo tests: English pages and one category to file needs in."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.factories import make_category


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def category(app):
    category = make_category(name_zh="市政设施", name_en="Streets")
    db.session.commit()
    return category
