"""Supporting needs and the priorities ranking."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.voting.models import Support
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_need, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _support(client, need, action="add", htmx=False):
    token = csrf_token_from(client.get(f"/needs/{need.ref}").get_data(as_text=True))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/needs/{need.ref}/support", data={"csrf_token": token, "action": action}, headers=headers
    )


def _count(need) -> int:
    db.session.expire_all()
    return db.session.get(Need, need.id).support_count


def test_a_member_supports_once_and_withdraws(client, login):
    need, _ = make_need(NeedStatus.OPEN)
    member = login(make_user())
    db.session.commit()

    response = _support(client, need)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/needs/{need.ref}#support")
    assert _count(need) == 1
    _support(client, need)  # again: no second support
    assert _count(need) == 1
    assert db.session.scalar(sa.select(sa.func.count(Support.id))) == 1
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "withdraw my support" in page

    _support(client, need, action="remove")
    assert _count(need) == 0
    _support(client, need, action="remove")
    assert _count(need) == 0
    assert member.id


def test_htmx_support_swaps_the_button_and_count(client, login):
    need, _ = make_need(NeedStatus.OPEN)
    login(make_user())
    db.session.commit()
    response = _support(client, need, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="support" id="support">')
    assert "<strong>1</strong>" in html and 'aria-pressed="true"' in html


def test_the_database_refuses_a_second_support_row(app):
    need, _ = make_need(NeedStatus.OPEN)
    user = make_user()
    db.session.add(Support(user_id=user.id, need_id=need.id))
    db.session.commit()
    db.session.add(Support(user_id=user.id, need_id=need.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_anonymous_visitors_see_the_count_and_a_login_prompt(client):
    need, _ = make_need(NeedStatus.OPEN)
    db.session.commit()
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Log in to support this need" in page
    response = client.post(f"/needs/{need.ref}/support", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert _count(need) == 0


@pytest.mark.parametrize("role", [Role.PARTNER, Role.ADMIN])
def test_staff_do_not_support_needs(client, login, role):
    need, _ = make_need(NeedStatus.OPEN)
    login(make_user(role))
    db.session.commit()
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "they do not support needs or vote" in page
    assert "Support this need" not in page
    assert _support(client, need).status_code == 403
    assert _count(need) == 0
    assert db.session.scalar(sa.select(sa.func.count(Support.id))) == 0


def test_unverified_members_cannot_support(client, login):
    need, _ = make_need(NeedStatus.OPEN)
    login(make_user(verified=False))
    db.session.commit()
    assert _support(client, need).status_code == 403
    assert _count(need) == 0


@pytest.mark.parametrize(
    "status", [NeedStatus.SUBMITTED, NeedStatus.REJECTED, NeedStatus.WITHDRAWN]
)
def test_unpublished_needs_cannot_be_supported(client, login, status):
    need, _ = make_need(status)
    login(make_user())
    db.session.commit()
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    response = client.post(f"/needs/{need.ref}/support", data={"csrf_token": token})
    assert response.status_code == 404
    assert _count(need) == 0


def test_closed_needs_cannot_get_new_support(client, login):
    need, _ = make_need(NeedStatus.CLOSED)
    login(make_user())
    db.session.commit()
    _support(client, need)
    assert _count(need) == 0


def test_priorities_rank_by_support_with_the_weekly_trend(client):
    category = make_category()
    other = make_category()
    low, _ = make_need(NeedStatus.OPEN, category=category, title="Low need")
    high, _ = make_need(NeedStatus.IN_PROGRESS, category=category, title="High need")
    done, _ = make_need(NeedStatus.RESOLVED, category=category, title="Resolved need")
    elsewhere, _ = make_need(NeedStatus.OPEN, category=other, title="Other category need")
    users = [make_user() for _ in range(3)]
    from portal.voting.services import support_need

    for user in users:
        support_need(high, user)
    support_need(low, users[0])
    old = db.session.scalar(sa.select(Support).where(Support.need_id == high.id).limit(1))
    old.created_at = utcnow() - timedelta(days=10)
    db.session.commit()

    page = client.get("/priorities").get_data(as_text=True)
    assert page.index("High need") < page.index("Low need")
    assert "Resolved need" not in page
    assert "3 supports" in page and "+2 in the last 7 days" in page
    filtered = client.get(f"/priorities?category={other.id}").get_data(as_text=True)
    assert "Other category need" in filtered and "High need" not in filtered
    assert elsewhere.id and done.id


def test_priorities_run_a_constant_number_of_queries(client, queries):
    category = make_category()
    for i in range(5):
        make_need(NeedStatus.OPEN, category=category, title=f"P{i}")
    db.session.commit()
    with queries() as few:
        client.get("/priorities")
    for i in range(40):
        make_need(NeedStatus.OPEN, category=category, title=f"Q{i}")
    db.session.commit()
    with queries() as many:
        client.get("/priorities")
    assert len(few) == len(many) <= 5


def test_page_numbers_are_bounded(client):
    assert client.get("/priorities?page=99999").status_code == 200
