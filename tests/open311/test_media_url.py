"""Open311 media_url: the absolute address of a request's first public photo,
which serves that photo; never a hidden photo, never a photo of an unpublished need."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.photos.models import Photo
from portal.photos.services import attach_photos, receive_photos
from portal.workflow.services import Actor, record_event
from tests.factories import make_need, make_organisation, make_user
from tests.open311.conftest import API, parse_json, parse_xml
from tests.photos.images import photo

BASE = "https://civic.example.org"


@pytest.fixture
def app_config() -> dict:
    return {"PUBLIC_BASE_URL": BASE + "/"}


def add_photo(need, *, event=None, hidden: bool = False) -> Photo:
    """A photo as the forms store it: checked, redrawn, its files moved in
    place when the test commits."""
    batch = receive_photos([FileStorage(io.BytesIO(photo(640, 480)), filename="p.jpg")])
    assert batch.ok, batch.errors
    (row,) = attach_photos(need, batch, uploader=None, event=event)
    row.is_hidden = hidden
    return row


def display_url(row: Photo) -> str:
    return f"{BASE}/photos/{row.key}/display.jpg"


def media_urls(client, fmt: str, path: str = "requests") -> dict[str, str]:
    response = client.get(f"{API}/{path}.{fmt}")
    if fmt == "json":
        return {r["service_request_id"]: r["media_url"] for r in parse_json(response)}
    root = parse_xml(response)
    return {
        r.findtext("service_request_id"): r.findtext("media_url") or ""
        for r in root.findall("request")
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_media_url_is_the_first_public_photo_and_serves_it(client, app, fmt):
    need = make_need(NeedStatus.OPEN)[0]
    first, second = add_photo(need), add_photo(need)
    db.session.commit()

    urls = media_urls(client, fmt)
    assert urls == {need.ref: display_url(first)}
    assert media_urls(client, fmt, f"requests/{need.ref}") == {need.ref: display_url(first)}
    assert second.key not in client.get(f"{API}/requests.{fmt}").get_data(as_text=True)

    served = app.test_client().get(urlsplit(urls[need.ref]).path)  # as anyone would
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.get_data())).size == (first.width, first.height)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_hidden_first_photo_gives_way_to_the_next(client, fmt):
    need = make_need(NeedStatus.OPEN)[0]
    hidden = add_photo(need, hidden=True)
    shown = add_photo(need)
    db.session.commit()
    assert media_urls(client, fmt) == {need.ref: display_url(shown)}
    assert hidden.key not in client.get(f"{API}/requests.{fmt}").get_data(as_text=True)


def test_only_hidden_photos_or_none_give_an_empty_media_url(client):
    without = make_need(NeedStatus.OPEN)[0]
    only_hidden = make_need(NeedStatus.OPEN)[0]
    add_photo(only_hidden, hidden=True)
    db.session.commit()
    for fmt in ("json", "xml"):
        assert media_urls(client, fmt) == {without.ref: "", only_hidden.ref: ""}


def test_a_partners_after_photo_counts_but_a_photo_on_an_internal_step_never(client):
    partner = make_organisation()
    staff = make_user(Role.PARTNER, partner)
    need = make_need(NeedStatus.IN_PROGRESS, partner=partner)[0]
    note = record_event(need, "note", Actor.staff(staff), text="Internal")
    add_photo(need, event=note)
    update = record_event(need, "update", Actor.staff(staff), text="Lamp ordered.")
    after = add_photo(need, event=update)
    db.session.commit()
    assert note.internal and not update.internal
    assert media_urls(client, "json") == {need.ref: display_url(after)}


def test_an_unpublished_need_and_its_photo_are_not_listed(client):
    waiting = make_need(NeedStatus.SUBMITTED)[0]
    row = add_photo(waiting)
    published = make_need(NeedStatus.OPEN)[0]
    db.session.commit()
    for fmt in ("json", "xml"):
        response = client.get(f"{API}/requests.{fmt}")
        assert media_urls(client, fmt) == {published.ref: ""}
        assert row.key not in response.get_data(as_text=True)
        assert client.get(f"{API}/requests/{waiting.ref}.{fmt}").status_code == 404
    assert client.get(f"/photos/{row.key}/display.jpg").status_code == 404


def test_media_urls_take_a_constant_number_of_queries(client, queries):
    def add(n: int) -> None:
        for _ in range(n):
            need = make_need(NeedStatus.OPEN)[0]
            add_photo(need, hidden=True)
            add_photo(need)
        db.session.commit()

    add(1)
    with queries() as few:
        assert all(media_urls(client, "json").values())
    add(4)
    with queries() as many:
        urls = media_urls(client, "json")
    assert len(urls) == 5 and all(u.startswith(f"{BASE}/photos/") for u in urls.values())
    assert len(few) == len(many)
