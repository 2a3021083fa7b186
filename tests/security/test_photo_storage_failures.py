"""Finding 10: when the photo folder fails, nothing is half-saved and the
person is told, with what they typed kept where possible."""

from __future__ import annotations

import errno
import os

import pytest

from portal.extensions import db
from portal.needs.models import Need
from portal.photos import storage
from portal.photos.models import Photo
from tests.factories import make_category
from tests.photos import images
from tests.photos.test_staging import published, rows, staged
from tests.photos.test_submit_photos import need_form


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def category(app):
    category = make_category()
    db.session.commit()
    return category


@pytest.fixture
def form(category, csrf_token):
    return need_form(category, csrf_token(), title="Broken bench in the park")


@pytest.fixture
def post(client):
    def send(fields: dict, *photos: bytes):
        data = {**fields, "photos": [images.upload(p) for p in photos]}
        return client.post("/needs/new", **images.multipart(data))

    return send


@pytest.mark.parametrize(
    ("code", "status"), [(errno.ENOSPC, 507), (errno.EACCES, 503), (errno.EROFS, 503)]
)
def test_a_full_disk_or_unwritable_folder_keeps_the_form(
    post, form, tmp_path, monkeypatch, code, status
):
    def failing(path, data):
        raise OSError(code, "simulated")

    monkeypatch.setattr(storage, "_write_atomically", failing)
    response = post(form, images.photo(800, 600))
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert "The server cannot store photos at the moment." in page
    assert "Broken bench in the park" in page  # what the person typed is kept
    assert rows(Need) == [] and rows(Photo) == []


def test_a_failed_move_saves_nothing_and_says_so(post, form, tmp_path, monkeypatch):
    def half_publish(key):
        """The display file moves in place, then the thumbnail fails."""
        target = storage.final_path(key, "display")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(storage.staging_path(key, "display"), target)
        raise OSError(errno.EIO, "simulated")

    monkeypatch.setattr(storage, "publish", half_publish)
    response = post(form, images.photo(800, 600))
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Your photos could not be stored, so nothing was saved." in page
    assert response.headers["Retry-After"]
    assert rows(Need) == [] and rows(Photo) == []  # no row without its file
    assert published(tmp_path) == []  # the file that had moved went back…
    assert staged(tmp_path) == []  # …and was removed with the rest of the request's

    monkeypatch.undo()
    again = post(form, images.photo(800, 600))
    assert again.status_code == 303
    assert len(rows(Photo)) == 1 and len(published(tmp_path)) == 2
