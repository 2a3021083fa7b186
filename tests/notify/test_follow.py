"""Following needs: in-app updates, immediate e-mails and the daily digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Delivery, Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.notify import services
from portal.notify.models import DigestRun, Follow, OutboxEmail
from portal.workflow.services import Actor, transition
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _mails_to(user) -> list[OutboxEmail]:
    return list(
        db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == user.email))
    )


def test_follow_and_unfollow_from_the_need_page(client, login):
    need, _ = make_need(NeedStatus.OPEN)
    member = login(make_user())
    db.session.commit()
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    token = csrf_token_from(page)
    response = client.post(f"/needs/{need.ref}/follow", data={"csrf_token": token})
    assert response.status_code == 303
    client.post(f"/needs/{need.ref}/follow", data={"csrf_token": token})
    count = db.session.scalar(
        sa.select(sa.func.count(Follow.id)).where(Follow.user_id == member.id)
    )
    assert count == 1
    htmx = client.post(
        f"/needs/{need.ref}/follow",
        data={"csrf_token": token, "action": "remove"},
        headers={"HX-Request": "true"},
    )
    assert "Follow this need" in htmx.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Follow.id))) == 0


def test_followers_hear_of_status_changes_as_they_chose(app):
    need, _ = make_need(NeedStatus.OPEN)
    at_once = make_user()
    at_once.notify_followed = Delivery.IMMEDIATE
    daily = make_user()  # the default for followed needs: the daily digest
    silent = make_user()
    silent.notify_followed = Delivery.OFF
    for user in (at_once, daily, silent):
        services.follow(need, user)
    db.session.commit()

    transition(
        need,
        "route",
        Actor.staff(make_user(Role.ADMIN)),
        organisation=need.category.default_partner or _org(),
    )
    db.session.commit()

    assert len(_mails_to(at_once)) == 1
    assert need.title in _mails_to(at_once)[0].subject
    assert _mails_to(daily) == [] and _mails_to(silent) == []
    # In-app, every follower sees the update.
    for user in (at_once, daily, silent):
        assert [e.move for e in services.updates_for(user)] == ["route"]


def _org():
    from tests.factories import make_organisation

    return make_organisation()


def test_the_submitter_follows_their_own_need_and_hears_at_once(client, login):
    from tests.factories import make_category

    category = make_category()
    member = login(make_user())
    db.session.commit()
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    client.post(
        "/needs/new",
        data={
            "csrf_token": token,
            "idempotency_key": "a" * 32,
            "title": "My own need",
            "body": "Something to fix, please.",
            "category": str(category.id),
            "consent": "y",
        },
    )
    from portal.needs.models import Need

    need = db.session.scalar(sa.select(Need))
    assert need.submitter_id == member.id
    assert services.is_following(need, member)
    transition(need, "publish", Actor.staff(make_user(Role.ADMIN)))
    db.session.commit()
    assert len(_mails_to(member)) == 1  # notify_own defaults to immediate
    page = client.get("/me").get_data(as_text=True)
    assert "My own need" in page and "Published" in page


def test_the_daily_digest_is_one_mail_per_member_per_day(app):
    needs = [make_need(NeedStatus.OPEN, title=f"Digest need {i}")[0] for i in range(2)]
    reader = make_user()
    for need in needs:
        services.follow(need, reader)
    db.session.commit()
    admin = make_user(Role.ADMIN)
    for need in needs:
        transition(need, "route", Actor.staff(admin), organisation=_org())
    db.session.commit()

    assert services.send_digests() == 1
    assert services.send_digests() == 0  # safe to run again the same day
    mails = _mails_to(reader)
    assert len(mails) == 1
    assert "Digest need 0" in mails[0].body_text and "Digest need 1" in mails[0].body_text
    assert db.session.scalar(sa.select(sa.func.count(DigestRun.id))) == 1

    # The next day, only what is new since the last digest.
    tomorrow = utcnow() + timedelta(days=1)
    assert services.send_digests(now=tomorrow) == 0


def test_digest_command_runs(app):
    result = app.test_cli_runner().invoke(args=["portal", "send-digests"])
    assert result.exit_code == 0, result.output
    assert "0" in result.output
