"""Serving photos: only to those who may see the need, as an image that no
browser will run, cached for good; administrators hide and show them, audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, Visibility
from portal.photos.models import Photo
from portal.workflow.services import Actor, transition
from tests.conftest import csrf_token_from
from tests.factories import make_organisation, make_user
from tests.photos import images
from tests.photos.test_submit_photos import need_form

YEAR = 365 * 24 * 3600


@pytest.fixture
def people(app) -> dict:
    routed_to = make_organisation(name_en="Street Repairs")
    people = {
        "submitter": make_user(),
        "member": make_user(),
        "partner": make_user(Role.PARTNER, routed_to),
        "other_partner": make_user(Role.PARTNER),
        "admin": make_user(Role.ADMIN),
    }
    db.session.commit()
    return people


@pytest.fixture
def submit(client, category, csrf_token, login, people):
    """A need with `count` photos, sent through /needs/new by the submitter; returns its photos."""

    def send(count: int = 1) -> list[Photo]:
        login(people["submitter"])
        photos = [images.upload(images.photo(640 + i, 480)) for i in range(count)]
        form = need_form(category, csrf_token(), photos=photos)
        assert client.post("/needs/new", **images.multipart(form)).status_code == 303
        with client.session_transaction() as session:
            session.clear()
        db.session.expire_all()
        need = db.session.scalars(sa.select(Need).order_by(Need.id.desc()).limit(1)).one()
        return list(db.session.scalars(sa.select(Photo).where(Photo.need_id == need.id)))

    return send


@pytest.fixture
def as_(client, login, people):
    """Open a URL as one of the people (None: an anonymous visitor)."""

    def get(who: str | None, url: str):
        with client.session_transaction() as session:
            session.clear()
        if who:
            login(people[who])
        return client.get(url)

    return get


def move(need: Need, name: str, admin, **kw) -> None:
    transition(need, name, Actor.staff(admin), **kw)
    db.session.commit()


def url(photo: Photo, size: str = "display") -> str:
    return f"/photos/{photo.key}/{size}.jpg"


def test_a_published_photo_is_an_image_that_cannot_run_anything(client, submit, people):
    photo = submit()[0]
    move(photo.need, "publish", people["admin"])
    for size in ("display", "thumb"):
        response = client.get(url(photo, size))
        assert response.status_code == 200
        assert response.data.startswith(b"\xff\xd8\xff")
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        csp = response.headers["Content-Security-Policy"]
        assert "sandbox" in csp and "default-src 'none'" in csp
        assert "script-src" not in csp  # nothing may run, not even from this site
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= YEAR
        assert "public" not in cache  # a shared cache must not keep a photo hidden later


WHO_SEES_AN_UNPUBLISHED_PHOTO = {
    None: 404,
    "member": 404,
    "other_partner": 404,
    "partner": 404,  # not routed to it yet
    "submitter": 200,
    "admin": 200,
}


@pytest.mark.parametrize(("who", "status"), WHO_SEES_AN_UNPUBLISHED_PHOTO.items())
def test_a_photo_of_an_unpublished_need(as_, submit, who, status):
    photo = submit()[0]
    assert as_(who, url(photo)).status_code == status
    assert as_(who, url(photo, "thumb")).status_code == status


WHO_SEES_A_PRIVATE_ROUTED_PHOTO = {
    None: 404,
    "member": 404,
    "other_partner": 404,
    "partner": 200,
    "submitter": 200,
    "admin": 200,
}


@pytest.mark.parametrize(("who", "status"), WHO_SEES_A_PRIVATE_ROUTED_PHOTO.items())
def test_a_photo_of_a_private_need_routed_to_a_partner(as_, submit, people, who, status):
    photo = submit()[0]
    need = photo.need
    need.visibility = Visibility.PRIVATE  # handled, never listed
    admin = people["admin"]
    move(need, "publish", admin)
    move(need, "route", admin, organisation=people["partner"].organisation)
    assert not need.is_listed
    assert as_(who, url(photo)).status_code == status


def test_a_photo_of_a_rejected_need_is_gone_from_the_public(as_, submit, people):
    photo = submit()[0]
    move(photo.need, "reject", people["admin"], text="Not something we handle.")
    assert as_(None, url(photo)).status_code == 404
    assert as_("admin", url(photo)).status_code == 200


def _post_as(client, login, user, path: str, data: dict | None = None):
    with client.session_transaction() as session:
        session.clear()
    login(user)
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_an_admin_hides_a_photo_from_the_public_and_shows_it_again(
    client, login, as_, submit, people
):
    first, second = submit(2)
    need = first.need
    move(need, "publish", people["admin"])
    move(need, "route", people["admin"], organisation=people["partner"].organisation)
    admin = people["admin"]

    response = _post_as(
        client, login, admin, f"/admin/photos/{first.key}/hide", {"reason": "A face"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/needs/{need.ref}#photos")
    assert "The photo is hidden from the public." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    [entry] = audit("photo.hide")
    assert entry.actor_id == admin.id
    assert (entry.object_type, entry.object_id) == ("photos", str(first.id))
    assert entry.after == {"reason": "A face"}
    assert entry.before == {"need": need.ref, "hidden": False}  # which need, in the log

    assert as_(None, url(first)).status_code == 404
    assert as_("member", url(first)).status_code == 404
    assert as_("submitter", url(first)).status_code == 404
    assert as_("admin", url(first)).status_code == 200
    assert as_("partner", url(first)).status_code == 200  # it may show what to repair
    assert as_(None, url(second)).status_code == 200
    public = as_(None, f"/needs/{need.ref}").get_data(as_text=True)
    assert first.key not in public and second.key in public
    staff = as_("admin", f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert first.key in staff and "Hidden from the public" in staff and "A face" in staff

    response = _post_as(client, login, admin, f"/admin/photos/{first.key}/show")
    assert response.status_code == 303
    assert as_(None, url(first)).status_code == 200
    [entry] = audit("photo.show")
    assert entry.actor_id == admin.id
    assert entry.before == {"need": need.ref, "reason": "A face"}


def hidden(photo: Photo) -> bool:
    db.session.expire_all()
    return db.session.get(Photo, photo.id).is_hidden


def test_hiding_needs_a_reason(client, login, submit, people):
    photo = submit()[0]
    response = _post_as(client, login, people["admin"], f"/admin/photos/{photo.key}/hide")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please give a reason (e.g. a face or a licence plate)." in page
    assert not hidden(photo) and audit("photo.hide") == []


def test_hiding_needs_the_csrf_token(client, login, submit, people):
    photo = submit()[0]
    login(people["admin"])
    response = client.post(f"/admin/photos/{photo.key}/hide", data={"reason": "A face"})
    assert response.status_code == 400
    assert not hidden(photo) and audit("photo.hide") == []


@pytest.mark.parametrize("who", ["member", "partner", "submitter"])
def test_only_admins_hide_or_show_photos(client, login, submit, people, who):
    photo = submit()[0]
    data = {"reason": "Mine"}
    assert (
        _post_as(client, login, people[who], f"/admin/photos/{photo.key}/hide", data).status_code
        == 403
    )
    assert not hidden(photo)
    db.session.get(Photo, photo.id).is_hidden = True
    db.session.commit()
    assert (
        _post_as(client, login, people[who], f"/admin/photos/{photo.key}/show").status_code == 403
    )
    assert hidden(photo)
    assert audit("photo.hide") == audit("photo.show") == []


def test_unknown_photos_and_sizes_are_404(client, login, submit, people):
    photo = submit()[0]
    move(photo.need, "publish", people["admin"])
    assert client.get(url(photo)).status_code == 200
    for path in (
        f"/photos/{'0' * 32}/display.jpg",
        f"/photos/{photo.key[:31]}/display.jpg",
        f"/photos/{photo.key.upper()}/display.jpg",
        f"/photos/{photo.key}/original.jpg",
        f"/photos/{photo.key}/display.png",
        f"/photos/{photo.key}/../{photo.key}/display.jpg",
    ):
        assert client.get(path).status_code == 404, path
    for action in ("hide", "show"):
        response = _post_as(client, login, people["admin"], f"/admin/photos/{'0' * 32}/{action}")
        assert response.status_code == 404


def test_the_need_page_asks_as_many_queries_for_three_photos_as_for_one(
    client, submit, people, queries
):
    one = submit(1)[0].need
    three = submit(3)[0].need
    for need in (one, three):
        move(need, "publish", people["admin"])
    pages = {one.ref: 1, three.ref: 3}
    counted = {}
    for ref, photos in pages.items():
        client.get(f"/needs/{ref}")  # warm up (categories, settings …)
        with queries() as statements:
            page = client.get(f"/needs/{ref}").get_data(as_text=True)
        assert page.count("/thumb.jpg") == photos
        counted[photos] = len(statements)
    assert counted[3] == counted[1]
