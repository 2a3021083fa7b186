""" "After" photos: a partner attaches photos to a progress update or to its
answer; they are shown with that step of the timeline, on the public page and
in the workspace, and a refused photo or action leaves nothing behind."""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.photos.models import Photo
from portal.photos.services import hide_photo
from portal.workflow.models import TimelineEvent
from tests.factories import make_user
from tests.partners.conftest import fresh, snapshot
from tests.photos.images import photo, upload

HTML_AS_JPEG = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def files_in(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def photo_rows(need) -> list[Photo]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Photo).where(Photo.need_id == need.id).order_by(Photo.id))
    )


def last_event(need) -> TimelineEvent:
    return db.session.scalar(
        sa.select(TimelineEvent)
        .where(TimelineEvent.need_id == need.id)
        .order_by(TimelineEvent.id.desc())
    )


def thumb(key: str) -> str:
    return f"/photos/{key}/thumb.jpg"


def timeline_of(html: str) -> str:
    """The timeline list of a page (where each step's photos belong)."""
    match = re.search(r'<ol class="timeline">.*?</ol>', html, re.S)
    assert match, "no timeline on the page"
    return match.group(0)


@pytest.fixture
def working(login, make_partner, routed):
    """A need a partner has accepted and started work on; the partner is logged in."""
    partner = make_partner()
    need, _ = routed(partner, status=NeedStatus.IN_PROGRESS)
    login(partner.staff)
    db.session.commit()
    return partner, need


