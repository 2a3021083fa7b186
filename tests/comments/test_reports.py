"""Members report a comment once; the third report holds it everywhere
until a moderator decides; a restored comment is not held again by reports."""

from __future__ import annotations

import sqlalchemy as sa

from portal.comments.models import Comment, CommentReport, CommentState
from portal.extensions import db
from tests.comments.conftest import HTMX, add_comment
from tests.factories import make_user
from tests.forms import form_for


def _report(client, login, user, page: str, comment: Comment, reason="Rude", headers=None):
    login(user)
    form = form_for(client.get(page).get_data(as_text=True), f"/comments/{comment.id}/report")
    form["fields"]["reason"] = reason
    return client.post(form["action"], data=form["fields"], headers=headers or {})


def _state(comment: Comment) -> tuple[CommentState, int]:
    db.session.expire_all()
    row = db.session.get(Comment, comment.id)
    return row.state, row.report_count


def test_the_third_report_holds_the_comment_everywhere(client, login, need, project, csrf_token):
    author = make_user()
    on_need = add_comment(author, need=need, body="Nasty words on the need")
    on_project = add_comment(author, project=project, body="Nasty words on the project")
    reporters = [make_user() for _ in range(3)]
    db.session.commit()
    need_page = f"/needs/{need.ref}"
    project_page = f"/projects/{project.id}/comments"

    response = _report(client, login, reporters[0], need_page, on_need)
    assert response.status_code == 303
    assert _state(on_need) == (CommentState.VISIBLE, 1)
    response = _report(client, login, reporters[1], need_page, on_need, headers=HTMX)
    assert response.status_code == 200
    assert "You reported this comment." in response.get_data(as_text=True)
    assert _state(on_need) == (CommentState.VISIBLE, 2)
    assert "Nasty words on the need" in client.get(need_page).get_data(as_text=True)

    response = _report(client, login, reporters[2], need_page, on_need, headers=HTMX)
    assert response.status_code == 200
    assert "Nasty words" not in response.get_data(as_text=True)
    assert _state(on_need) == (CommentState.HELD, 3)

    for user in reporters:
        _report(client, login, user, project_page, on_project)
    assert _state(on_project) == (CommentState.HELD, 3)

    # a page opened before the hold still reports: the moderator sees every report
    login(make_user())
    db.session.commit()
    response = client.post(
        f"/comments/{on_need.id}/report",
        data={"csrf_token": csrf_token(), "reason": "late"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Nasty words" not in response.get_data(as_text=True)
    assert _state(on_need) == (CommentState.HELD, 4)

    with client.session_transaction() as session:
        session.clear()
    for url in (need_page, f"{need_page}/comments", project_page):
        for headers in ({}, HTMX):
            html = client.get(url, headers=headers).get_data(as_text=True)
            assert "Nasty words" not in html, url
    if "projects.show" in client.application.view_functions:
        assert "Nasty words" not in client.get(f"/projects/{project.id}").get_data(as_text=True)

    login(author)  # the author sees their own held comment, marked
    html = client.get(need_page).get_data(as_text=True)
    assert "Nasty words on the need" in html
    assert "Held for review" in html


def test_a_member_reports_once(client, login, need, csrf_token):
    author, reporter = make_user(), make_user()
    comment = add_comment(author, need=need)
    db.session.commit()
    client.set_cookie("locale", "en")
    _report(client, login, reporter, f"/needs/{need.ref}", comment)
    data = {"csrf_token": csrf_token(), "reason": "again"}
    response = client.post(f"/comments/{comment.id}/report", data=data, follow_redirects=True)
    assert "You already reported this comment." in response.get_data(as_text=True)
    response = client.post(f"/comments/{comment.id}/report", data=data, headers=HTMX)
    assert "You already reported this comment." in response.get_data(as_text=True)
    assert _state(comment) == (CommentState.VISIBLE, 1)
    reasons = list(db.session.scalars(sa.select(CommentReport.reason)))
    assert reasons == ["Rude"]


def test_no_one_reports_their_own_comment(client, login, need, csrf_token):
    author = make_user()
    comment = add_comment(author, need=need)
    db.session.commit()
    login(author)
    client.set_cookie("locale", "en")
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert f"/comments/{comment.id}/report" not in page
    response = client.post(
        f"/comments/{comment.id}/report",
        data={"csrf_token": csrf_token()},
        follow_redirects=True,
    )
    assert "You cannot report your own comment." in response.get_data(as_text=True)
    assert _state(comment) == (CommentState.VISIBLE, 0)


def test_visitors_and_unverified_members_cannot_report(client, login, need, csrf_token):
    comment = add_comment(make_user(), need=need)
    db.session.commit()
    data = {"csrf_token": csrf_token()}
    response = client.post(f"/comments/{comment.id}/report", data=data)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert f"/comments/{comment.id}/report" not in client.get(f"/needs/{need.ref}").get_data(
        as_text=True
    )
    login(make_user(verified=False))
    db.session.commit()
    assert client.post(f"/comments/{comment.id}/report", data=data).status_code == 403
    assert _state(comment) == (CommentState.VISIBLE, 0)


def test_hidden_comments_cannot_be_reported(client, login, need, csrf_token):
    comment = add_comment(make_user(), need=need)
    comment.state = CommentState.HIDDEN
    db.session.commit()
    login(make_user())
    db.session.commit()
    response = client.post(f"/comments/{comment.id}/report", data={"csrf_token": csrf_token()})
    assert response.status_code == 404
    assert client.post("/comments/999/report", data={"csrf_token": csrf_token()}).status_code == 404
