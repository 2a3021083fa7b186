"""Every workflow move of the admin pages goes through one view, reached at
/admin/needs/<ref>/moves/<move> and at the established per-move URLs."""

from __future__ import annotations

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user


def _status(need) -> NeedStatus:
    db.session.expire_all()
    return db.session.get(Need, need.id).status


def test_the_admin_moves_share_one_view(app, client, login):
    need, _ = make_need(NeedStatus.SUBMITTED)
    login(make_user(Role.ADMIN))
    db.session.commit()
    token = csrf_token_from(client.get(f"/admin/needs/{need.ref}").get_data(as_text=True))
    generic = f"/admin/needs/{need.ref}/moves/publish"
    response = client.post(generic, data={"csrf_token": token})
    assert response.status_code == 308  # to the established URL, method and form kept
    assert response.headers["Location"].endswith(f"/admin/needs/{need.ref}/publish")
    followed = client.post(generic, data={"csrf_token": token}, follow_redirects=True)
    assert followed.status_code == 200 and _status(need) == NeedStatus.OPEN

    closed = client.post(
        f"/admin/needs/{need.ref}/close", data={"csrf_token": token, "reason": "Out of reach."}
    )
    assert closed.status_code == 303 and _status(need) == NeedStatus.CLOSED
    moves = {r.rule for r in app.url_map.iter_rules() if r.endpoint == "triage.move"}
    assert "/admin/needs/<ref>/moves/<move>" in moves and "/admin/needs/<ref>/close" in moves


def test_moves_admins_do_not_make_here_are_not_found(client, login):
    need, _ = make_need(NeedStatus.ROUTED)
    login(make_user(Role.ADMIN))
    db.session.commit()
    token = csrf_token_from(client.get(f"/admin/needs/{need.ref}").get_data(as_text=True))
    for move in ("accept", "resolve", "withdraw", "submit", "nonsense"):
        response = client.post(f"/admin/needs/{need.ref}/moves/{move}", data={"csrf_token": token})
        assert response.status_code == 404, move
    assert _status(need) == NeedStatus.ROUTED