def test_update_and_answer_with_photos_are_shown_with_their_step(app, post, working, tmp_path):
    partner, need = working
    base = f"/partner/needs/{need.ref}"

    response = post(
        f"{base}/updates",
        {
            "update-text": "The new lamp is ordered.",
            "update-photos": [upload(photo()), upload(photo(800, 600))],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    update = last_event(need)
    assert (update.move, update.text) == ("update", "The new lamp is ordered.")

    response = post(
        f"{base}/resolve",
        {"resolve-text": "A new lamp is in place.", "resolve-photos": [upload(photo())]},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    answer = last_event(need)
    assert answer.move == "resolve"
    assert fresh(need).status == NeedStatus.RESOLVED

    rows = photo_rows(need)
    assert [r.event_id for r in rows] == [update.id, update.id, answer.id]
    assert {r.uploaded_by_id for r in rows} == {partner.staff.id}
    # The files are in place under their generated names; nothing waits in staging.
    stored = files_in(tmp_path / "photos")
    expected = {f"{r.key}-{size}.jpg" for r in rows for size in ("display", "thumb")}
    assert {p.name for p in stored} == expected
    assert all(".staging" not in p.parts for p in stored)

    # The public need page shows them in the timeline, each with its step.
    visitor = app.test_client()
    public = visitor.get(f"/needs/{need.ref}").get_data(as_text=True)
    steps = timeline_of(public).split('<li class="timeline-')
    update_step = next(s for s in steps if "The new lamp is ordered." in s)
    answer_step = next(s for s in steps if "A new lamp is in place." in s)
    assert thumb(rows[0].key) in update_step and thumb(rows[1].key) in update_step
    assert thumb(rows[2].key) in answer_step and thumb(rows[0].key) not in answer_step
    served = visitor.get(thumb(rows[2].key))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"


def test_the_workspace_forms_send_photos(client, working):
    _, need = working
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    for action, field in (("updates", "update-photos"), ("resolve", "resolve-photos")):
        form = re.search(
            rf'<form[^>]*action="/partner/needs/{need.ref}/{action}"[^>]*>.*?</form>', page, re.S
        )
        assert form, action
        assert 'enctype="multipart/form-data"' in form.group(0)
        assert f'name="{field}"' in form.group(0) and 'accept="image/*"' in form.group(0)
    note = re.search(rf'<form[^>]*action="/partner/needs/{need.ref}/notes"[^>]*>', page)
    assert "multipart" not in note.group(0)  # internal notes take no photos


@pytest.mark.parametrize("htmx", [False, True])
def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_saved(post, working, tmp_path, htmx):
    _, need = working
    before = snapshot(need)
    response = post(
        f"/partner/needs/{need.ref}/updates",
        {
            "update-text": "The lamp is ordered.",
            "update-photos": [upload(HTML_AS_JPEG, "lamp.jpg")],
        },
        htmx=htmx,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == (200 if htmx else 422)
    assert "This file is not a photo." in html
    assert "The lamp is ordered." in html  # the text is kept
    assert re.search(
        r'<details class="partner-action" open>\s*<summary>Post a progress update', html
    )
    assert snapshot(need) == before
    assert photo_rows(need) == []
    assert files_in(tmp_path / "photos") == []


def test_the_good_photo_of_a_refused_form_is_kept_for_the_corrected_form(post, working, tmp_path):
    _, need = working
    before = snapshot(need)
    response = post(
        f"/partner/needs/{need.ref}/resolve",
        {
            "resolve-text": "Repaired.",
            "resolve-photos": [upload(photo()), upload(HTML_AS_JPEG, "after.jpg")],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This file is not a photo." in html and "Repaired." in html
    tokens = re.findall(r'name="kept_photo" value="([^"]+)"', html)
    assert len(tokens) == 1
    assert snapshot(need) == before and photo_rows(need) == []
    assert all(".staging" in p.parts for p in files_in(tmp_path / "photos"))  # nothing published

    response = post(
        f"/partner/needs/{need.ref}/resolve", {"resolve-text": "Repaired.", "kept_photo": tokens}
    )
    assert response.status_code == 303
    (row,) = photo_rows(need)
    assert row.event_id == last_event(need).id and last_event(need).move == "resolve"
    assert {p.name for p in files_in(tmp_path / "photos")} == {
        f"{row.key}-display.jpg",
        f"{row.key}-thumb.jpg",
    }


def test_a_too_large_photo_answers_413_with_the_text_kept(app, post, working, tmp_path):
    _, need = working
    app.config["PHOTO_MAX_BYTES"] = 20_000
    large = photo(1600, 1200, quality=95)
    assert len(large) > 20_000
    before = snapshot(need)
    response = post(
        f"/partner/needs/{need.ref}/updates",
        {"update-text": "Half done.", "update-photos": [upload(large)]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "This photo is larger than" in html and "Half done." in html
    assert snapshot(need) == before and photo_rows(need) == []
    assert files_in(tmp_path / "photos") == []


def test_an_action_refused_by_the_workflow_keeps_no_photo(
    client, login, post, make_partner, routed, tmp_path
):
    partner = make_partner()
    need, _ = routed(partner)  # routed, not accepted yet: no update, no answer
    login(partner.staff)
    db.session.commit()
    before = snapshot(need)
    for action, prefix in (("updates", "update"), ("resolve", "resolve")):
        response = post(
            f"/partner/needs/{need.ref}/{action}",
            {f"{prefix}-text": "Done.", f"{prefix}-photos": [upload(photo())]},
        )
        assert response.status_code == 422, action
        assert "not possible on this need now" in response.get_data(as_text=True)
    assert snapshot(need) == before
    assert photo_rows(need) == []
    assert files_in(tmp_path / "photos") == []


def test_another_partner_gets_404_and_nothing_is_saved(
    client, login, post, make_partner, routed, tmp_path
):
    owner = make_partner()
    other = make_partner()
    need, _ = routed(owner, status=NeedStatus.IN_PROGRESS)
    login(other.staff)
    db.session.commit()
    before = snapshot(need)
    for action, prefix in (("updates", "update"), ("resolve", "resolve")):
        for htmx in (False, True):
            response = post(
                f"/partner/needs/{need.ref}/{action}",
                {f"{prefix}-text": "Not ours.", f"{prefix}-photos": [upload(photo())]},
                htmx=htmx,
            )
            assert response.status_code == 404, (action, htmx)
    assert snapshot(need) == before
    assert photo_rows(need) == []
    assert files_in(tmp_path / "photos") == []


def _submitter_photo(need, *, hidden: bool = False) -> Photo:
    """A photo sent with the need (a row is all the pages read)."""
    row = Photo(
        need=need,
        key=secrets.token_hex(16),
        width=1200,
        height=900,
        thumb_width=400,
        thumb_height=300,
        display_bytes=90_000,
        thumb_bytes=12_000,
        is_hidden=hidden,
    )
    db.session.add(row)
    return row


def test_the_workspace_shows_every_photo_and_marks_hidden_ones(app, client, post, working):
    partner, need = working
    sent = _submitter_photo(need)
    sent_hidden = _submitter_photo(need, hidden=True)
    db.session.commit()
    assert (
        post(
            f"/partner/needs/{need.ref}/updates",
            {"update-text": "Lamp ordered.", "update-photos": [upload(photo())]},
        ).status_code
        == 303
    )
    (after,) = [r for r in photo_rows(need) if r.event_id is not None]
    hide_photo(after, make_user(Role.ADMIN), "A face")
    db.session.commit()

    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    description = page.split('<div id="workspace"')[0]
    assert thumb(sent.key) in description and thumb(sent_hidden.key) in description
    timeline = timeline_of(page)
    assert thumb(after.key) in timeline
    assert (
        page.count("Hidden from the public") == 2
    )  # the hidden submitter photo and the after photo
    # The partner may open the hidden photo; the public may not, nor see it listed.
    assert client.get(thumb(after.key)).status_code == 200
    visitor = app.test_client()
    public = visitor.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Lamp ordered." in public
    assert after.key not in public and sent_hidden.key not in public and thumb(sent.key) in public
    assert visitor.get(thumb(after.key)).status_code == 404


def test_the_workspace_takes_the_same_number_of_queries_for_1_or_3_updates_with_photos(
    client, post, working, queries
):
    _, need = working
    _submitter_photo(need)
    db.session.commit()
    url = f"/partner/needs/{need.ref}"

    def add_update(n: int) -> None:
        photos = [upload(photo(640, 480)) for _ in range(n)]
        response = post(
            f"{url}/updates", {"update-text": f"Step with {n} photos.", "update-photos": photos}
        )
        assert response.status_code == 303

    add_update(1)
    with queries() as few:
        page = client.get(url).get_data(as_text=True)
    assert page.count("/thumb.jpg") == 2
    add_update(2)
    add_update(3)
    with queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert page.count("/thumb.jpg") == 7
    assert len(few) == len(many)
