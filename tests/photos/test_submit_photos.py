"""Photos sent with a need on /needs/new: stored clean, shown to the public once published."""

from __future__ import annotations

import io
import secrets

import sqlalchemy as sa
from PIL import Image

from portal.extensions import db
from portal.needs.models import Need
from portal.photos.models import Photo
from tests.photos.images import jpeg_with_gps, upload


def need_form(category, csrf, /, **overrides) -> dict:
    data = {
        "csrf_token": csrf,
        "idempotency_key": secrets.token_hex(16),
        "title": "路灯坏了",
        "body": "和平里三区门口的路灯已经坏了一周。",
        "category": str(category.id),
        "place": "和平里三区",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def files_in(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_photo_is_stored_without_its_location(client, category, csrf_token, app, tmp_path):
    form = need_form(category, csrf_token(), photos=[upload(jpeg_with_gps())])
    response = client.post("/needs/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)

    photo = db.session.scalar(sa.select(Photo))
    need = db.session.scalar(sa.select(Need))
    assert photo.need_id == need.id and photo.event_id is None
    stored = files_in(tmp_path / "photos")
    assert [p.name for p in stored] == [f"{photo.key}-display.jpg", f"{photo.key}-thumb.jpg"]
    for path in stored:
        data = path.read_bytes()
        assert b"Exif" not in data and b"PhoneMaker" not in data and b"taken at home" not in data
        assert not Image.open(io.BytesIO(data)).getexif()
