"""The admin places, moves or removes a need's pin on its admin page: saved
with an audit row of both points (not on the public timeline), refused with
the error next to the field and nothing saved when wrong."""

from __future__ import annotations

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.workflow.models import TimelineEvent
from tests.factories import make_need
from tests.forms import form_for


def _fresh(need) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need.id)


def _audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "need.position_corrected")
        )
    )


def _position_form(client, need) -> dict:
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    return form_for(page, f"/admin/needs/{need.ref}/position")


def test_the_admin_places_a_pin_read_from_the_page(client, admin):
    need, _ = make_need(NeedStatus.SUBMITTED)
    db.session.commit()
    events = db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEvent))
    form = _position_form(client, need)
    assert form["fields"]["lat"] == form["fields"]["lon"] == ""
    response = client.post(form["action"], data={**form["fields"], "lat": "39.9", "lon": "116.4"})
    assert response.status_code == 303
    assert (_fresh(need).lat, _fresh(need).lon) == (39.9, 116.4)
    (entry,) = _audit()
    assert entry.actor_id == admin.id and entry.object_id == need.ref
    assert entry.before == {"lat": None, "lon": None}
    assert entry.after == {"lat": 39.9, "lon": 116.4}
    # Nothing on the timeline, which is public.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEvent)) == events
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "Position saved." in page


def test_the_admin_moves_and_removes_the_pin_with_htmx(client, admin, post):
    need, _ = make_need(NeedStatus.OPEN)
    need.lat, need.lon = 39.9, 116.4
    db.session.commit()
    url = f"/admin/needs/{need.ref}/position"
    response = post(url, {"lat": "39.91", "lon": "116.41"}, htmx=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<div id="need-admin">' in page and "Position saved." in page
    assert 'Exact position: <span class="point-text">39.91, 116.41</span>' in page
    response = post(url, {"lat": "", "lon": ""}, htmx=True)
    assert "Position removed." in response.get_data(as_text=True)
    assert (_fresh(need).lat, _fresh(need).lon) == (None, None)
    assert [e.after for e in _audit()] == [
        {"lat": 39.91, "lon": 116.41},
        {"lat": None, "lon": None},
    ]


def test_a_wrong_position_is_refused_next_to_the_field(client, admin, post):
    need, _ = make_need(NeedStatus.OPEN)
    need.lat, need.lon = 39.9, 116.4
    db.session.commit()
    url = f"/admin/needs/{need.ref}/position"
    for data, message in [
        ({"lat": "39.95", "lon": "200"}, "The longitude must be a number from -180 to 180."),
        ({"lat": "39.95", "lon": ""}, "Please give both the latitude and the longitude"),
        ({"lat": "39.9", "lon": "116.4"}, "The position is unchanged."),
    ]:
        response = post(url, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert "Nothing was changed." in page and message in page, data
        assert f'value="{data["lat"]}"' in page  # what was typed stays
        assert '<details class="coordinates" open>' in page
    assert (_fresh(need).lat, _fresh(need).lon) == (39.9, 116.4)
    assert _audit() == []


def test_a_closed_need_keeps_its_point_and_offers_no_form(client, admin, post):
    need, _ = make_need(NeedStatus.CLOSED)
    need.lat, need.lon = 39.9, 116.4
    db.session.commit()
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert 'Exact position: <span class="point-text">39.9, 116.4</span>' in page
    assert f'action="/admin/needs/{need.ref}/position"' not in page
    response = post(f"/admin/needs/{need.ref}/position", {"lat": "1", "lon": "1"})
    assert response.status_code == 422
    assert "This need can no longer be edited." in response.get_data(as_text=True)
    assert (_fresh(need).lat, _fresh(need).lon) == (39.9, 116.4)
