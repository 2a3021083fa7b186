"""Every workflow move of the partner workspace goes through one endpoint,
/partner/needs/<ref>/moves/<move>; the older per-move URLs lead to it too."""

from __future__ import annotations

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_organisation, make_user


def _staff_on_a_routed_need(login):
    partner = make_organisation()
    need, _ = make_need(NeedStatus.ROUTED, partner=partner)
    login(make_user(Role.PARTNER, partner))
    db.session.commit()
    return need


def _status(need) -> NeedStatus:
    db.session.expire_all()
    return db.session.get(Need, need.id).status


def test_a_move_by_the_generic_endpoint(client, login):
    need = _staff_on_a_routed_need(login)
    token = csrf_token_from(client.get(f"/partner/needs/{need.ref}").get_data(as_text=True))
    generic = f"/partner/needs/{need.ref}/moves/accept"
    # The established URL of the move is the canonical one: 308, method and form kept.
    response = client.post(generic, data={"csrf_token": token})
    assert response.status_code == 308
    assert response.headers["Location"].endswith(f"/partner/needs/{need.ref}/accept")
    followed = client.post(generic, data={"csrf_token": token}, follow_redirects=True)
    assert followed.status_code == 200 and _status(need) == NeedStatus.ACCEPTED
    start = client.post(f"/partner/needs/{need.ref}/start", data={"csrf_token": token})
    assert start.status_code == 303 and _status(need) == NeedStatus.IN_PROGRESS


def test_moves_partners_do_not_make_are_not_found(client, login):
    need = _staff_on_a_routed_need(login)
    token = csrf_token_from(client.get(f"/partner/needs/{need.ref}").get_data(as_text=True))
    for move in ("publish", "route", "withdraw", "close", "nonsense"):
        response = client.post(
            f"/partner/needs/{need.ref}/moves/{move}", data={"csrf_token": token}
        )
        assert response.status_code == 404, move
    assert _status(need) == NeedStatus.ROUTED


def test_the_page_posts_each_move_to_the_one_view(app, client, login):
    need = _staff_on_a_routed_need(login)
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    for move in ("accept", "decline"):
        assert f'action="/partner/needs/{need.ref}/{move}"' in page
    moves = {r.rule for r in app.url_map.iter_rules() if r.endpoint == "partner.move"}
    assert "/partner/needs/<ref>/moves/<move>" in moves and "/partner/needs/<ref>/accept" in moves
