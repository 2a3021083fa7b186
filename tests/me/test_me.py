"""The member's own page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import Delivery, Role, User
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.voting import services as voting
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def test_me_lists_supports_votes_and_follows(client, login):
    supported, _ = make_need(NeedStatus.OPEN, title="Supported need")
    shortlisted = [make_need(NeedStatus.OPEN, title=f"Round need {i}")[0] for i in range(2)]
    member = make_user()
    round_ = voting.create_round(
        title="Spring round",
        description="",
        needs=shortlisted,
        votes_per_member=1,
        starts_at=utcnow() - timedelta(days=1),
        ends_at=utcnow() + timedelta(days=1),
        show_live_counts=False,
        actor=make_user(Role.ADMIN),
    )
    voting.support_need(supported, member)
    voting.cast_vote(round_, round_.items[1], member)
    db.session.commit()
    login(member)
    page = client.get("/me").get_data(as_text=True)
    supports = page[page.index('id="supports"') : page.index('id="votes"')]
    votes = page[page.index('id="votes"') : page.index('id="follows"')]
    assert "Supported need" in supports
    assert "Spring round" in votes and "Round need 1" in votes and "Round need 0" not in votes


def test_notification_settings_are_saved_and_validated(client, login):
    member = login(make_user())
    db.session.commit()
    token = csrf_token_from(client.get("/me").get_data(as_text=True))
    response = client.post(
        "/me/notifications",
        data={"csrf_token": token, "notify_own": "daily", "notify_followed": "off"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(User, member.id)
    assert saved.notify_own == Delivery.DAILY and saved.notify_followed == Delivery.OFF
    bad = client.post(
        "/me/notifications",
        data={"csrf_token": token, "notify_own": "hourly", "notify_followed": "off"},
    )
    assert bad.status_code == 422
    assert "Please choose an option." in bad.get_data(as_text=True)


def test_me_runs_a_constant_number_of_queries(client, login, queries):
    member = make_user()
    db.session.commit()
    login(member)
    with queries() as empty:
        client.get("/me")
    for i in range(10):
        need, _ = make_need(NeedStatus.OPEN, title=f"N{i}")
        voting.support_need(need, member)
    db.session.commit()
    with queries() as full:
        client.get("/me")
    assert len(empty) == len(full)
