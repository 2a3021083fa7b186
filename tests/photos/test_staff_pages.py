"""Photos at staff intake, on the admin page of a need (with hiding) and on the
submitter's private tracking page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need
from portal.photos.models import Photo
from portal.workflow.services import Actor, transition
from tests.conftest import csrf_token_from
from tests.factories import make_user
from tests.photos.images import jpeg_with_gps, photo, upload


@pytest.fixture
def admin(login):
    user = make_user(Role.ADMIN)
    db.session.commit()
    return login(user)


def intake(client, category, **files):
    html = client.get("/staff/needs/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'accept="image/*"' in html
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', html)
    data = {
        "csrf_token": csrf_token_from(html),
        "idempotency_key": key.group(1),
        "channel": "walk_in",
        "title": "Broken bench in the park",
        "body": "The caller brought a photo of the broken bench.",
        "category": str(category.id),
        "place": "North park",
        "consent": "y",
        **files,
    }
    return client.post("/staff/needs/new", data=data, content_type="multipart/form-data")


def test_staff_attach_photos_at_intake_and_hide_one_on_the_admin_page(
    client, admin, category, tmp_path
):
    response = intake(
        client,
        category,
        photos=[upload(jpeg_with_gps()), upload(photo(fmt="PNG"), "b.png", "image/png")],
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    need = db.session.scalar(sa.select(Need))
    first, second = db.session.scalars(sa.select(Photo).order_by(Photo.id)).all()
    assert first.uploaded_by_id == admin.id and first.need_id == need.id

    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert f"/photos/{first.key}/thumb.jpg" in page and f"/photos/{second.key}/thumb.jpg" in page
    assert f'action="/admin/photos/{first.key}/hide"' in page

    token = csrf_token_from(page)
    refused = client.post(
        f"/admin/photos/{first.key}/hide", data={"csrf_token": token, "reason": ""}
    )
    assert refused.status_code == 303
    assert "Please give a reason" in client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    db.session.refresh(first)
    assert not first.is_hidden

    hidden = client.post(
        f"/admin/photos/{first.key}/hide", data={"csrf_token": token, "reason": "A face"}
    )
    assert hidden.status_code == 303
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "Hidden from the public" in page and "A face" in page
    assert f'action="/admin/photos/{first.key}/show"' in page
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "photo.hide"))
    assert entry.actor_id == admin.id and entry.after["reason"] == "A face"

    transition(need, "publish", Actor.staff(admin))
    db.session.commit()
    client.get("/auth/logout")
    client.delete_cookie("session")
    public = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert f"/photos/{second.key}/thumb.jpg" in public
    assert first.key not in public
    assert client.get(f"/photos/{first.key}/thumb.jpg").status_code == 404
    assert client.get(f"/photos/{second.key}/thumb.jpg").status_code == 200


def test_the_tracking_page_counts_photos_until_the_need_is_published(
    client, category, csrf_token, app
):
    html = client.get("/needs/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    data = {
        "csrf_token": csrf_token_from(html),
        "idempotency_key": key,
        "title": "Flooded stairwell",
        "body": "Water comes down the stairs whenever it rains.",
        "category": str(category.id),
        "consent": "y",
        "photos": [upload(photo()), upload(photo(800, 600))],
    }
    assert (
        client.post("/needs/new", data=data, content_type="multipart/form-data").status_code == 303
    )
    done = client.get("/needs/submitted").get_data(as_text=True)
    track_url = re.search(r'href="(/track/[^"]+)"', done).group(1)
    page = client.get(track_url).get_data(as_text=True)
    assert "You sent 2 photos. They are shown once your need is published." in page
    assert "/photos/" not in page

    need = db.session.scalar(sa.select(Need))
    transition(need, "publish", Actor.staff(make_user(Role.ADMIN)))
    db.session.commit()
    page = client.get(track_url).get_data(as_text=True)
    keys = db.session.scalars(sa.select(Photo.key).order_by(Photo.id)).all()
    assert all(f"/photos/{k}/thumb.jpg" in page for k in keys)
