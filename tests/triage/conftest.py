"""Fixtures of the triage tests: an admin logged in, and posting helpers."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def admin(login):
    user = make_user(Role.ADMIN)
    db.session.commit()
    login(user)
    return user


@pytest.fixture
def post(client):
    """POST a form with a valid CSRF token; htmx=True sends it as htmx would."""

    def send(url, data=None, *, htmx=False):
        token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(url, data={"csrf_token": token, **(data or {})}, headers=headers)

    return send
