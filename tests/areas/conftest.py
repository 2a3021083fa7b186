"""A small tree for the area tests: a city, three districts, a few streets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.areas.models import Area
from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import make_area, make_user


@pytest.fixture(autouse=True)
def english(client):
    """Pages and service messages in English (the catalogue's identity)."""
    client.set_cookie("locale", "en")
    with force_locale("en"):
        yield


@dataclass
class City:
    city: Area
    huangpu: Area
    xuhui: Area
    pudong: Area
    nanjing_road: Area
    bund: Area
    tianping: Area

    def __getitem__(self, code: str) -> Area:
        return next(a for a in vars(self).values() if a.code == code)


@pytest.fixture
def city(app) -> City:
    shanghai = make_area("310000", name_zh="上海市", name_en="Shanghai", lat=31.2304, lon=121.4737)
    huangpu = make_area("310101", shanghai, name_zh="黄浦区", name_en="Huangpu", position=1)
    xuhui = make_area("310104", shanghai, name_zh="徐汇区", name_en="Xuhui", position=2)
    pudong = make_area("310115", shanghai, name_zh="浦东新区", name_en="Pudong", position=3)
    nanjing_road = make_area(
        "310101002", huangpu, name_zh="南京东路街道", name_en="East Nanjing Road"
    )
    bund = make_area("310101013", huangpu, name_zh="外滩街道", name_en="The Bund")
    tianping = make_area("310104003", xuhui, name_zh="天平路街道", name_en="Tianping Road")
    db.session.commit()
    return City(shanghai, huangpu, xuhui, pudong, nanjing_road, bund, tianping)


@pytest.fixture
def admin(login):
    user = make_user(Role.ADMIN)
    db.session.commit()
    return login(user)


@pytest.fixture
def post(client):
    """POST a form as the browser would: with the CSRF token of the session."""

    def send(path: str, data: dict | None = None, *, htmx: bool = False, **kwargs):
        token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(
            path, data={"csrf_token": token, **(data or {})}, headers=headers, **kwargs
        )

    return send


def audit_rows(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )
