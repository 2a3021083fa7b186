"""Quality checks: random samples of resolved needs and their outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.audit.models import QualityCheck
from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.workdays.services import local_zone
from portal.workflow.services import Actor, transition
from tests.conftest import audit_rows
from tests.factories import make_need, make_user


def _today() -> str:
    return utcnow().astimezone(local_zone()).date().isoformat()


def _range(days_back: int = 7) -> dict:
    today = utcnow().astimezone(local_zone()).date()
    return {
        "date_from": (today - timedelta(days=days_back)).isoformat(),
        "date_to": today.isoformat(),
    }


def _checks() -> list[QualityCheck]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(QualityCheck).order_by(QualityCheck.id)))


def _world() -> set[int]:
    """Two eligible needs and four that must never be drawn; returns the eligible ids."""
    resolved, _ = make_need(NeedStatus.RESOLVED)
    closed, _ = make_need(NeedStatus.CLOSED)
    make_need(NeedStatus.IN_PROGRESS)
    unresolved, _ = make_need(NeedStatus.IN_PROGRESS)
    transition(
        unresolved, "close_unresolved", Actor.staff(make_user(Role.ADMIN)), text="Out of our power."
    )
    old, _ = make_need(NeedStatus.RESOLVED)
    old.resolved_at = datetime(2020, 1, 1, tzinfo=UTC)
    make_need(NeedStatus.OPEN)
    db.session.commit()
    return {resolved.id, closed.id}


def test_a_sample_draws_only_eligible_needs_once(client, admin, post):
    eligible = _world()
    response = post("/admin/checks", {"size": "50", **_range()})
    assert response.status_code == 303
    checks = _checks()
    assert response.headers["Location"].endswith(f"/admin/checks?sample={checks[0].sample}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count('class="card check-row"') == 2
    assert {c.need_id for c in checks} == eligible
    assert len({c.sample for c in checks}) == 1
    assert all(c.drawn_by_id == admin.id and c.outcome == "" for c in checks)
    [row] = audit_rows("quality_check.draw")
    assert row.object_type == "quality_checks" and row.object_id == checks[0].sample
    assert row.after["size"] == 2

    # Nothing left to draw in that period: refused, nothing saved.
    response = post("/admin/checks", {"size": "5", **_range()})
    assert response.status_code == 422
    assert "No resolved need from this period is left to check." in response.get_data(as_text=True)
    assert len(_checks()) == 2
    assert len(audit_rows("quality_check.draw")) == 1


def test_small_samples_never_draw_the_same_need_twice(client, admin, post):
    needs = {make_need(NeedStatus.RESOLVED)[0].id for _ in range(5)}
    db.session.commit()
    for size in ("2", "2", "2"):
        assert post("/admin/checks", {"size": size, **_range()}).status_code == 303
    checks = _checks()
    assert len(checks) == 5
    assert {c.need_id for c in checks} == needs
    assert len({c.sample for c in checks}) == 3
    assert post("/admin/checks", {"size": "1", **_range()}).status_code == 422


def test_bad_sample_requests_are_refused(client, admin, post):
    _world()
    for data, message in [
        ({"size": "0", **_range()}, "Between 1 and 50 needs."),
        ({"size": "51", **_range()}, "Between 1 and 50 needs."),
        (
            {"size": "3", "date_from": _today(), "date_to": "2020-01-01"},
            "The end date must not be before the start date.",
        ),
        ({"size": "3", "date_from": "", "date_to": _today()}, "Please give a start date."),
    ]:
        response = post("/admin/checks", data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    assert _checks() == []
    assert audit_rows("quality_check.draw") == []


def test_an_admin_records_the_outcome_of_a_check(client, admin, post):
    need, _ = make_need(NeedStatus.RESOLVED, title="Broken bench in the park")
    db.session.commit()
    post("/admin/checks", {"size": "1", **_range()})
    [check] = _checks()
    page = client.get("/admin/checks").get_data(as_text=True)
    assert "Broken bench in the park" in page and need.ref in page
    assert "0 of 1 checked" in page

    response = post(f"/admin/checks/{check.id}", {"outcome": "maybe", "notes": "?"})
    assert response.status_code == 422
    assert "Please choose an outcome." in response.get_data(as_text=True)
    assert _checks()[0].outcome == ""

    response = post(
        f"/admin/checks/{check.id}",
        {"outcome": "not_confirmed", "notes": "The submitter says the bench is still broken."},
    )
    assert response.status_code == 303
    [check] = _checks()
    assert check.outcome == "not_confirmed"
    assert check.checked_by_id == admin.id and check.checked_at is not None
    page = client.get("/admin/checks").get_data(as_text=True)
    assert "Not confirmed" in page and "1 of 1 checked" in page

    response = post(
        f"/admin/checks/{check.id}",
        {"outcome": "confirmed", "notes": "Fixed after all."},
        htmx=True,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="card check-row" id="check-{check.id}"')
    assert "The outcome is recorded." in html
    rows = audit_rows("quality_check.record")
    assert [(r.before.get("outcome"), r.after.get("outcome")) for r in rows] == [
        ("", "not_confirmed"),
        ("not_confirmed", "confirmed"),
    ]
    assert rows[1].after["notes"] == "Fixed after all."
    assert post("/admin/checks/99999", {"outcome": "confirmed"}).status_code == 404


def test_the_checks_page_is_constant_in_queries(client, admin, post, queries):
    for _ in range(3):
        make_need(NeedStatus.RESOLVED)
    db.session.commit()
    post("/admin/checks", {"size": "1", **_range()})
    with queries() as small:
        assert client.get("/admin/checks").status_code == 200
    post("/admin/checks", {"size": "2", **_range()})
    with queries() as large:
        page = client.get("/admin/checks").get_data(as_text=True)
    assert len(large) == len(small)
    assert page.count('class="card check-row"') == 3
