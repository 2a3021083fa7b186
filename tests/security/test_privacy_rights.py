"""A member's rights under the privacy law: download their data, delete their
account. After a deletion no column of any table holds the member's e-mail,
name or phone, and every public count stays what it was."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role, User
from portal.comments.services import post_comment
from portal.extensions import db
from portal.feedback.models import Resolved
from portal.feedback.services import give_feedback
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.needs.services import Submission, new_idempotency_key, submit_need
from portal.notify.models import DigestRun, Follow, OutboxEmail, OutboxStatus
from portal.notify.services import follow, queue_email
from portal.photos import storage
from portal.photos.models import Photo
from portal.voting import services as voting
from portal.voting.models import RoundItem
from portal.workflow.services import Actor, transition
from tests.factories import make_category, make_need, make_user
from tests.forms import form_for

PASSWORD = "a long privacy test password"
EMAIL = "zhao.privacymarker@example.org"
NAME = "Zhaoprivacymarker"
PHONE = "+86 138 0000 4242"
PHOTO_BYTES = b"\xff\xd8\xff\xe0 the member's own photo \xff\xd9"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@dataclass
class World:
    member: User
    other: User
    own_need: Need
    supported: Need
    item: RoundItem
    photo_key: str


def _photo(need: Need, key: str) -> None:
    sizes = ("width", "height", "thumb_width", "thumb_height", "display_bytes", "thumb_bytes")
    db.session.add(Photo(need=need, key=key, **dict.fromkeys(sizes, 1)))
    for size in storage.SIZES:
        path = storage.final_path(key, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PHOTO_BYTES)


def _submit(user: User, title: str, *, email: str, name: str = "", phone: str = "") -> Need:
    need, _token = submit_need(
        Submission(
            title=title,
            body="Described well enough for the test.",
            category_id=make_category().id,
            place="Near the east gate",
            email=email,
            idempotency_key=new_idempotency_key(),
            locale="en",
            name=name,
            phone=phone,
            lat=31.2304,
            lon=121.4737,
        ),
        Actor.public(user),
        submitter=user,
    )
    return need


def _build_world() -> World:
    member = make_user(password=PASSWORD)
    member.email, member.display_name = EMAIL, NAME
    other = make_user(password=PASSWORD)
    admin = make_user(Role.ADMIN)

    own = _submit(member, "My own streetlight need", email=EMAIL, name=NAME, phone=PHONE)
    transition(own, "publish", Actor.staff(admin))
    _photo(own, "cd" * 16)
    others_need = _submit(other, "Another member's private matter", email=other.email)

    supported, _ = make_need(NeedStatus.OPEN, title="A need both support")
    voting.support_need(supported, member)
    voting.support_need(supported, other)
    follow(supported, member)
    shortlisted = [make_need(NeedStatus.OPEN)[0] for _ in range(2)]
    round_ = voting.create_round(
        title="Autumn round",
        description="",
        needs=shortlisted,
        votes_per_member=1,
        starts_at=utcnow() - timedelta(days=1),
        ends_at=utcnow() + timedelta(days=1),
        show_live_counts=True,
        actor=admin,
    )
    voting.cast_vote(round_, round_.items[0], member)
    voting.cast_vote(round_, round_.items[0], other)
    post_comment(member, "A comment by the member to keep.", "t1", need=supported)
    post_comment(other, "The other member's comment.", "t2", need=supported)

    resolved, _ = make_need(NeedStatus.RESOLVED, title="A resolved need")
    follow(resolved, member)
    give_feedback(resolved, resolved=Resolved.PARTLY, satisfaction=4, comment="Mostly", user=member)
    db.session.add(DigestRun(user_id=member.id, day=utcnow().date(), created_at=utcnow()))
    db.session.flush()
    assert others_need.id
    return World(member, other, own, supported, round_.items[0], "cd" * 16)


@pytest.fixture
def world(app) -> World:
    world = _build_world()
    db.session.commit()
    return world


# --- download my data ------------------------------------------------------------


def test_the_export_holds_every_section_of_the_members_own_data(client, login, world):
    login(world.member)
    response = client.get("/me/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.is_streamed  # written while it is sent, not built in memory
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"

    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    data = json.loads(archive.read("my-data.json"))
    assert data["account"]["email"] == EMAIL
    assert data["account"]["display_name"] == NAME
    [submission] = data["submissions"]
    assert submission["reference"] == world.own_need.ref
    assert submission["contact"]["phone"] == PHONE
    assert [step["step"] for step in submission["timeline"]] == ["submit", "publish"]
    assert [s["title"] for s in data["supports"]] == ["A need both support"]
    assert [v["round"] for v in data["votes"]] == ["Autumn round"]
    assert {f["title"] for f in data["follows"]["needs"]} == {
        "My own streetlight need",
        "A need both support",
        "A resolved need",
    }
    assert [c["text"] for c in data["comments"]] == ["A comment by the member to keep."]
    assert [(f["resolved"], f["satisfaction"]) for f in data["feedback"]] == [("partly", 4)]

    assert submission["photos"] == [f"photos/{world.own_need.ref}-1.jpg"]
    assert archive.read(submission["photos"][0]) == PHOTO_BYTES

    everything = json.dumps(data)
    for foreign in ("Another member's private matter", "The other member's comment."):
        assert foreign not in everything
    assert world.other.email not in everything


def test_the_export_is_for_logged_in_members_only(client):
    response = client.get("/me/export")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "DATA_EXPORT_RATE_LIMIT": "2 per hour"}]
)
def test_the_export_is_rate_limited_per_account(app, client, login):
    from portal.extensions import limiter

    limiter.reset()
    first, second = make_user(), make_user()
    db.session.commit()
    login(first)
    assert [client.get("/me/export").status_code for _ in range(3)] == [200, 200, 429]
    login(second)  # the same address, another account
    assert client.get("/me/export").status_code == 200
    limiter.reset()


# --- delete my account -----------------------------------------------------------


def _string_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.String | sa.Text | sa.JSON):
                yield table, column


def _where_found(*markers: str) -> list[str]:
    """Every table and column (text and JSON) whose value contains a marker."""
    found = []
    for table, column in _string_columns():
        for marker in markers:
            condition = sa.cast(column, sa.Text).contains(marker)
            if db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition)):
                found.append(f"{table.name}.{column.name} ~ {marker}")
    return found


def _delete_through_the_page(client, password: str = PASSWORD):
    page = client.get("/me/delete")
    assert page.status_code == 200
    form = form_for(page.get_data(as_text=True), "/me/delete")
    return client.post(form["action"], data={**form["fields"], "password": password})


def test_deleting_the_account_leaves_nothing_personal_in_any_table(app, client, login, world):
    queued = queue_email(EMAIL, "verify_email", "en", user=world.member, verify_url="x")
    sent = queue_email(EMAIL, "verify_email", "en", user=world.member, verify_url="y")
    sent.status = OutboxStatus.SENT
    db.session.commit()
    queued_id, member_id = queued.id, world.member.id
    assert _where_found(EMAIL, NAME, PHONE)  # the scan sees them before

    login(world.member)
    response = _delete_through_the_page(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/")
    db.session.expire_all()

    assert _where_found(EMAIL, NAME, PHONE) == []
    assert _where_found(EMAIL.split("@")[0], "4242") == []
    assert db.session.get(OutboxEmail, queued_id).status == OutboxStatus.CANCELLED
    user = db.session.get(User, member_id)
    assert user.erased_at is not None and not user.active and user.password_hash == ""
    assert "@" not in user.email
    own = db.session.get(Need, world.own_need.id)
    assert own.contact_erased_at is not None
    assert own.contact.email == own.contact.name == own.contact.phone == ""
    assert db.session.scalar(sa.select(sa.func.count()).where(Follow.user_id == member_id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(DigestRun.user_id == member_id)) == 0


def test_public_contributions_and_counts_stay(app, client, login, world):
    login(world.member)
    assert _delete_through_the_page(client).status_code == 303
    db.session.expire_all()

    assert db.session.get(Need, world.supported.id).support_count == 2
    assert db.session.get(RoundItem, world.item.id).vote_count == 2
    page = client.get(f"/needs/{world.supported.ref}").get_data(as_text=True)
    assert "A comment by the member to keep." in page
    assert "a former member" in page
    assert NAME not in page
    own = db.session.get(Need, world.own_need.id)
    assert own.status == NeedStatus.OPEN and own.submitter_id == world.member.id
    assert client.get(f"/needs/{own.ref}").status_code == 200


def test_the_former_member_is_named_in_the_readers_language(app, client, login, world):
    """Stored as nothing, translated when shown."""
    from flask_babel import force_locale, gettext

    login(world.member)
    _delete_through_the_page(client)
    stored = db.session.execute(
        sa.text("SELECT display_name FROM users WHERE id = :id"), {"id": world.member.id}
    ).scalar_one()
    assert stored == ""
    client.set_cookie("locale", "zh_CN")
    page = client.get(f"/needs/{world.supported.ref}").get_data(as_text=True)
    with force_locale("zh_CN"):
        assert gettext("a former member") in page


def test_the_deletion_is_audited_without_personal_data(app, client, login, world):
    login(world.member)
    _delete_through_the_page(client)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "account.delete")
    ).one()
    assert entry.actor_id == world.member.id
    assert (entry.object_type, entry.object_id) == ("users", str(world.member.id))
    assert entry.before == {} and entry.after == {}
    assert entry.client_address == ""


def test_after_the_deletion_the_session_ends_and_login_fails(app, client, login, world):
    login(world.member)
    _delete_through_the_page(client)
    response = client.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]

    page = client.get("/auth/login").get_data(as_text=True)
    form = form_for(page, "/auth/login")
    answer = client.post(
        form["action"], data={**form["fields"], "email": EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 422
    assert "The e-mail address or the password is wrong." in answer.get_data(as_text=True)


def test_a_wrong_password_deletes_nothing(app, client, login, world):
    login(world.member)
    response = _delete_through_the_page(client, password="not my password at all")
    assert response.status_code == 422
    assert "The password is wrong." in response.get_data(as_text=True)
    db.session.expire_all()
    member = db.session.get(User, world.member.id)
    assert member.email == EMAIL and member.erased_at is None and member.active


def test_the_form_needs_the_csrf_token(app, client, login, world):
    login(world.member)
    response = client.post("/me/delete", data={"password": PASSWORD})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world.member.id).erased_at is None


def test_partner_staff_ask_an_administrator(app, client, login):
    staff = make_user(Role.PARTNER, password=PASSWORD)
    db.session.commit()
    login(staff)
    page = client.get("/me/delete")
    assert "Ask an administrator of the portal to close it" in page.get_data(as_text=True)
    assert 'action="/me/delete"' not in page.get_data(as_text=True)
    token_page = client.get("/me").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    answer = client.post(
        "/me/delete", data={"csrf_token": csrf_token_from(token_page), "password": PASSWORD}
    )
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, staff.id).erased_at is None


def test_the_last_administrator_cannot_leave(app, client, login):
    admin = make_user(Role.ADMIN, password=PASSWORD)
    db.session.commit()
    login(admin)
    page = client.get("/me/delete").get_data(as_text=True)
    assert "You are the only active administrator." in page

    make_user(Role.ADMIN)
    db.session.commit()
    assert _delete_through_the_page(client).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, admin.id).erased_at is not None
