"""Marker personal data of submitters never appears in any Open311 answer."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need
from portal.workflow.services import Actor, transition
from tests.factories import make_organisation, make_user
from tests.open311.conftest import API, make_lights_category

MARKERS = {
    "email": "marker.person@example.org",
    "first_name": "Zhangmarker",
    "last_name": "Lastmarker",
    "phone": "+86 139 0000 7777",
    "device_id": "device-marker-77",
    "account_id": "account-marker-77",
    "media_url": "https://example.org/private-marker.jpg",
}


def test_no_personal_data_in_any_answer(client, api_key):
    make_lights_category()
    db.session.commit()
    data = {
        "api_key": api_key,
        "service_code": "lights",
        # The exact point is kept for staff; every answer rounds it to 100 m.
        "lat": "31.2304567",
        "long": "121.4737891",
        "description": "A public description of the problem.",
        "attribute[kind]": "dark",
        **MARKERS,
    }
    reply = client.post(f"{API}/requests.json", data=data).get_json()
    token = reply[0]["token"]
    need = db.session.scalars(sa.select(Need)).one()
    admin = make_user(Role.ADMIN)
    partner = make_organisation()
    transition(need, "publish", Actor.staff(admin))
    transition(need, "route", Actor.staff(admin), organisation=partner)
    db.session.commit()
    assert need.contact.email == MARKERS["email"]  # stored, privately
    assert (need.lat, need.lon) == (31.2304567, 121.4737891)

    paths = [
        "discovery",
        "services",
        "services/lights",
        "requests",
        f"requests/{need.ref}",
        f"requests?service_request_id={need.ref}",
        f"tokens/{token}",
    ]
    for path in paths:
        base, _, query = path.partition("?")
        for fmt in ("json", "xml"):
            url = f"{API}/{base}.{fmt}" + (f"?{query}" if query else "")
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert need.ref in body or "requests" not in path
            for name, marker in MARKERS.items():
                assert marker not in body, (url, name)
            assert "marker" not in body.lower(), url
            assert "304567" not in body and "737891" not in body, url
            if "requests" in path:
                assert "31.23" in body and "121.474" in body, url
