"""Fixtures of the category tests: English pages and categories that ask questions
(`admin`, `post` and `audit_rows` are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from portal.categories.models import CategoryQuestion, QuestionKind
from portal.extensions import db
from tests.factories import make_category


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def add_question(category, code, kind=QuestionKind.TEXT, *, required=False, choices=(), **kw):
    question = CategoryQuestion(
        category_id=category.id,
        code=code,
        kind=kind,
        prompt_zh=kw.pop("prompt_zh", f"问题 {code}"),
        prompt_en=kw.pop("prompt_en", f"Question {code}"),
        required=required,
        choices=[{"key": k, "name_zh": zh, "name_en": en} for k, zh, en in choices],
        position=kw.pop("position", 0),
        **kw,
    )
    db.session.add(question)
    db.session.flush()
    return question


@pytest.fixture
def asking_category(app):
    """A category with a required number, a single choice and an optional multiple choice."""
    category = make_category(name_en="Potholes")
    add_question(
        category,
        "depth",
        QuestionKind.NUMBER,
        required=True,
        position=0,
        prompt_en="How deep is it (cm)?",
    )
    add_question(
        category,
        "lane",
        QuestionKind.SINGLE,
        required=True,
        position=1,
        prompt_en="Which lane?",
        choices=[("left", "左车道", "Left lane"), ("right", "右车道", "Right lane")],
    )
    add_question(
        category,
        "hazards",
        QuestionKind.MULTIPLE,
        position=2,
        prompt_en="Other hazards?",
        choices=[("water", "积水", "Standing water"), ("glass", "玻璃", "Broken glass")],
    )
    add_question(category, "old", QuestionKind.TEXT, required=True, position=3, is_active=False)
    db.session.commit()
    return category
