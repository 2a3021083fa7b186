"""Data for the Open311 tests of this area: categories with and without extra
questions, published needs in several states, and a valid API key."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.open311.apikeys import issue_key
from portal.open311.models import RequestToken
from tests.factories import make_category, make_need, make_user
from tests.open311.conftest import make_lights_category


@pytest.fixture
def open311_world(app) -> dict:
    roads = make_category(code="roads")
    lights = make_lights_category()
    needs = [
        make_need(NeedStatus.OPEN, category=roads)[0],
        make_need(NeedStatus.IN_PROGRESS, category=lights)[0],
        make_need(NeedStatus.RESOLVED, category=roads)[0],
        make_need(NeedStatus.SUBMITTED, category=roads)[0],
    ]
    api_key, raw_key = issue_key("Property tests", "10000 per hour", make_user(Role.ADMIN))
    tokens = ["a" * 32, "b" * 32]  # one published need, one waiting for review
    for token, need in zip(tokens, (needs[0], needs[3]), strict=True):
        db.session.add(RequestToken(token=token, need_id=need.id, api_key_id=api_key.id))
    db.session.commit()
    return {
        "api_key": raw_key,
        "codes": ["roads", "lights"],
        "refs": [n.ref for n in needs[:3]],
        "tokens": tokens,
    }
