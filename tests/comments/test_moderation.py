"""/admin/moderation: admins only; held comments first, then the most
reported; hide (reason required) and restore, both audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.comments.models import Comment, CommentReport, CommentState
from portal.comments.services import report_comment
from portal.extensions import db
from tests.comments.conftest import HTMX, add_comment
from tests.factories import make_user
from tests.forms import form_for


def _reported(comment: Comment, times: int, reason: str = "Spam") -> None:
    for _ in range(times):
        report_comment(comment, make_user(), reason)
    db.session.commit()


def _moderation_audit() -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).where(AuditEntry.action.startswith("comment."))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def _fresh(comment: Comment) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_only_admins_open_moderation(client, login, need, role, csrf_token):
    comment = add_comment(make_user(), need=need, body="Secret moderation text")
    _reported(comment, 3)
    login(make_user(role))
    db.session.commit()
    response = client.get("/admin/moderation")
    assert response.status_code == 403
    assert "Secret moderation text" not in response.get_data(as_text=True)
    data = {"csrf_token": csrf_token(), "reason": "x"}
    assert client.post(f"/admin/moderation/{comment.id}/hide", data=data).status_code == 403
    assert client.post(f"/admin/moderation/{comment.id}/restore", data=data).status_code == 403
    assert _fresh(comment).state == CommentState.HELD


def test_the_queue_lists_held_first_then_most_reported(client, login, need, project, admin):
    author = make_user()
    once = add_comment(author, need=need, body="Reported once")
    twice = add_comment(author, need=need, body="Reported twice")
    held = add_comment(author, project=project, body="Held by three")
    quiet = add_comment(author, need=need, body="Nobody minds")
    _reported(once, 1, "Off topic")
    _reported(twice, 2)
    _reported(held, 3)
    login(admin)
    client.set_cookie("locale", "en")
    html = client.get("/admin/moderation").get_data(as_text=True)
    assert html.index("Held by three") < html.index("Reported twice") < html.index("Reported once")
    assert "Nobody minds" not in html
    assert "Off topic" in html  # the reasons
    assert author.display_name in html
    assert author.email not in html
    assert f'href="/needs/{need.ref}#comment-{once.id}"' in html
    assert project.title in html
    assert quiet.state == CommentState.VISIBLE


def test_hide_needs_a_reason_and_keeps_what_was_typed(client, login, need, admin):
    comment = add_comment(make_user(), need=need, body="Borderline")
    _reported(comment, 3)
    login(admin)
    client.set_cookie("locale", "en")
    form = form_for(client.get("/admin/moderation").get_data(as_text=True), f"/{comment.id}/hide")
    form["fields"]["reason"] = "  "
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    assert "Please give the reason for hiding this comment." in response.get_data(as_text=True)
    form["fields"]["reason"] = "x" * 1001
    response = client.post(form["action"], data=form["fields"], headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "x" * 1001 in html and "at most 1000 characters" in html
    assert "<html" not in html
    assert _fresh(comment).state == CommentState.HELD
    assert _moderation_audit() == []


def test_hide_and_restore_are_audited_and_change_what_the_public_sees(client, login, need, admin):
    author = make_user()
    comment = add_comment(author, need=need, body="Contested words")
    _reported(comment, 3)
    need_page = f"/needs/{need.ref}"
    login(admin)
    client.set_cookie("locale", "en")

    form = form_for(client.get("/admin/moderation").get_data(as_text=True), f"/{comment.id}/hide")
    form["fields"]["reason"] = "Personal attack"
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 303
    hidden = _fresh(comment)
    assert hidden.state == CommentState.HIDDEN
    assert hidden.moderation_reason == "Personal attack"
    assert hidden.moderated_by_id == admin.id and hidden.moderated_at is not None
    assert hidden.body == "Contested words"  # the text is kept
    assert "Contested words" not in client.get("/admin/moderation").get_data(as_text=True)
    assert "Contested words" not in client.get(need_page).get_data(as_text=True)

    response = client.post(
        f"/admin/moderation/{comment.id}/restore",
        data={"csrf_token": form["fields"]["csrf_token"], "reason": "On second thought"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "The comment is shown again." in response.get_data(as_text=True)
    assert _fresh(comment).state == CommentState.VISIBLE
    assert "Contested words" in client.get(need_page).get_data(as_text=True)

    entries = _moderation_audit()
    assert [(e.action, e.actor_id, e.object_id) for e in entries] == [
        ("comment.hide", admin.id, str(comment.id)),
        ("comment.restore", admin.id, str(comment.id)),
    ]
    assert entries[0].before["state"] == "held" and entries[0].after["state"] == "hidden"
    assert entries[0].after["moderation_reason"] == "Personal attack"
    assert entries[1].before["state"] == "hidden" and entries[1].after["state"] == "visible"
    assert entries[1].after["moderation_reason"] == "On second thought"


def test_a_restored_comment_is_not_held_again_but_listed_when_reported(
    client, login, need, admin, csrf_token
):
    comment = add_comment(make_user(), need=need, body="Restored words")
    _reported(comment, 3)
    login(admin)
    client.set_cookie("locale", "en")
    client.post(f"/admin/moderation/{comment.id}/restore", data={"csrf_token": csrf_token()})
    assert _fresh(comment).state == CommentState.VISIBLE
    assert "Restored words" not in client.get("/admin/moderation").get_data(as_text=True)

    _reported(_fresh(comment), 3)
    restored = _fresh(comment)
    assert restored.state == CommentState.VISIBLE
    assert restored.report_count == 6
    assert "Restored words" in client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Restored words" in client.get("/admin/moderation").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CommentReport.id))) == 6
