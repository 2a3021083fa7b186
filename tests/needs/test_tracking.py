"""The private tracking link: it opens its own need and nothing else."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from tests.conftest import csrf_token_from
from tests.factories import make_need


def test_the_token_opens_its_need_even_before_publication(client):
    need, token = make_need(NeedStatus.SUBMITTED, title="My private need")
    db.session.commit()
    response = client.get(f"/track/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "My private need" in page and need.ref in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_token_opens_only_its_own_need(client):
    first, first_token = make_need(NeedStatus.SUBMITTED, title="First need")
    second, second_token = make_need(NeedStatus.SUBMITTED, title="Second need")
    db.session.commit()
    page = client.get(f"/track/{first_token}").get_data(as_text=True)
    assert "First need" in page and "Second need" not in page
    assert first_token != second_token


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.upper(),
        lambda t: "x" * 500,
    ],
)
def test_a_wrong_token_is_404(client, mangle):
    _, token = make_need(NeedStatus.SUBMITTED)
    db.session.commit()
    assert client.get(f"/track/{mangle(token)}").status_code == 404


def test_the_reference_is_not_a_tracking_token(client):
    need, _ = make_need(NeedStatus.SUBMITTED)
    db.session.commit()
    assert client.get(f"/track/{need.ref}").status_code == 404


def test_tokens_are_long_random_and_stored_only_as_a_hash(app):
    tokens = [make_need(NeedStatus.SUBMITTED)[1] for _ in range(20)]
    assert len(set(tokens)) == 20
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits
    # No structure shared between tokens: characters spread like random ones.
    counts = Counter("".join(tokens))
    entropy = -sum(
        c / sum(counts.values()) * math.log2(c / sum(counts.values())) for c in counts.values()
    )
    assert entropy > 5.5
    stored = db.session.scalars(db.select(Need.tracking_token_hash)).all()
    assert not set(tokens) & set(stored)


def test_the_submitter_withdraws_through_the_link(client):
    need, token = make_need(NeedStatus.OPEN, title="Withdraw me")
    db.session.commit()
    page = client.get(f"/track/{token}").get_data(as_text=True)
    response = client.post(f"/track/{token}/withdraw", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == NeedStatus.WITHDRAWN
    assert client.get(f"/needs/{need.ref}").status_code == 404
    client.set_cookie("locale", "en")
    after = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Withdrawn" in after and "Withdraw my need" not in after


def test_withdraw_is_refused_once_closed(client):
    need, token = make_need(NeedStatus.CLOSED)
    db.session.commit()
    client.set_cookie("locale", "en")
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Withdraw my need" not in page
    client.post(f"/track/{token}/withdraw", data={"csrf_token": csrf_token_from(page)})
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == NeedStatus.CLOSED


def test_withdraw_without_csrf_token_is_refused(client):
    need, token = make_need(NeedStatus.OPEN)
    db.session.commit()
    response = client.post(f"/track/{token}/withdraw", data={})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == NeedStatus.OPEN
