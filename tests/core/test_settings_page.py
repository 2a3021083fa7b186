"""The portal settings page (/admin/settings)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.core.models import Setting
from portal.core.settings import ESCALATE_AFTER_DAYS, ROUTE_ON_PUBLISH, get_flag, get_int
from portal.extensions import db
from tests.conftest import audit_rows


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def test_settings_are_saved_within_range_and_audited(client, admin, post):
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="3"' in page
    response = post("/admin/settings", {"route_on_publish": "y", "escalate_after_days": "5"})
    assert response.status_code == 303
    db.session.expire_all()
    assert get_flag(ROUTE_ON_PUBLISH) is True
    assert get_int(ESCALATE_AFTER_DAYS) == 5
    rows = audit_rows("setting.change")
    assert [(r.before, r.after) for r in rows] == [
        ({ROUTE_ON_PUBLISH: "0"}, {ROUTE_ON_PUBLISH: "1"}),
        ({ESCALATE_AFTER_DAYS: "3"}, {ESCALATE_AFTER_DAYS: "5"}),
    ]
    # The same values again: no change, no audit row.
    post("/admin/settings", {"route_on_publish": "y", "escalate_after_days": "5"})
    assert len(audit_rows("setting.change")) == 2
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="5"' in page and "checked" in page


def test_settings_out_of_range_are_refused(client, admin, post):
    for value, message in [
        ("0", "Between 1 and 30 days."),
        ("31", "Between 1 and 30 days."),
        ("", "Please give a number of days."),
        ("soon", "Please give a whole number."),
    ]:
        response = post("/admin/settings", {"route_on_publish": "y", "escalate_after_days": value})
        assert response.status_code == 422, value
        assert message in response.get_data(as_text=True), value
    db.session.expire_all()
    assert db.session.scalars(sa.select(Setting)).all() == []
    assert audit_rows() == []
