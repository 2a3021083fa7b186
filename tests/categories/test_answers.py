"""Checking answers to a category's questions, and asking them on the web form and intake."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.categories.models import NeedAnswer, QuestionKind
from portal.categories.questions import active_questions, answers_for, validate_answers
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.workflow.services import Actor, transition
from tests.categories.conftest import add_question
from tests.factories import make_category, make_need, make_organisation, make_user
from tests.forms import form_for


@pytest.fixture
def english_context(app):
    with app.test_request_context(headers={"Cookie": "locale=en"}):
        yield


def _answers() -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(NeedAnswer.question_id, NeedAnswer.value).order_by(NeedAnswer.id)
    )
    return [(str(q), v) for q, v in rows]


def test_active_questions_in_order_in_one_query(app, asking_category, queries):
    other = make_category()
    add_question(other, "x")
    db.session.commit()
    ids = [asking_category.id, other.id]
    with queries() as statements:
        grouped = active_questions(ids)
    assert len(statements) == 1
    assert [q.code for q in grouped[ids[0]]] == ["depth", "lane", "hazards"]
    assert [q.code for q in grouped[ids[1]]] == ["x"]
    assert active_questions([]) == {}


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ({}, {"depth": "Please answer this question.", "lane": "Please answer this question."}),
        ({"depth": ["deep"], "lane": ["left"]}, {"depth": "Please give a number."}),
        ({"depth": ["nan"], "lane": ["left"]}, {"depth": "Please give a number."}),
        ({"depth": ["3"], "lane": ["middle"]}, {"lane": "Please pick one of the offered answers."}),
        ({"depth": ["3"], "lane": ["left", "right"]}, {"lane": "Please give one answer only."}),
        (
            {"depth": ["3"], "lane": ["left"], "hazards": ["water", "fire"]},
            {"hazards": "Please pick one of the offered answers."},
        ),
        ({"depth": [" 3.5 "], "lane": ["left"], "hazards": ["water", "glass", "water"]}, {}),
    ],
)
def test_answers_are_checked(app, asking_category, raw, errors, english_context):
    questions = active_questions([asking_category.id])[asking_category.id]
    answers, found = validate_answers(questions, raw)
    assert found == errors
    if not errors:
        by_code = {q.code: answers.get(q.id) for q in questions}
        assert by_code == {"depth": ["3.5"], "lane": ["left"], "hazards": ["water", "glass"]}


def test_text_answers_are_limited(app, english_context):
    category = make_category()
    question = add_question(category, "note", QuestionKind.TEXT)
    db.session.commit()
    _, errors = validate_answers([question], {"note": ["x" * 1001]})
    assert errors == {"note": "At most 1000 characters, please."}
    answers, errors = validate_answers([question], {"note": ["x" * 1000], "unknown": ["y"]})
    assert errors == {} and answers == {question.id: ["x" * 1000]}


def _new_form(client, category) -> dict:
    page = client.get(f"/needs/new?category={category.id}").get_data(as_text=True)
    fields = form_for(page, "/needs/new")["fields"]
    return {
        **fields,
        "title": "Pothole on Main Street",
        "body": "A deep hole in the road near the school.",
        "consent": "y",
    }


def test_the_web_form_asks_the_questions_of_the_chosen_category(client, asking_category):
    page = client.get(f"/needs/new?category={asking_category.id}").get_data(as_text=True)
    assert "How deep is it (cm)?" in page and "Standing water" in page
    assert f'name="questions_for" value="{asking_category.id}"' in page
    assert "Question old" not in page  # inactive
    # htmx swaps just the questions when the category changes.
    fragment = client.get(
        f"/needs/new?category={asking_category.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="category-questions"')
    assert "<form" not in fragment and "Which lane?" in fragment
    assert "Which lane?" not in client.get("/needs/new").get_data(as_text=True)


def test_a_need_is_submitted_with_its_answers_without_javascript(client, asking_category):
    data = _new_form(client, asking_category)
    data.update({"attribute[depth]": "12", "attribute[lane]": "right"})
    data["attribute[hazards]"] = ["water", "glass"]
    response = client.post("/needs/new", data=data)
    assert response.status_code == 303
    need = db.session.scalar(sa.select(Need))
    questions = {q.code: q.id for q in active_questions([asking_category.id])[asking_category.id]}
    assert sorted(_answers()) == sorted(
        [
            (str(questions["depth"]), "12"),
            (str(questions["lane"]), "right"),
            (str(questions["hazards"]), "water"),
            (str(questions["hazards"]), "glass"),
        ]
    )
    with client.application.test_request_context(headers={"Cookie": "locale=en"}):
        shown = [(q.code, values) for q, values in answers_for(need)]
    assert shown[0] == ("depth", ["12"])
    assert shown[2][0] == "hazards" and len(shown[2][1]) == 2
    # A double submit does not duplicate the need nor its answers.
    assert client.post("/needs/new", data=data).status_code == 303
    assert len(_answers()) == 4


def test_a_missing_required_answer_keeps_the_input(client, asking_category):
    data = _new_form(client, asking_category)
    data.update({"attribute[depth]": "", "attribute[lane]": "left", "attribute[hazards]": "glass"})
    response = client.post("/needs/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please correct the marked fields." in page
    assert "Please answer this question." in page
    assert 'value="Pothole on Main Street"' in page
    assert re.search(r'<option value="left" selected>', page)
    assert re.search(r'value="glass" checked', page)
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == 0
    assert _answers() == []


def test_a_bad_number_is_refused(client, asking_category):
    data = _new_form(client, asking_category)
    data.update({"attribute[depth]": "very", "attribute[lane]": "left"})
    response = client.post("/needs/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please give a number." in page and 'value="very"' in page


def test_changing_category_without_javascript_asks_its_questions(client, asking_category):
    plain = make_category(name_en="Plain")
    db.session.commit()
    data = _new_form(client, plain)  # questions_for = the plain category (none asked)
    data["category"] = str(asking_category.id)
    response = client.post("/needs/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please answer the questions of this category." in page
    assert "How deep is it (cm)?" in page and 'value="Pothole on Main Street"' in page
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == 0
    # Answering them now works.
    retry = form_for(page, "/needs/new")["fields"]
    retry.update({"consent": "y", "body": data["body"], "attribute[depth]": "4"})
    retry["attribute[lane]"] = "left"
    assert client.post("/needs/new", data=retry).status_code == 303
    assert len(_answers()) == 2


def test_a_category_without_questions_submits_as_before(client):
    plain = make_category(name_en="Plain")
    db.session.commit()
    assert client.post("/needs/new", data=_new_form(client, plain)).status_code == 303
    assert _answers() == []


def test_staff_intake_asks_the_questions_too(client, login, asking_category):
    login(make_user(Role.ADMIN))
    db.session.commit()
    page = client.get(f"/staff/needs/new?category={asking_category.id}").get_data(as_text=True)
    assert "How deep is it (cm)?" in page
    fields = form_for(page, "/staff/needs/new")["fields"]
    fields.update(
        {
            "channel": "phone",
            "title": "Pothole reported by phone",
            "body": "The caller says the hole is deep.",
            "consent": "y",
        }
    )
    refused = client.post("/staff/needs/new", data=fields)
    assert refused.status_code == 422
    assert "Please answer this question." in refused.get_data(as_text=True)
    fields.update({"attribute[depth]": "20", "attribute[lane]": "left"})
    assert client.post("/staff/needs/new", data=fields).status_code == 303
    assert len(_answers()) == 2
    fragment = client.get(
        f"/staff/needs/new?category={asking_category.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="category-questions"')


@pytest.fixture
def answered(app, asking_category):
    partner = make_organisation(name_en="Road works")
    need, _token = make_need(NeedStatus.ROUTED, category=asking_category, partner=partner)
    questions = {q.code: q for q in active_questions([asking_category.id])[asking_category.id]}
    db.session.add_all(
        [
            NeedAnswer(need_id=need.id, question_id=questions["depth"].id, value="37"),
            NeedAnswer(need_id=need.id, question_id=questions["hazards"].id, value="glass"),
        ]
    )
    db.session.commit()
    return need, partner


def test_answers_are_shown_to_admins_and_the_assigned_partner_only(client, login, answered):
    need, partner = answered
    public = client.get(f"/needs/{need.ref}")
    assert public.status_code == 200
    assert "Broken glass" not in public.get_data(as_text=True)
    assert "Other hazards?" not in public.get_data(as_text=True)

    login(make_user(Role.ADMIN))
    db.session.commit()
    admin_page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "How deep is it (cm)?" in admin_page and "Broken glass" in admin_page

    login(make_user(Role.PARTNER, partner))
    db.session.commit()
    partner_page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "How deep is it (cm)?" in partner_page and "Broken glass" in partner_page

    login(make_user(Role.PARTNER))
    db.session.commit()
    assert client.get(f"/partner/needs/{need.ref}").status_code == 404


def test_a_partner_no_longer_assigned_does_not_see_the_answers(client, login, answered):
    need, partner = answered
    staff = make_user(Role.PARTNER, partner)
    transition(need, "decline", Actor.staff(staff), text="Not ours.")
    db.session.commit()
    login(staff)
    page = client.get(f"/partner/needs/{need.ref}")
    assert page.status_code == 200
    assert "Broken glass" not in page.get_data(as_text=True)
