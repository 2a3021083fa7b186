"""One way in for a need: the web form, staff intake and Open311 only parse
their input and call `portal.needs.submission.submit`, and one set of rules
(`portal.needs.rules`) checks all three, so a limit changed once changes every
channel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

import portal
from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.categories.models import Category, NeedAnswer
from portal.extensions import db
from portal.needs import rules, submission
from portal.needs.models import Channel, Need
from portal.needs.services import Submission, new_idempotency_key
from portal.open311.models import RequestToken
from portal.photos.models import Photo
from portal.workflow.services import Actor, ActorRole
from tests.factories import make_user
from tests.forms import form_for
from tests.open311.conftest import API, assert_errors, make_api_key, make_lights_category
from tests.photos.images import jpeg_with_gps, upload

API_KEY = "good-key-0123456789"
TITLE = "The lamp at the corner is dark"
DESCRIPTION = "The lamp at the corner of Pine Road has been dark since Monday."


@pytest.fixture
def lights(app, client):
    """A category with a required question, an API key, English pages."""
    client.set_cookie("locale", "en")
    category = make_lights_category()
    make_api_key(API_KEY)
    db.session.commit()
    return category


@pytest.fixture
def calls(monkeypatch) -> list:
    """Each call of the submission service (which still does its work): the
    submission, who made it (role and account id) and the need."""
    seen: list = []
    real = submission.submit

    def spy(data, actor, **kwargs):
        need, token = real(data, actor, **kwargs)
        seen.append((data, (actor.role, getattr(actor.user, "id", None)), need))
        return need, token

    monkeypatch.setattr(submission, "submit", spy)
    return seen


def post_web(client, category, *, with_photo=True, **changes):
    page = client.get(f"/needs/new?category={category.id}").get_data(as_text=True)
    data = form_for(page, "/needs/new")["fields"]
    data.update(title=TITLE, body=DESCRIPTION, consent="y", **{"attribute[kind]": "dark"})
    if with_photo:
        data["photos"] = [upload(jpeg_with_gps())]
    data.update(changes)
    return client.post("/needs/new", data=data, content_type="multipart/form-data")


def post_intake(client, category, *, with_photo=True, **changes):
    page = client.get(f"/staff/needs/new?category={category.id}").get_data(as_text=True)
    data = form_for(page, "/staff/needs/new")["fields"]
    data.update(title=TITLE, body=DESCRIPTION, consent="y", channel="phone")
    data["attribute[kind]"] = "dark"
    if with_photo:
        data["photos"] = [upload(jpeg_with_gps())]
    data.update(changes)
    return client.post("/staff/needs/new", data=data, content_type="multipart/form-data")


def post_open311(client, category, **changes):
    data = {
        "api_key": API_KEY,
        "service_code": category.code,
        "address_string": "Pine Road 12",
        "description": DESCRIPTION,
        "attribute[kind]": "dark",
        **changes,
    }
    return client.post(f"{API}/requests.json", data=data, headers={"Accept-Language": "en"})


def _needs() -> list[Need]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Need).order_by(Need.id)))


@pytest.mark.parametrize("channel", ["web", "intake", "open311"])
def test_every_channel_creates_its_need_through_the_one_service(
    client, login, lights, calls, channel
):
    staff = login(make_user(Role.ADMIN)) if channel == "intake" else None
    db.session.commit()
    if channel == "web":
        response = post_web(client, lights)
    elif channel == "intake":
        response = post_intake(client, lights)
    else:
        response = post_open311(client, lights)
    assert response.status_code in (200, 303), response.get_data(as_text=True)

    (need,) = _needs()
    ((data, (role, user_id), created),) = calls
    assert created.id == need.id
    expected = {"web": Channel.WEB, "intake": Channel.PHONE, "open311": Channel.API}[channel]
    assert data.channel == need.channel == expected
    # What each channel used to assemble by hand is now the service's work.
    answers = db.session.scalars(sa.select(NeedAnswer.value).where(NeedAnswer.need_id == need.id))
    assert list(answers) == ["dark"]
    photos = db.session.scalar(sa.select(sa.func.count(Photo.id)).where(Photo.need_id == need.id))
    assert photos == (0 if channel == "open311" else 1)
    intake_rows = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "need.intake")
    ).all()
    if channel == "intake":
        assert (role, user_id) == (ActorRole.ADMIN, staff.id)
        assert [(e.actor_id, e.object_id) for e in intake_rows] == [(staff.id, need.ref)]
    else:
        assert (role, user_id) == (ActorRole.PUBLIC, None) and intake_rows == []
    tokens = db.session.scalar(sa.select(sa.func.count(RequestToken.id)))
    assert tokens == (1 if channel == "open311" else 0)


def _calls_in(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_no_other_module_assembles_a_need():
    """Creating the need row, saving answers and committing a submission happen
    in the service only; the demo data seeds needs without a channel."""
    package = Path(portal.__file__).parent
    steps = {"submit_need", "save_answers", "commit_once"}
    callers = {
        str(path.relative_to(package)): sorted(_calls_in(path) & steps)
        for path in package.rglob("*.py")
        if _calls_in(path) & steps
    }
    assert callers.pop("needs/submission.py") == ["commit_once", "save_answers", "submit_need"]
    assert callers.pop("demo.py") == ["submit_need"]
    # Other areas create other rows once per form (proposals, API keys…), never needs.
    for path, names in callers.items():
        assert names == ["commit_once"], path
        assert "commit_once(Need" not in (package / path).read_text(), path


def test_a_limit_changed_once_is_enforced_by_every_channel(client, login, lights, monkeypatch):
    monkeypatch.setattr(rules.DESCRIPTION, "max", 40)
    login(make_user(Role.PARTNER))
    db.session.commit()

    web = post_web(client, lights, with_photo=False)
    assert web.status_code == 422
    assert "The description must be between 10 and 40 characters." in web.get_data(as_text=True)
    intake = post_intake(client, lights, with_photo=False)
    assert intake.status_code == 422
    assert "The description must be between 10 and 40 characters." in intake.get_data(as_text=True)
    (error,) = assert_errors(post_open311(client, lights), 400)
    assert error == "description: at most 40 characters."
    assert _needs() == []
    # The form tells the browser the same limit.
    assert 'maxlength="40"' in client.get("/needs/new").get_data(as_text=True)

    short = DESCRIPTION[:40]
    assert post_web(client, lights, with_photo=False, body=short).status_code == 303
    assert post_open311(client, lights, description=short).status_code == 200
    assert len(_needs()) == 2


def test_the_title_limit_applies_to_typed_and_derived_titles(client, lights, monkeypatch):
    monkeypatch.setattr(rules.TITLE, "max", 12)
    response = post_web(client, lights, with_photo=False)
    assert response.status_code == 422
    assert "The title must be between 4 and 12 characters." in response.get_data(as_text=True)
    # Open311 has no title field: the one it derives from the description fits the rule.
    assert post_open311(client, lights).status_code == 200
    (need,) = _needs()
    assert need.title == "The lamp at…" and len(need.title) <= 12


def test_a_phone_number_is_checked_alike_at_intake_and_on_open311(client, login, lights):
    login(make_user(Role.ADMIN))
    db.session.commit()
    intake = post_intake(client, lights, with_photo=False, phone="call me maybe")
    assert intake.status_code == 422
    assert "Use digits, spaces and + - ( ) only." in intake.get_data(as_text=True)
    (error,) = assert_errors(post_open311(client, lights, phone="call me maybe"), 400)
    assert error == "phone: use digits, spaces and + - ( ) only."
    assert _needs() == []
    assert post_open311(client, lights, phone="+86 (10) 1234-5678").status_code == 200


def test_which_categories_take_needs_is_decided_once(client, lights, monkeypatch):
    monkeypatch.setattr(rules, "category_accepts_needs", lambda: Category.code != "lights")
    web = post_web(client, lights, with_photo=False)
    assert web.status_code == 422
    assert "Please choose a category." in web.get_data(as_text=True)
    assert_errors(post_open311(client, lights), 404)
    assert _needs() == []


def test_staff_submit_only_through_a_staff_channel(app, lights):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    data = Submission(
        title=TITLE,
        body=DESCRIPTION,
        category_id=lights.id,
        place="",
        email="",
        idempotency_key=new_idempotency_key(),
        locale="en",
        channel=Channel.WEB,
    )
    with (
        app.test_request_context(headers={"Accept-Language": "en"}),
        pytest.raises(submission.SubmissionError) as refused,
    ):
        submission.submit(data, Actor.staff(admin))
    assert refused.value.field == "channel"
    assert _needs() == []
