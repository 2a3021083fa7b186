"""Data for the Open311 tests of this area: categories with and without extra
questions, published needs in several states, and a valid API key."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.open311.apikeys import issue_key
from portal.open311.models import CategoryQuestion, QuestionKind, RequestToken
from tests.factories import make_category, make_need, make_user


@pytest.fixture
def open311_world(app) -> dict:
    roads = make_category(code="roads")
    lights = make_category(code="lights")
    db.session.add_all(
        [
            CategoryQuestion(
                category_id=lights.id,
                code="pole",
                kind=QuestionKind.TEXT,
                prompt_zh="灯杆编号",
                prompt_en="Pole number",
                position=0,
            ),
            CategoryQuestion(
                category_id=lights.id,
                code="kind",
                kind=QuestionKind.SINGLE,
                prompt_zh="类型",
                prompt_en="Kind",
                required=True,
                choices=[
                    {"key": "dark", "name_zh": "不亮", "name_en": "Dark"},
                    {"key": "flicker", "name_zh": "闪烁", "name_en": "Flickering"},
                ],
                position=1,
            ),
            CategoryQuestion(
                category_id=lights.id,
                code="when",
                kind=QuestionKind.MULTIPLE,
                prompt_zh="时段",
                prompt_en="When",
                choices=[
                    {"key": "day", "name_zh": "白天", "name_en": "Day"},
                    {"key": "night", "name_zh": "夜间", "name_en": "Night"},
                ],
                position=2,
            ),
        ]
    )
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
