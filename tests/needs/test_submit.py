"""Submitting a need through the web form, as a visitor would."""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.needs.models import Need, NeedContact, NeedStatus
from portal.notify.models import OutboxEmail
from portal.workflow.models import TimelineEvent
from tests.factories import make_category


@pytest.fixture
def category(app):
    category = make_category(name_zh="住房与社区环境", name_en="Housing")
    db.session.commit()
    return category


def _form(category, csrf, /, **overrides) -> dict:
    data = {
        "csrf_token": csrf,
        "idempotency_key": secrets.token_hex(16),
        "title": "小区停车难",
        "body": "晚上车位严重不足，消防通道也停满了车。",
        "category": str(category.id),
        "place": "和平里三区",
        "email": "",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_visitor_submits_a_need_and_sees_the_reference_and_tracking_link(
    client, category, csrf_token
):
    response = client.post("/needs/new", data=_form(category, csrf_token()))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/needs/submitted")

    page = client.get("/needs/submitted").get_data(as_text=True)
    need = db.session.scalar(sa.select(Need))
    assert re.fullmatch(r"N-\d{4}-\d{6}", need.ref)
    assert need.ref in page
    token = re.search(r'href="/track/([^"]+)"', page).group(1)
    assert client.get(f"/track/{token}").status_code == 200
    assert need.status == NeedStatus.SUBMITTED and not need.is_listed
    assert need.title == "小区停车难"
    assert (
        need.contact.consent_notice_version == client.application.config["PRIVACY_NOTICE_VERSION"]
    )
    event = db.session.scalar(sa.select(TimelineEvent))
    assert event.move == "submit" and event.to_status == NeedStatus.SUBMITTED

    # Shown once: a reload of the confirmation no longer reveals the link.
    again = client.get("/needs/submitted")
    assert again.status_code == 302


def test_the_tracking_link_is_emailed_when_an_address_is_given(client, category, csrf_token):
    client.post("/needs/new", data=_form(category, csrf_token(), email="Visitor@Example.org"))
    mail = db.session.scalar(sa.select(OutboxEmail))
    need = db.session.scalar(sa.select(Need))
    assert mail.to_address == "visitor@example.org"
    assert need.ref in mail.subject
    assert re.search(r"/track/[A-Za-z0-9_-]{40,}", mail.body_text)
    # The e-mail lives apart from the need's public fields.
    assert db.session.get(NeedContact, need.id).email == "visitor@example.org"


def test_no_email_is_queued_without_an_address(client, category, csrf_token):
    client.post("/needs/new", data=_form(category, csrf_token()))
    assert _count(OutboxEmail) == 0


BAD_INPUT = [
    ({"title": ""}, "Please give your need a title."),
    ({"title": "x" * 10_000}, "The title must be between 4 and 120 characters."),
    ({"body": ""}, "Please describe your need."),
    ({"body": "short"}, "The description must be between 10 and 4000 characters."),
    ({"body": "长" * 10_000}, "The description must be between 10 and 4000 characters."),
    ({"category": "0"}, "Please choose a category."),
    ({"category": "999999"}, "Please choose a category."),
    ({"category": "abc"}, "Please choose a category."),
    ({"email": "not-an-address"}, "Please enter a valid e-mail address."),
    ({"consent": None}, "Please agree to the privacy notice to submit."),
    ({"idempotency_key": "short"}, "The form is incomplete. Please reload the page."),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(
    client, category, csrf_token, overrides, message
):
    client.set_cookie("locale", "en")
    data = _form(category, csrf_token(), **overrides)
    response = client.post("/needs/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert _count(Need) == 0 and _count(TimelineEvent) == 0 and _count(NeedContact) == 0
    # What the user typed is still in the form.
    if overrides.get("title") is None and "title" not in overrides:
        assert 'value="小区停车难"' in page
    assert "晚上车位严重不足" in page or "body" in overrides


def test_errors_are_translated(client, category, csrf_token):
    client.set_cookie("locale", "zh_CN")
    response = client.post("/needs/new", data=_form(category, csrf_token(), title=""))
    assert response.status_code == 422
    assert "Please give your need a title." not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "title",
    ["<script>alert(1)</script>", "Broken lift 🛗 again 😡", "小区停车难，晚上车位严重不足"],
)
def test_text_is_stored_as_typed_and_shown_escaped(client, category, csrf_token, title):
    body = f"{title} — <img src=x onerror=alert(1)> details here."
    client.post("/needs/new", data=_form(category, csrf_token(), title=title, body=body))
    need = db.session.scalar(sa.select(Need))
    assert need.title == title and need.body == body
    page = client.get("/needs/submitted").get_data(as_text=True)
    token = re.search(r'href="/track/([^"]+)"', page).group(1)
    tracking = client.get(f"/track/{token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in tracking
    assert "<img src=x" not in tracking
    if "script" in title:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tracking
    else:
        assert title in tracking


def test_control_characters_are_dropped(client, category, csrf_token):
    client.post(
        "/needs/new",
        data=_form(
            category, csrf_token(), title="Broken\x00 lamp", body="Dark\x07 at night\r\nagain"
        ),
    )
    need = db.session.scalar(sa.select(Need))
    assert need.title == "Broken lamp" and need.body == "Dark at night\nagain"


def test_a_double_submit_creates_one_need(client, category, csrf_token):
    data = _form(category, csrf_token())
    first = client.post("/needs/new", data=data)
    second = client.post("/needs/new", data=data)
    assert first.status_code == second.status_code == 303
    assert _count(Need) == 1 and _count(TimelineEvent) == 1
    # The repeated request still gets to the confirmation with the same link.
    page = client.get("/needs/submitted").get_data(as_text=True)
    assert db.session.scalar(sa.select(Need.ref)) in page
    assert "/track/" in page


def test_two_forms_make_two_needs(client, category, csrf_token):
    client.post("/needs/new", data=_form(category, csrf_token()))
    client.post("/needs/new", data=_form(category, csrf_token()))
    assert _count(Need) == 2
    refs = db.session.scalars(sa.select(Need.ref)).all()
    assert len(set(refs)) == 2


@pytest.mark.committed  # each request thread has a connection of its own
def test_a_race_of_the_same_form_creates_one_need(app, category, csrf_token, client):
    """Two requests with the same key at the same moment: the unique key decides."""
    import threading

    data = _form(category, csrf_token())
    cookie = client.get_cookie("session")
    results: list[int] = []
    barrier = threading.Barrier(4)

    def post():
        c = app.test_client()
        c.set_cookie("session", cookie.value)
        barrier.wait()
        results.append(c.post("/needs/new", data=data).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [303] * 4
    db.session.expire_all()
    assert _count(Need) == 1


def test_htmx_validation_answers_200_with_the_form_fragment(client, category, csrf_token):
    client.set_cookie("locale", "en")
    response = client.post(
        "/needs/new",
        data=_form(category, csrf_token(), title="ab"),
        headers={"HX-Request": "true", "HX-Target": "need-form"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith("<form")
    assert "The title must be between 4 and 120 characters." in page
    assert "HX-Request" in response.headers.get("Vary", "")
    assert _count(Need) == 0


def test_live_check_shows_errors_only_for_fields_already_filled(client, category, csrf_token):
    client.set_cookie("locale", "en")
    response = client.post(
        "/needs/new",
        data=_form(category, csrf_token(), title="ab", body="", category="0", _validate="1"),
        headers={"HX-Request": "true", "HX-Trigger-Name": "title"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The title must be between 4 and 120 characters." in page
    assert "Please describe your need." not in page
    assert "Please choose a category." not in page
    assert _count(Need) == 0


def test_htmx_success_redirects_on_the_client(client, category, csrf_token):
    response = client.post(
        "/needs/new", data=_form(category, csrf_token()), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith("/needs/submitted")
    assert _count(Need) == 1


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "SUBMIT_RATE_LIMIT": "2 per minute"}]
)
def test_submissions_are_rate_limited(client, category, csrf_token, app_config):
    client.set_cookie("locale", "en")
    token = csrf_token()
    codes = [client.post("/needs/new", data=_form(category, token)).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    assert _count(Need) == 2
    # Checking fields as the user types is not a submission and is not limited.
    live = client.post("/needs/new", data=_form(category, token, _validate="1"))
    assert live.status_code == 200


def test_similar_published_needs_are_suggested(client, category):
    from tests.factories import make_need

    make_need(NeedStatus.OPEN, category=category, title="小区停车难，晚上没有车位")
    make_need(NeedStatus.SUBMITTED, category=category, title="停车场收费太高")  # not public
    make_need(NeedStatus.OPEN, category=category, title="Broken street lights")
    db.session.commit()
    fragment = client.get("/needs/similar?title=停车难", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "小区停车难，晚上没有车位" in text
    assert "停车场收费太高" not in text
    assert "Broken street lights" not in text
    assert "<html" not in text
    english = client.get("/needs/similar?title=street+lights+broken").get_data(as_text=True)
    assert "Broken street lights" in english and "<html" in english
