"""Admins manage the extra questions of a category: add, edit, stop asking, reorder."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.categories.models import CategoryQuestion, QuestionKind
from portal.extensions import db
from tests.categories.conftest import add_question
from tests.conftest import audit_rows, csrf_token_from
from tests.factories import make_category, make_user
from tests.forms import form_for


@pytest.fixture
def category(app):
    category = make_category(name_en="Potholes")
    db.session.commit()
    return category


def _questions(category_id) -> list[CategoryQuestion]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CategoryQuestion)
            .where(CategoryQuestion.category_id == category_id)
            .order_by(CategoryQuestion.position, CategoryQuestion.id)
        )
    )


def _url(category_id) -> str:
    return f"/admin/categories/{category_id}/questions"


def _add(client, category_id, htmx=False, **values):
    page = client.get(_url(category_id)).get_data(as_text=True)
    form = form_for(page, _url(category_id))
    data = {
        **form["fields"],
        "code": "lane",
        "kind": "singlevaluelist",
        "prompt_zh": "哪条车道？",
        "prompt_en": "Which lane?",
        "required": "y",
        "choices": "left | 左车道 | Left lane\nright | 右车道 | Right lane",
        **values,
    }
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(form["action"], data=data, headers={"HX-Request": "true"} if htmx else {})


def test_the_category_page_links_to_its_questions(client, admin, category):
    page = client.get(f"/admin/categories/{category.id}").get_data(as_text=True)
    assert f'href="{_url(category.id)}"' in page and "Extra questions" in page


def test_an_admin_adds_a_choice_question(client, admin, category):
    response = _add(client, category.id)
    assert response.status_code == 303
    [question] = _questions(category.id)
    assert (question.code, question.kind, question.required) == ("lane", QuestionKind.SINGLE, True)
    assert question.choices == [
        {"key": "left", "name_zh": "左车道", "name_en": "Left lane"},
        {"key": "right", "name_zh": "右车道", "name_en": "Right lane"},
    ]
    page = client.get(_url(category.id)).get_data(as_text=True)
    assert "The question “lane” is added." in page and "Which lane?" in page
    [row] = audit_rows("category_question.create")
    assert row.actor_id == admin.id and row.after["code"] == "lane"


def test_htmx_gets_the_section(client, admin, category):
    response = _add(client, category.id, htmx=True, code="depth", kind="number", choices="")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="questions">') and "<html" not in page
    assert "The question “depth” is added." in page
    [question] = _questions(category.id)
    assert question.kind == QuestionKind.NUMBER and question.choices == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"code": "Bad Code"}, "Only lower-case letters, digits and _ please (at most 40)."),
        ({"code": ""}, "Please give a code."),
        ({"prompt_zh": ""}, "Please write the question in Chinese."),
        ({"choices": ""}, "Please give the possible answers, one per line."),
        ({"choices": "left | 左\nleft | 又左"}, "Line 2: the key “left” is used twice."),
        ({"choices": "Left Lane | 左"}, "Line 1: the key may use lower-case letters"),
        ({"choices": "left"}, "Line 1: please give a name."),
        ({"kind": "colour"}, "Please choose a kind of answer."),
    ],
)
def test_bad_questions_are_refused_and_kept(client, admin, category, values, message):
    response = _add(client, category.id, **values)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Which lane?"' in page
    assert _questions(category.id) == []
    assert audit_rows() == []


def test_a_code_is_unique_in_its_category(client, admin, category):
    add_question(category, "lane")
    other = make_category()
    db.session.commit()
    response = _add(client, category.id)
    assert response.status_code == 422
    assert "Another question of this category already uses this code." in response.get_data(
        as_text=True
    )
    assert len(_questions(category.id)) == 1
    assert _add(client, other.id).status_code == 303  # another category may use it


def test_an_admin_edits_a_question_but_not_its_code(client, admin, category):
    question = add_question(category, "lane", QuestionKind.SINGLE, choices=[("left", "左", "L")])
    db.session.commit()
    page = client.get(f"{_url(category.id)}?edit={question.id}").get_data(as_text=True)
    form = form_for(page, f"{_url(category.id)}/{question.id}")
    assert form["fields"]["edit-prompt_en"] == "Question lane"
    assert "edit-code" not in form["fields"]
    data = {
        **form["fields"],
        "edit-prompt_en": "Which lane is it?",
        "edit-choices": "left | 左 | L\nright | 右 | R",
        "edit-code": "changed",
        "code": "changed",
    }
    response = client.post(form["action"], data=data)
    assert response.status_code == 303
    [question] = _questions(category.id)
    assert question.code == "lane" and question.prompt_en == "Which lane is it?"
    assert [c["key"] for c in question.choices] == ["left", "right"]
    [row] = audit_rows("category_question.update")
    assert row.before["prompt_en"] == "Question lane"
    # An empty choice list is refused on edit too, the typed text kept.
    response = client.post(form["action"], data={**data, "edit-choices": ""})
    assert response.status_code == 422
    assert "Please give the possible answers, one per line." in response.get_data(as_text=True)


def test_htmx_click_to_edit_returns_the_section(client, admin, category):
    question = add_question(category, "lane")
    db.session.commit()
    response = client.get(f"{_url(category.id)}?edit={question.id}", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="questions">')
    assert f'action="{_url(category.id)}/{question.id}"' in page


def test_stop_asking_and_ask_again(client, admin, category):
    question = add_question(category, "lane")
    db.session.commit()
    page = client.get(_url(category.id)).get_data(as_text=True)
    form = form_for(page, f"/{question.id}/active")
    assert client.post(form["action"], data=form["fields"]).status_code == 303
    assert _questions(category.id)[0].is_active is False
    page = client.get(_url(category.id)).get_data(as_text=True)
    assert "is no longer asked" in page and "Not asked" in page
    form = form_for(page, f"/{question.id}/active")
    assert form["fields"]["active"] == "1"
    client.post(form["action"], data=form["fields"])
    assert _questions(category.id)[0].is_active is True
    assert [r.action for r in audit_rows()] == [
        "category_question.deactivate",
        "category_question.activate",
    ]


def test_questions_are_reordered(client, admin, category):
    a = add_question(category, "a", position=0)
    b = add_question(category, "b", position=0)  # a tie, as older data may have
    c = add_question(category, "c", position=5)
    db.session.commit()
    token = csrf_token_from(client.get(_url(category.id)).get_data(as_text=True))
    response = client.post(
        f"{_url(category.id)}/{c.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert response.status_code == 303
    assert [q.code for q in _questions(category.id)] == ["a", "c", "b"]
    client.post(f"{_url(category.id)}/{a.id}/move", data={"csrf_token": token, "direction": "down"})
    assert [q.code for q in _questions(category.id)] == ["c", "a", "b"]
    # The first cannot move up: nothing changes, nothing audited.
    client.post(f"{_url(category.id)}/{c.id}/move", data={"csrf_token": token, "direction": "up"})
    assert [q.code for q in _questions(category.id)] == ["c", "a", "b"]
    assert len(audit_rows("category_question.move")) == 2
    page = client.get(_url(category.id)).get_data(as_text=True)
    assert page.count('value="up"') == 2 and page.count('value="down"') == 2
    del b


def test_another_categorys_question_answers_404(client, admin, category):
    other = make_category()
    question = add_question(other, "x")
    db.session.commit()
    token = csrf_token_from(client.get(_url(category.id)).get_data(as_text=True))
    response = client.post(
        f"{_url(category.id)}/{question.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 404
    assert client.get("/admin/categories/999/questions").status_code == 404


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_other_roles_are_refused(client, login, category, role):
    question = add_question(category, "x")
    login(make_user(role))
    db.session.commit()
    assert client.get(_url(category.id)).status_code == 403
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    data = {"csrf_token": token, "code": "y", "kind": "text", "prompt_zh": "问", "active": "0"}
    assert client.post(_url(category.id), data=data).status_code == 403
    assert client.post(f"{_url(category.id)}/{question.id}/active", data=data).status_code == 403
    assert [q.code for q in _questions(category.id)] == ["x"]


def test_the_questions_page_runs_a_constant_number_of_queries(client, admin, category, queries):
    counts = []
    for n in (1, 6):
        for i in range(n - len(_questions(category.id))):
            add_question(category, f"q{n}_{i}", QuestionKind.MULTIPLE, choices=[("a", "甲", "A")])
        db.session.commit()
        url = _url(category.id)
        with queries() as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
