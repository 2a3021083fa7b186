"""Helpers for the admin management tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
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
    return login(user)


@pytest.fixture
def post(client):
    """POST a form as the browser would: with the CSRF token of the session."""

    def send(
        path: str,
        data: dict | None = None,
        *,
        htmx: bool = False,
        token_from: str = "/needs/new",  # noqa: S107 — a path
    ):
        token = csrf_token_from(client.get(token_from).get_data(as_text=True))
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)

    return send


def audit_rows(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))
