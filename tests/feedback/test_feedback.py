"""Feedback on answers, reopening, and closing stale resolved needs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.feedback import services
from portal.feedback.models import Feedback, Resolved
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus, Outcome
from portal.notify.services import follow
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _feedback(client, page_url, post_url, **data):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(post_url, data={"csrf_token": token, **data})


def _reload(need) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need.id)


def test_the_submitter_says_resolved_and_the_need_closes(client):
    need, token = make_need(NeedStatus.RESOLVED)
    db.session.commit()
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Your feedback on the answer" in page
    response = _feedback(
        client, f"/track/{token}", f"/track/{token}/feedback", resolved="yes", satisfaction="5"
    )
    assert response.status_code == 303
    need = _reload(need)
    assert need.status == NeedStatus.CLOSED and need.outcome == Outcome.RESOLVED
    public = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Resolved, satisfaction 5/5 (from the submitter)" in public


def test_not_resolved_reopens_for_the_same_partner(client):
    need, token = make_need(NeedStatus.RESOLVED)
    partner_id = need.assigned_organisation_id
    db.session.commit()
    _feedback(
        client,
        f"/track/{token}",
        f"/track/{token}/feedback",
        resolved="no",
        satisfaction="1",
        comment="The light is still broken.",
    )
    need = _reload(need)
    assert need.status == NeedStatus.IN_PROGRESS
    assert need.assigned_organisation_id == partner_id
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Reopened: not resolved" in page and "The light is still broken." in page


def test_feedback_is_given_once_per_answer(client):
    need, token = make_need(NeedStatus.RESOLVED)
    db.session.commit()
    _feedback(
        client, f"/track/{token}", f"/track/{token}/feedback", resolved="partly", satisfaction="3"
    )
    assert "Your feedback on the answer" not in client.get(f"/track/{token}").get_data(as_text=True)
    again = _feedback(
        client, f"/track/{token}", f"/track/{token}/feedback", resolved="no", satisfaction="1"
    )
    assert again.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 1
    assert _reload(need).status == NeedStatus.RESOLVED


def test_a_follower_gives_feedback_without_moving_the_need(client, login):
    need, _ = make_need(NeedStatus.RESOLVED)
    member = make_user()
    follow(need, member)
    db.session.commit()
    login(member)
    response = _feedback(
        client, f"/needs/{need.ref}", f"/needs/{need.ref}/feedback", resolved="no", satisfaction="2"
    )
    assert response.status_code == 303
    assert _reload(need).status == NeedStatus.RESOLVED
    saved = db.session.scalar(sa.select(Feedback))
    assert saved.respondent == f"user:{member.id}" and not saved.is_submitter


def test_members_who_do_not_follow_cannot_give_feedback(client, login):
    need, _ = make_need(NeedStatus.RESOLVED)
    login(make_user())
    db.session.commit()
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Your feedback on the answer" not in page
    client.post(
        f"/needs/{need.ref}/feedback",
        data={"csrf_token": csrf_token_from(page), "resolved": "yes", "satisfaction": "5"},
    )
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 0


@pytest.mark.parametrize(
    "data",
    [{"resolved": "maybe", "satisfaction": "3"}, {"resolved": "yes", "satisfaction": "9"}, {}],
)
def test_bad_feedback_is_refused(client, data):
    need, token = make_need(NeedStatus.RESOLVED)
    db.session.commit()
    _feedback(client, f"/track/{token}", f"/track/{token}/feedback", **data)
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 0
    assert _reload(need).status == NeedStatus.RESOLVED


def test_no_feedback_before_resolution(client):
    need, token = make_need(NeedStatus.IN_PROGRESS)
    db.session.commit()
    assert "Your feedback on the answer" not in client.get(f"/track/{token}").get_data(as_text=True)
    _feedback(
        client, f"/track/{token}", f"/track/{token}/feedback", resolved="yes", satisfaction="5"
    )
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 0


def test_close_stale_closes_after_14_days_without_negative_feedback(app):
    quiet, _ = make_need(NeedStatus.RESOLVED)
    recent, _ = make_need(NeedStatus.RESOLVED)
    disputed, _ = make_need(NeedStatus.RESOLVED)
    follower = make_user()
    follow(disputed, follower)
    services.give_feedback(
        disputed, resolved=Resolved.NO, satisfaction=1, comment="", user=follower
    )
    old = utcnow() - timedelta(days=15)
    quiet.resolved_at = old
    disputed.resolved_at = old
    db.session.commit()

    assert services.close_stale() == 1
    assert services.close_stale() == 0  # safe to run again
    assert _reload(quiet).status == NeedStatus.CLOSED
    assert _reload(quiet).outcome == Outcome.RESOLVED
    assert _reload(recent).status == NeedStatus.RESOLVED
    assert _reload(disputed).status == NeedStatus.RESOLVED
    result = app.test_cli_runner().invoke(args=["portal", "close-stale"])
    assert result.exit_code == 0 and "Closed 0" in result.output
