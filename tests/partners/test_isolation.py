"""Partner A cannot see, list, search or act on partner B's needs by any URL."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.partners.conftest import snapshot

ACTIONS = {
    "accept": {},
    "decline": {"decline-reason": "Not ours."},
    "decline-transfer": {"decline-transfer-reason": "Not ours."},
    "start": {},
    "updates": {"update-text": "Update."},
    "resolve": {"resolve-text": "Answer."},
    "notes": {"note-text": "Note."},
    "extension": {"extension-new_due": "2099-12-31", "extension-reason": "Time."},
    "transfer": {"transfer-organisation": "1", "transfer-reason": "Other."},
}


@pytest.fixture
def two_partners(make_partner, routed):
    a = make_partner(name_en="Partner Alpha")
    b = make_partner(name_en="Partner Beta")
    need_a, _ = routed(a, title="Alpha leaking roof")
    need_b, _ = routed(b, title="Beta broken bench")
    accepted_b, _ = routed(b, status=NeedStatus.IN_PROGRESS, title="Beta dark stairwell")
    db.session.commit()
    return a, b, need_a, [need_b, accepted_b]


def test_a_partner_lists_and_searches_only_its_own_needs(client, login, two_partners):
    a, b, need_a, needs_b = two_partners
    login(a.staff)
    page = client.get("/partner/inbox").get_data(as_text=True)
    assert "Alpha leaking roof" in page
    for need in needs_b:
        assert need.title not in page and need.ref not in page
    for query in ("Beta", needs_b[0].ref, "bench", "stairwell"):
        for state in ("", "pending", "accepted", "overdue"):
            html = client.get("/partner/inbox", query_string={"q": query, "state": state}).get_data(
                as_text=True
            )
            assert "Beta" not in html.split('id="inbox-results"')[1], (query, state)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_partner_cannot_act_on_another_partners_need(client, login, post, two_partners, action):
    a, b, need_a, needs_b = two_partners
    login(a.staff)
    for need in needs_b:
        before = snapshot(need)
        data = dict(ACTIONS[action])
        if action == "transfer":
            data["transfer-organisation"] = str(a.organisation.id)
        for htmx in (False, True):
            response = post(f"/partner/needs/{need.ref}/{action}", data, htmx=htmx)
            assert response.status_code == 404, (action, need.title)
            assert need.title not in response.get_data(as_text=True)
        assert snapshot(need) == before


def test_a_partner_cannot_open_another_partners_need(client, login, two_partners):
    a, b, need_a, needs_b = two_partners
    login(a.staff)
    assert client.get(f"/partner/needs/{need_a.ref}").status_code == 200
    for need in needs_b:
        response = client.get(f"/partner/needs/{need.ref}")
        assert response.status_code == 404
        assert need.title not in response.get_data(as_text=True)
    assert client.get("/partner/needs/N-2026-999999").status_code == 404
    # And B, symmetrically.
    login(b.staff)
    assert client.get(f"/partner/needs/{need_a.ref}").status_code == 404
    assert client.get(f"/partner/needs/{needs_b[0].ref}").status_code == 200


def test_a_need_never_routed_to_anyone_is_not_found(client, login, make_partner):
    from tests.factories import make_need

    a = make_partner()
    open_need, _ = make_need(NeedStatus.OPEN)
    login(a.staff)
    db.session.commit()
    assert client.get(f"/partner/needs/{open_need.ref}").status_code == 404
