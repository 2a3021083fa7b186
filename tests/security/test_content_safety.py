"""Content safety (issue 12, item 11): sensitive terms and links hold comments
and project updates for moderation and flag needs in triage; pre-moderation;
the admins' term list; every decision audited."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Delivery, Role
from portal.comments.models import Comment, CommentState
from portal.extensions import db
from portal.moderation import services as moderation
from portal.moderation.models import SensitiveTerm
from portal.needs.models import Need, NeedStatus
from portal.notify.models import OutboxEmail
from portal.projects import services as projects
from portal.projects.models import ProjectUpdate, UpdateState
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_project, make_user
from tests.forms import form_for

BAIT = "加微信"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def admin(app):
    user = make_user(Role.ADMIN)
    db.session.commit()
    return user


@pytest.fixture
def need(app):
    need, _token = make_need(NeedStatus.OPEN)
    db.session.commit()
    return need


@pytest.fixture
def terms(admin):
    """The example contact bait on the list, added as an admin would."""
    for term in (BAIT, "QQ群", "加V"):
        moderation.add_term(term, admin)
    db.session.commit()


def _user(role: Role = Role.MEMBER, organisation=None):
    """An account the next request can load (committed)."""
    user = make_user(role, organisation)
    db.session.commit()
    return user


def _audit(prefix: str) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).where(AuditEntry.action.startswith(prefix))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def _comment(client, need, body: str):
    """Post a comment through the form on the need page (the no-JS path)."""
    form = form_for(client.get(f"/needs/{need.ref}").get_data(as_text=True), "/comments")
    form["fields"]["body"] = body
    return client.post(form["action"], data=form["fields"])


def _fresh_comment(body: str) -> Comment:
    db.session.expire_all()
    return db.session.scalar(sa.select(Comment).where(Comment.body == body))


def _anonymous_page(app, path: str) -> str:
    other = app.test_client()
    other.set_cookie("locale", "en")
    return other.get(path).get_data(as_text=True)


# --- comments --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "有事请加微信 abc123",
        "加 微 信 聊",  # spaced
        "加-微-信!",  # punctuation between the characters
        "加　微　信",  # full-width spaces
        "ＱＱ群 12345",  # full-width letters
        "加ｖ: abc",  # full-width, other case
    ],
)
def test_a_comment_with_contact_bait_is_held_and_shown_only_to_its_author(
    app, client, login, need, admin, terms, body
):
    author = login(_user())
    response = _comment(client, need, body)
    assert response.status_code == 303
    comment = _fresh_comment(body)
    assert comment.state == CommentState.HELD
    assert comment.held_for and comment.held_for[0]["kind"] == "term"

    assert body not in _anonymous_page(app, f"/needs/{need.ref}")
    login(_user())
    assert body not in client.get(f"/needs/{need.ref}").get_data(as_text=True)

    login(author)
    own = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert body in own
    assert "Your comment awaits moderation" in own

    login(admin)
    queue = client.get("/admin/moderation").get_data(as_text=True)
    assert body in queue
    assert "Contains the listed term" in queue
    assert "Approve and publish" in queue


def test_the_author_is_told_after_posting(client, login, need, terms):
    login(_user())
    form = form_for(client.get(f"/needs/{need.ref}").get_data(as_text=True), "/comments")
    form["fields"]["body"] = "请加微信"
    response = client.post(form["action"], data=form["fields"], headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Your comment awaits moderation. Only you can see it" in html


def test_an_innocent_comment_is_published_at_once(app, client, login, need, terms):
    login(_user())
    assert _comment(client, need, "谢谢大家的帮助").status_code == 303
    assert _fresh_comment("谢谢大家的帮助").state == CommentState.VISIBLE
    assert "谢谢大家的帮助" in _anonymous_page(app, f"/needs/{need.ref}")


def test_approving_publishes_and_rejecting_keeps_hidden_both_audited(
    app, client, login, need, admin, terms
):
    login(_user())
    _comment(client, need, "加微信 first")
    _comment(client, need, "加微信 second")
    first, second = _fresh_comment("加微信 first"), _fresh_comment("加微信 second")

    login(admin)
    page = client.get("/admin/moderation").get_data(as_text=True)
    approve = form_for(page, f"/{first.id}/restore")
    assert client.post(approve["action"], data=approve["fields"]).status_code == 303
    reject = form_for(page, f"/{second.id}/hide")
    assert reject["fields"]["reason"] == ""  # no reason needed to reject a held comment
    assert client.post(reject["action"], data=reject["fields"]).status_code == 303

    assert _fresh_comment("加微信 first").state == CommentState.VISIBLE
    assert _fresh_comment("加微信 second").state == CommentState.HIDDEN
    public = _anonymous_page(app, f"/needs/{need.ref}")
    assert "加微信 first" in public
    assert "加微信 second" not in public
    assert "加微信" not in client.get("/admin/moderation").get_data(as_text=True)

    entries = _audit("comment.")
    assert [(e.action, e.actor_id, e.object_id) for e in entries] == [
        ("comment.approve", admin.id, str(first.id)),
        ("comment.reject", admin.id, str(second.id)),
    ]
    assert entries[0].before["state"] == "held" and entries[0].after["state"] == "visible"
    assert BAIT in entries[0].before["held_for"]


def test_pre_moderation_holds_every_comment(app, client, login, need, admin):
    login(admin)
    form = form_for(client.get("/admin/settings").get_data(as_text=True), "/admin/settings")
    form["fields"]["comment_premoderation"] = "y"
    assert client.post(form["action"], data=form["fields"]).status_code == 303
    [entry] = _audit("setting.change")
    assert entry.after == {"comment_premoderation": "1"}

    login(_user())
    _comment(client, need, "A perfectly kind comment")
    held = _fresh_comment("A perfectly kind comment")
    assert held.state == CommentState.HELD
    assert held.held_for == [{"kind": "premoderation"}]
    assert "A perfectly kind comment" not in _anonymous_page(app, f"/needs/{need.ref}")

    login(admin)
    form = form_for(client.get("/admin/settings").get_data(as_text=True), "/admin/settings")
    form["fields"].pop("comment_premoderation")
    client.post(form["action"], data=form["fields"])
    login(_user())
    _comment(client, need, "Another kind comment")
    assert _fresh_comment("Another kind comment").state == CommentState.VISIBLE


def _published_comments(user, need, count: int) -> None:
    for n in range(count):
        db.session.add(
            Comment(need_id=need.id, author_id=user.id, body=f"Earlier {n}", client_token=f"e{n}")
        )
    db.session.commit()


def test_new_members_may_not_post_links_and_nobody_more_than_the_limit(app, client, login, need):
    newcomer = login(_user())
    _comment(client, need, "Look: https://example.com")
    held = _fresh_comment("Look: https://example.com")
    assert held.state == CommentState.HELD
    assert held.held_for == [{"kind": "links", "count": 1, "limit": 0}]

    regular = _user()
    _published_comments(regular, need, 3)
    login(regular)
    _comment(client, need, "Two: www.example.org and example.cn/x")
    assert _fresh_comment("Two: www.example.org and example.cn/x").state == CommentState.VISIBLE
    _comment(client, need, "Three: a.com b.net http://c.org")
    too_many = _fresh_comment("Three: a.com b.net http://c.org")
    assert too_many.state == CommentState.HELD
    assert too_many.held_for == [{"kind": "links", "count": 3, "limit": 2}]

    login(newcomer)
    _comment(client, need, "No links at all")
    assert _fresh_comment("No links at all").state == CommentState.VISIBLE


def test_the_link_limits_follow_the_settings(client, login, need, admin):
    login(admin)
    form = form_for(client.get("/admin/settings").get_data(as_text=True), "/admin/settings")
    form["fields"].update(links_per_text="0", links_min_contributions="0")
    assert client.post(form["action"], data=form["fields"]).status_code == 303
    assert {e.after.popitem()[0] for e in _audit("setting.change")} == {
        "links_per_text",
        "links_min_contributions",
    }
    form["fields"]["links_per_text"] = "21"
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    assert "Between 0 and 20." in response.get_data(as_text=True)

    login(_user())
    _comment(client, need, "see example.com")
    assert _fresh_comment("see example.com").held_for == [{"kind": "links", "count": 1, "limit": 0}]


def test_the_public_thread_runs_the_same_queries_with_held_comments(
    app, client, login, need, queries
):
    author = _user()
    _published_comments(author, need, 3)
    path = f"/needs/{need.ref}"
    anonymous = app.test_client()
    anonymous.get(path)
    login(author)
    client.get(path)
    with queries() as public_before:
        assert "Earlier 2" in anonymous.get(path).get_data(as_text=True)
    with queries() as author_before:
        client.get(path)
    for n in range(10):
        db.session.add(
            Comment(
                need_id=need.id,
                author_id=author.id if n % 2 else make_user().id,
                body=f"Held {n}",
                client_token=f"h{n}",
                state=CommentState.HELD,
                held_for=[{"kind": "term", "term": BAIT}],
            )
        )
    db.session.commit()
    with queries() as public_after:
        html = anonymous.get(path).get_data(as_text=True)
    assert "Held 1" not in html and "Earlier 2" in html
    with queries() as author_after:
        html = client.get(path).get_data(as_text=True)
    assert "Held 1" in html and "Held 2" not in html  # the author's own, marked
    assert html.count("Your comment awaits moderation") == 5
    assert len(public_after) == len(public_before)
    assert len(author_after) == len(author_before)


# --- project updates ----------------------------------------------------------------


@pytest.fixture
def project(admin):
    project = make_project()
    db.session.commit()
    return project


def _follower(project):
    member = make_user()
    member.notify_followed = Delivery.IMMEDIATE  # mail at once, not in the digest
    projects.follow_project(project, member)
    db.session.commit()
    return member


def test_a_project_update_with_a_term_waits_for_approval(app, client, login, admin, project, terms):
    follower = _follower(project)
    staff = login(_user(Role.PARTNER, project.lead_organisation))
    form = form_for(client.get(f"/projects/{project.id}").get_data(as_text=True), "/updates")
    form["fields"]["update-body"] = "报名请加微信 abc"
    response = client.post(form["action"], data=form["fields"], follow_redirects=True)
    assert "Your update awaits moderation" in response.get_data(as_text=True)
    update = db.session.scalar(sa.select(ProjectUpdate))
    assert update.state == UpdateState.HELD
    assert "报名请加微信" not in _anonymous_page(app, f"/projects/{project.id}")
    assert "报名请加微信" not in _anonymous_page(app, f"/feeds/projects/{project.id}.atom")
    outbox = sa.select(OutboxEmail).where(OutboxEmail.to_address == follower.email)
    assert db.session.scalars(outbox).all() == []
    own = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "报名请加微信" in own and "Awaits moderation" in own

    login(admin)
    page = client.get("/admin/moderation").get_data(as_text=True)
    assert "报名请加微信" in page and "Contains the listed term" in page
    approve = form_for(page, f"/updates/{update.id}/approve")
    assert client.post(approve["action"], data=approve["fields"]).status_code == 303
    db.session.expire_all()
    assert db.session.get(ProjectUpdate, update.id).state == UpdateState.PUBLISHED
    assert "报名请加微信" in _anonymous_page(app, f"/projects/{project.id}")
    assert len(db.session.scalars(outbox).all()) == 1
    [posted, approved] = _audit("project.update")
    assert posted.actor_id == staff.id and posted.after["state"] == "held"
    assert approved.action == "project.update_approve" and approved.actor_id == admin.id

    # decided once: a second decision is refused, nothing changes
    response = client.post(approve["action"], data=approve["fields"])
    assert response.status_code == 404


def test_a_rejected_update_stays_hidden_and_is_audited(app, client, login, admin, project, terms):
    staff = make_user(Role.PARTNER, project.lead_organisation)
    update = projects.post_update(project, staff, "QQ群 123456")
    db.session.commit()
    assert update.state == UpdateState.HELD
    login(admin)
    page = client.get("/admin/moderation").get_data(as_text=True)
    reject = form_for(page, f"/updates/{update.id}/reject")
    reject["fields"]["reason"] = "Contact bait"
    assert client.post(reject["action"], data=reject["fields"]).status_code == 303
    db.session.expire_all()
    assert db.session.get(ProjectUpdate, update.id).state == UpdateState.REJECTED
    assert "QQ群" not in _anonymous_page(app, f"/projects/{project.id}")
    [entry] = _audit("project.update_reject")
    assert entry.actor_id == admin.id and entry.after["reason"] == "Contact bait"


def test_the_digest_has_an_update_only_once_approved(project, admin, terms):
    from portal.notify.services import send_digests

    reader = make_user()
    reader.notify_followed, reader.locale = Delivery.DAILY, "en"
    projects.follow_project(project, reader)
    staff = make_user(Role.PARTNER, project.lead_organisation)
    update = projects.post_update(project, staff, "Sign up: 加V 123")
    db.session.commit()
    assert send_digests() == 0
    projects.approve_update(update, admin)
    db.session.commit()
    assert send_digests() == 1
    mail = db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.to_address == reader.email))
    assert "Sign up" in mail.body_text


def test_an_admins_update_is_not_screened(project, admin, terms):
    update = projects.post_update(project, admin, "加微信 is the bait we warn about")
    assert update.state == UpdateState.PUBLISHED


# --- needs ----------------------------------------------------------------------------


def test_a_need_with_a_term_is_flagged_in_triage_and_not_published_in_bulk(
    client, login, admin, terms
):
    flagged, _t = make_need(NeedStatus.SUBMITTED, title="路灯坏了，详情加 微 信")
    plain, _t = make_need(NeedStatus.SUBMITTED, title="路灯坏了")
    db.session.commit()
    login(admin)
    queue = client.get("/admin/triage").get_data(as_text=True)
    row = queue.split(f'id="need-row-{flagged.id}"')[1].split("</article>")[0]
    assert "Flagged for a careful look" in row and f"“{BAIT}”" in row
    plain_row = queue.split(f'id="need-row-{plain.id}"')[1].split("</article>")[0]
    assert "Flagged" not in plain_row
    page = client.get(f"/admin/needs/{flagged.ref}").get_data(as_text=True)
    assert "Flagged for a careful look" in page and f"“{BAIT}”" in page

    form = form_for(queue, "/admin/triage/bulk")
    form["fields"].update(action="publish", need=flagged.ref)
    token = form["fields"]["csrf_token"]
    response = client.post(
        "/admin/triage/bulk",
        data={**form["fields"], "need": [flagged.ref, plain.ref], "csrf_token": token},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert f"{flagged.ref} was not changed: Flagged" in html
    db.session.expire_all()
    assert db.session.get(Need, flagged.id).status == NeedStatus.SUBMITTED
    assert db.session.get(Need, plain.id).status == NeedStatus.OPEN

    # published one by one from its page, after reading it
    publish = form_for(page, f"/admin/needs/{flagged.ref}/publish")
    assert client.post(publish["action"], data=publish["fields"]).status_code == 303
    db.session.expire_all()
    assert db.session.get(Need, flagged.id).status == NeedStatus.OPEN


def test_a_need_with_too_many_links_is_flagged(client, login, admin):
    need, _t = make_need(NeedStatus.SUBMITTED, body="See a.com, b.com and http://c.com now")
    db.session.commit()
    flags = moderation.need_flags([need])
    assert flags[need.id].reasons() == [{"kind": "links", "count": 3, "limit": 2}]
    login(admin)
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "3 links, more than the 2 allowed" in page


def test_the_cli_refuses_to_publish_a_flagged_need(app, admin, terms):
    need, _t = make_need(NeedStatus.SUBMITTED, body="请加V 详谈")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["portal", "publish", need.ref, "--admin", admin.email]
    )
    assert result.exit_code != 0
    assert "flagged" in result.output
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == NeedStatus.SUBMITTED


# --- the term list ----------------------------------------------------------------------


def _words_form(client, action: str) -> dict:
    return form_for(client.get("/admin/moderation/words").get_data(as_text=True), action)


def test_admins_add_and_remove_terms_audited(client, login, admin):
    login(admin)
    assert "Sensitive terms" in client.get("/admin/moderation").get_data(as_text=True)
    form = _words_form(client, "/admin/moderation/words")
    form["fields"]["term"] = "加微信"
    assert client.post(form["action"], data=form["fields"]).status_code == 303
    html = client.get("/admin/moderation/words").get_data(as_text=True)
    assert "加微信" in html and "Hold for moderation" in html

    form["fields"]["term"] = "加 微-信"  # the same term spelled otherwise
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "“加微信” is already on the list." in html and 'value="加 微-信"' in html

    form["fields"]["term"] = "  --  "
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    assert "A term needs at least one letter or digit." in response.get_data(as_text=True)

    [row] = db.session.scalars(sa.select(SensitiveTerm)).all()
    remove = _words_form(client, f"/words/{row.id}/remove")
    assert client.post(remove["action"], data=remove["fields"]).status_code == 303
    assert db.session.scalars(sa.select(SensitiveTerm)).all() == []
    entries = _audit("moderation.")
    assert [(e.action, e.actor_id) for e in entries] == [
        ("moderation.term_add", admin.id),
        ("moderation.term_remove", admin.id),
    ]
    assert entries[0].after == {"term": "加微信", "kind": "hold"}


def _upload(client, data: bytes, name: str = "terms.txt"):
    form = _words_form(client, "/words/import")
    return client.post(
        form["action"],
        data={**form["fields"], "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_importing_a_file_adds_new_terms_and_counts_them(client, login, admin):
    login(admin)
    moderation.add_term("私聊", admin)
    db.session.commit()
    text = "\ufeff# contact bait\n加微信\n加V\n\n私聊\nQQ群\n加 微 信\n代办\n"
    response = _upload(client, text.encode("utf-8"))
    assert response.status_code == 303
    html = client.get("/admin/moderation/words").get_data(as_text=True)
    assert "4 terms added. 2 lines were already on the list or repeated." in html
    listed = set(db.session.scalars(sa.select(SensitiveTerm.term)))
    assert listed == {"私聊", "加微信", "加V", "QQ群", "代办"}
    [entry] = _audit("moderation.terms_import")
    assert entry.after == {"file": "terms.txt", "lines": 6, "added": 4}
    assert entry.actor_id == admin.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("加微信\n刷单\n".encode("gbk"), "The file is not UTF-8 text."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is not a text file"),
        (b"# only a comment\n\n", "The file holds no terms."),
        (("x" * 101 + "\n").encode(), "Line 1 is longer than 100 characters."),
        (b"a\n" * (130 * 1024), "The file is larger than 256 KB."),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_error(client, login, admin, data, message):
    login(admin)
    response = _upload(client, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="file-errors"' in html
    assert db.session.scalars(sa.select(SensitiveTerm)).all() == []
    assert _audit("moderation.") == []


def test_the_term_list_needs_the_csrf_token(client, login, admin):
    login(admin)
    response = client.post("/admin/moderation/words", data={"term": "加微信"})
    assert response.status_code == 400
    response = client.post(
        "/admin/moderation/words/import",
        data={"file": (io.BytesIO("加微信".encode()), "t.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert db.session.scalars(sa.select(SensitiveTerm)).all() == []


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_members_and_partners_get_403_on_the_term_list(client, login, admin, role):
    row = moderation.add_term("加微信", admin)
    db.session.commit()
    login(make_user(role))
    db.session.commit()
    response = client.get("/admin/moderation/words")
    assert response.status_code == 403
    assert "加微信" not in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    assert (
        client.post("/admin/moderation/words", data={"csrf_token": token, "term": "刷单"})
    ).status_code == 403
    assert (
        client.post(f"/admin/moderation/words/{row.id}/remove", data={"csrf_token": token})
    ).status_code == 403
    response = client.post(
        "/admin/moderation/words/import",
        data={"csrf_token": token, "file": (io.BytesIO("刷单".encode()), "t.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert set(db.session.scalars(sa.select(SensitiveTerm.term))) == {"加微信"}
