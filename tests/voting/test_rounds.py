"""Priority rounds: dot voting with N votes, results and turnout."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.voting import services
from portal.voting.models import PriorityRound, RoundBallot, RoundVote
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def make_round(n_items=4, votes=2, *, starts=-1, ends=1, live=False) -> PriorityRound:
    needs = [make_need(NeedStatus.OPEN, title=f"Shortlisted {i}")[0] for i in range(n_items)]
    now = utcnow()
    round_ = services.create_round(
        title="Community priorities",
        description="Pick what matters.",
        needs=needs,
        votes_per_member=votes,
        starts_at=now + timedelta(days=starts),
        ends_at=now + timedelta(days=ends),
        show_live_counts=live,
        actor=make_user(Role.ADMIN),
    )
    db.session.commit()
    return round_


def _vote(client, round_, item, action="add", htmx=False):
    token = csrf_token_from(client.get(f"/rounds/{round_.id}").get_data(as_text=True))
    return client.post(
        f"/rounds/{round_.id}/vote",
        data={"csrf_token": token, "item": str(item.id), "action": action},
        headers={"HX-Request": "true"} if htmx else {},
    )


def _my_votes(user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RoundVote.id)).where(RoundVote.user_id == user.id)
    )


def test_a_member_gives_up_to_n_votes_one_per_need(client, login):
    round_ = make_round(n_items=4, votes=2)
    member = login(make_user())
    db.session.commit()
    items = round_.items
    assert _vote(client, round_, items[0]).status_code == 303
    _vote(client, round_, items[0])  # the same need again: refused
    assert _my_votes(member) == 1
    _vote(client, round_, items[1])
    _vote(client, round_, items[2])  # a third vote with N = 2: refused
    assert _my_votes(member) == 2
    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "You have 0 votes left." in page
    ballot = db.session.scalar(sa.select(RoundBallot).where(RoundBallot.user_id == member.id))
    assert ballot.votes_used == 2

    _vote(client, round_, items[0], action="remove")
    db.session.expire_all()
    assert _my_votes(member) == 1
    assert db.session.get(RoundBallot, ballot.id).votes_used == 1
    _vote(client, round_, items[3])
    assert _my_votes(member) == 2


def test_the_service_refuses_votes_beyond_the_limit(app):
    round_ = make_round(n_items=3, votes=1)
    member = make_user()
    db.session.commit()
    services.cast_vote(round_, round_.items[0], member)
    db.session.commit()
    from flask_babel import force_locale

    with force_locale("en"), pytest.raises(services.VotingError, match="used all"):
        services.cast_vote(round_, round_.items[1], member)
    db.session.rollback()
    db.session.expire_all()
    assert _my_votes(member) == 1
    assert sum(i.vote_count for i in db.session.get(PriorityRound, round_.id).items) == 1


def test_htmx_vote_swaps_the_ballot(client, login):
    round_ = make_round(live=True)
    login(make_user())
    db.session.commit()
    response = _vote(client, round_, round_.items[1], htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="ballot"')
    assert "You have 1 vote left." in html and "Your vote" in html
    assert "1 vote" in html  # live counts are on for this round


def test_live_counts_are_hidden_unless_the_round_shows_them(client, login):
    round_ = make_round(live=False)
    login(make_user())
    db.session.commit()
    html = _vote(client, round_, round_.items[0], htmx=True).get_data(as_text=True)
    assert "1 vote<" not in html and "votes<" not in html


def test_voting_before_the_start_or_after_the_end_is_refused(client, login):
    future = make_round(starts=1, ends=2)
    past = make_round(starts=-3, ends=-1)
    member = login(make_user())
    db.session.commit()
    assert client.get(f"/rounds/{future.id}").status_code == 404  # not public before the start
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    client.post(f"/rounds/{past.id}/vote", data={"csrf_token": token, "item": past.items[0].id})
    assert _my_votes(member) == 0


def test_results_rank_the_shortlist_and_show_turnout(client, app):
    round_ = make_round(n_items=3, votes=2, starts=-2, ends=1)
    voters = [make_user() for _ in range(3)]
    others = [make_user(), make_user(verified=False), make_user(Role.ADMIN)]
    # Eligible: the members with a confirmed address, registered before the end;
    # not the unverified account nor the admin.
    for user in voters + others:
        user.created_at = utcnow() - timedelta(days=3)
    make_user()  # registered after the round ended: not eligible either
    db.session.commit()
    a, b, c = round_.items
    for user, picks in zip(voters, [(b, c), (b,), (b, a)], strict=True):
        for item in picks:
            services.cast_vote(round_, item, user)
    db.session.commit()
    round_.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "Results" in page
    assert page.index("Shortlisted 1") < page.index("Shortlisted 0")
    assert "3 votes" in page
    assert "Turnout: 3 of 4 members voted (75.0%)." in page
    assert "Vote for this need" not in page


def test_only_admins_create_rounds(client, login):
    login(make_user())
    db.session.commit()
    assert client.get("/admin/rounds").status_code == 403


def test_an_admin_creates_a_round_from_references(client, login):
    needs = [make_need(NeedStatus.OPEN, title=f"Candidate {i}")[0] for i in range(3)]
    hidden, _ = make_need(NeedStatus.SUBMITTED)
    login(make_user(Role.ADMIN))
    db.session.commit()
    token = csrf_token_from(client.get("/admin/rounds").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "title": "Spring vote",
        "description": "",
        "shortlist": "\n".join(n.ref for n in needs),
        "votes_per_member": "2",
        "starts_at": "2026-01-01T09:00",
        "ends_at": "2026-01-15T18:00",
    }
    bad = client.post("/admin/rounds", data=dict(data, shortlist=needs[0].ref + "\n" + hidden.ref))
    assert bad.status_code == 422
    assert "not published needs" in bad.get_data(as_text=True)
    inverted = client.post("/admin/rounds", data=dict(data, ends_at="2025-12-01T09:00"))
    assert "The round must end after it starts." in inverted.get_data(as_text=True)
    garbage = client.post("/admin/rounds", data=dict(data, starts_at="yesterday"))
    assert "Please give a date and time." in garbage.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PriorityRound.id))) == 0

    response = client.post("/admin/rounds", data=data)
    assert response.status_code == 303
    round_ = db.session.scalar(sa.select(PriorityRound))
    assert [i.need_id for i in round_.items] == [n.id for n in needs]
    assert round_.starts_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "round.create"))
    assert entry.object_id == str(round_.id) and entry.actor_role == "admin"
    assert entry.after["needs"] == " ".join(n.ref for n in needs)
    assert entry.after["title"] == "Spring vote"


def test_round_page_runs_a_constant_number_of_queries(client, login, queries):
    small = make_round(n_items=3)
    large = make_round(n_items=30)
    login(make_user())
    db.session.commit()
    with queries() as few:
        client.get(f"/rounds/{small.id}")
    with queries() as many:
        client.get(f"/rounds/{large.id}")
    assert len(few) == len(many)


@pytest.mark.parametrize("role", [Role.PARTNER, Role.ADMIN])
def test_staff_act_for_their_organisation_and_do_not_vote(client, login, role):
    round_ = make_round(n_items=3, votes=2)
    staff = login(make_user(role))
    db.session.commit()
    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "they do not support needs or vote" in page
    assert "Vote for this need" not in page
    assert _vote(client, round_, round_.items[0]).status_code == 403
    assert _my_votes(staff) == 0
    with pytest.raises(services.VotingError):
        services.cast_vote(round_, round_.items[0], staff)
