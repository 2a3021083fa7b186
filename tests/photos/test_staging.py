"""Photos of a form shown again with errors wait in the staging folder, signed
into the form, until its next submit; nothing else stays there for long."""

from __future__ import annotations

import os
import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from portal.extensions import db
from portal.needs.models import Need
from portal.photos import storage
from portal.photos.models import Photo
from tests.photos import images
from tests.photos.test_submit_photos import files_in, need_form

KEPT = re.compile(r'<input type="checkbox" name="kept_photo" value="([^"]+)" checked>')
THUMB = re.compile(r'<img src="data:image/jpeg;base64,[A-Za-z0-9+/=]+" width="\d+" height="\d+"')


@pytest.fixture
def form(category, csrf_token):
    """One need form (one CSRF token, one idempotency key) to send several times."""
    return need_form(category, csrf_token(), title="Broken bench in the park")


@pytest.fixture
def post(client):
    def send(fields: dict, *photos: bytes, **changes):
        data = {**fields, **changes, "photos": [images.upload(p) for p in photos]}
        return client.post("/needs/new", **images.multipart(data))

    return send


def staged(tmp_path) -> list:
    return files_in(tmp_path / "photos" / ".staging")


def published(tmp_path) -> list:
    return [p for p in files_in(tmp_path / "photos") if ".staging" not in p.parts]


def rows(model) -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model)))


def shown_again(post, form, *photos) -> list[str]:
    """Send the form with an empty title: it comes back with the photos kept."""
    response = post(form, *photos, title="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please correct the marked fields." in page
    assert len(THUMB.findall(page)) == len(photos)  # the thumbnails, without a request
    return KEPT.findall(page)


def test_a_kept_photo_goes_with_the_corrected_form(post, form, tmp_path):
    tokens = shown_again(post, form, images.photo(900, 600))
    assert len(tokens) == 1
    assert len(staged(tmp_path)) == 2 and published(tmp_path) == []
    assert rows(Need) == [] and rows(Photo) == []

    response = post(form, kept_photo=tokens)  # no file this time
    assert response.status_code == 303
    need = rows(Need)[0]
    photo = rows(Photo)[0]
    assert photo.need_id == need.id and (photo.width, photo.height) == (900, 600)
    assert staged(tmp_path) == []
    assert [p.name for p in published(tmp_path)] == [
        f"{photo.key}-display.jpg",
        f"{photo.key}-thumb.jpg",
    ]


def test_kept_photos_and_new_ones_count_together(post, form, tmp_path):
    tokens = shown_again(post, form, images.photo(600, 400), images.photo(400, 300))
    response = post(form, images.photo(500, 500), images.photo(300, 300), kept_photo=tokens)
    assert response.status_code == 422
    assert "At most 3 photos, please." in response.get_data(as_text=True)

    response = post(form, images.photo(500, 500), kept_photo=tokens)
    assert response.status_code == 303
    assert sorted((p.width, p.height) for p in rows(Photo)) == [(400, 300), (500, 500), (600, 400)]
    assert staged(tmp_path) == [] and len(published(tmp_path)) == 6


def test_an_unchecked_photo_is_dropped(post, form, tmp_path):
    shown_again(post, form, images.photo(900, 600))
    response = post(form)  # the box unticked: its token is not sent
    assert response.status_code == 303
    assert len(rows(Need)) == 1 and rows(Photo) == []
    assert published(tmp_path) == []


def test_the_same_token_twice_attaches_one_photo(post, form):
    tokens = shown_again(post, form, images.photo(900, 600))
    assert post(form, kept_photo=tokens * 2).status_code == 303
    assert len(rows(Photo)) == 1


@pytest.mark.parametrize(
    "token",
    [
        "garbled",
        "eyJrZXkiOiAiLi4vLi4vZXRjL3Bhc3N3ZCJ9.forged.signature",
        URLSafeTimedSerializer("another-secret", salt="staged-photo").dumps(
            {
                "key": "0" * 32,
                "width": 1,
                "height": 1,
                "thumb_width": 1,
                "thumb_height": 1,
                "display_bytes": 1,
                "thumb_bytes": 1,
            }  # fmt: skip
        ),
    ],
    ids=["garbled", "forged", "other-secret"],
)
def test_a_forged_token_is_ignored(post, form, tmp_path, token):
    response = post(form, kept_photo=[token])
    assert response.status_code == 303
    assert len(rows(Need)) == 1 and rows(Photo) == []
    assert files_in(tmp_path / "photos") == []


def test_a_token_signed_for_another_key_is_ignored(app, post, form):
    """Signed by us, but for files that are not (or no longer) staged."""
    with app.test_request_context():
        from portal.photos.services import StagedPhoto

        token = StagedPhoto("f" * 32, 10, 10, 10, 10, 100, 100).token
    assert post(form, kept_photo=[token]).status_code == 303
    assert rows(Photo) == []


def test_a_kept_photo_cannot_go_with_a_second_need(post, form, category, csrf_token):
    tokens = shown_again(post, form, images.photo(900, 600))
    assert post(form, kept_photo=tokens).status_code == 303
    other = need_form(category, csrf_token(), title="Another need, same photo")
    assert post(other, kept_photo=tokens).status_code == 303
    assert len(rows(Need)) == 2
    assert len(rows(Photo)) == 1


def test_a_double_submit_makes_one_need_and_one_set_of_photos(post, form, tmp_path):
    first = post(form, images.photo(900, 600), images.photo(600, 400))
    second = post(form, images.photo(900, 600), images.photo(600, 400))
    assert first.status_code == second.status_code == 303
    assert len(rows(Need)) == 1
    assert len(rows(Photo)) == 2
    assert staged(tmp_path) == []
    assert len(published(tmp_path)) == 4


def test_staged_photos_older_than_the_limit_are_swept(app, post, form, tmp_path):
    shown_again(post, form, images.photo(300, 200))
    abandoned = staged(tmp_path)
    shown_again(post, form, images.photo(200, 100))
    recent = set(staged(tmp_path)) - set(abandoned)
    assert len(abandoned) == len(recent) == 2
    hours = app.config["PHOTO_STAGING_HOURS"]
    long_ago = time.time() - hours * 3600 - 60
    for path in abandoned:
        os.utime(path, (long_ago, long_ago))

    assert storage.sweep_staging(hours * 3600) == 2
    assert set(staged(tmp_path)) == recent


def test_an_upload_sweeps_abandoned_staged_photos(app, post, form, tmp_path):
    tokens = shown_again(post, form, images.photo(300, 200))
    # Staged files are swept an hour after their tokens expire.
    long_ago = time.time() - (app.config["PHOTO_STAGING_HOURS"] + 1) * 3600 - 60
    for path in staged(tmp_path):
        os.utime(path, (long_ago, long_ago))

    response = post(form, images.photo(200, 100), kept_photo=tokens)
    assert response.status_code == 303
    assert staged(tmp_path) == []
    assert [(p.width, p.height) for p in rows(Photo)] == [(200, 100)]  # the old one expired
