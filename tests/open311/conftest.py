"""Helpers for the Open311 tests: API keys, categories with extra questions,
and parsers for both formats."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

import pytest

from portal.categories.models import CategoryQuestion, QuestionKind
from portal.extensions import db
from portal.models_base import utcnow
from portal.open311.models import ApiKey
from tests.factories import make_category

API = "/open311/v2"
#: The fields of a GeoReport v2 service request, as the specification names them.
FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def make_api_key(raw: str = "test-key-0123456789", *, revoked: bool = False, **kw) -> ApiKey:
    api_key = ApiKey(
        name=kw.pop("name", "Test client"),
        prefix=raw[:8],
        key_hash=hashlib.sha256(raw.encode()).hexdigest(),
        revoked_at=utcnow() if revoked else None,
        **kw,
    )
    db.session.add(api_key)
    db.session.flush()
    return api_key


def make_lights_category(**kw):
    """A category with a text, a required single-choice and a multiple-choice question."""
    category = make_category(
        code=kw.pop("code", "lights"),
        name_zh="路灯",
        name_en="Street lights",
        description_zh="路灯不亮",
        description_en="Broken street lights",
        **kw,
    )
    db.session.add_all(
        [
            CategoryQuestion(
                category_id=category.id,
                code="pole",
                kind=QuestionKind.TEXT,
                prompt_zh="灯杆编号",
                prompt_en="Pole number",
                help_en="Written on the pole",
                position=0,
            ),
            CategoryQuestion(
                category_id=category.id,
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
                category_id=category.id,
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
            CategoryQuestion(
                category_id=category.id,
                code="old",
                kind=QuestionKind.TEXT,
                prompt_zh="旧问题",
                prompt_en="Retired question",
                position=3,
                is_active=False,
            ),
        ]
    )
    db.session.flush()
    return category


def parse_xml(response) -> ET.Element:
    """The document, checked for its declaration and content type."""
    assert response.content_type == "text/xml; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(body)  # noqa: S314 — our own answer, in a test


def parse_json(response):
    assert response.content_type == "application/json; charset=utf-8"
    return response.get_json()


def assert_errors(response, status: int, fmt: str = "json") -> list[str]:
    """The specification's error list with this code; returns the descriptions."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert b"<html" not in response.get_data().lower()
    if fmt == "xml":
        root = parse_xml(response)
        assert root.tag == "errors"
        errors = root.findall("error")
        assert errors
        assert all(e.findtext("code") == str(status) for e in errors)
        return [e.findtext("description") for e in errors]
    errors = parse_json(response)
    assert isinstance(errors, list) and errors
    assert all(set(e) == {"code", "description"} for e in errors)
    assert all(e["code"] == status for e in errors)
    return [e["description"] for e in errors]


@pytest.fixture
def api_key(app) -> str:
    make_api_key("good-key-0123456789")
    db.session.commit()
    return "good-key-0123456789"
