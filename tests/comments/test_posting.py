"""Members comment on needs and projects: full page and htmx, errors keep
the text, a double submit makes one comment, visitors are asked to log in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.comments.models import Comment
from portal.comments.services import post_comment, thread_for
from portal.extensions import db, limiter
from portal.needs.models import NeedStatus
from tests.comments.conftest import HTMX, add_comment
from tests.factories import make_need, make_user
from tests.forms import form_for


def _comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


def _comment_form(client, page: str) -> dict:
    html = client.get(page).get_data(as_text=True)
    return form_for(html, "/comments")


def test_a_member_comments_on_a_need_without_javascript(client, login, need, member):
    login(member)
    form = _comment_form(client, f"/needs/{need.ref}")
    form["fields"]["body"] = "The bus stop has no shelter."
    response = client.post(form["action"], data=form["fields"])

    assert response.status_code == 303
    (comment,) = _comments()
    assert response.headers["Location"].endswith(f"/needs/{need.ref}#comment-{comment.id}")
    assert comment.body == "The bus stop has no shelter."
    assert comment.author_id == member.id and comment.need_id == need.id

    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "The bus stop has no shelter." in page
    assert member.display_name in page
    assert member.email not in page


def test_htmx_appends_the_comment_and_resets_the_form(client, login, need, member):
    other = make_user()
    add_comment(other, need=need, body="First!")
    db.session.commit()
    login(member)
    form = _comment_form(client, f"/needs/{need.ref}")
    form["fields"]["body"] = "Second, politely."
    response = client.post(form["action"], data=form["fields"], headers=HTMX)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<section")  # the thread alone, not the page
    assert "<html" not in html
    assert html.index("First!") < html.index("Second, politely.")
    fresh = form_for(html, "/comments")
    assert fresh["fields"]["body"] == ""
    assert fresh["fields"]["client_token"] != form["fields"]["client_token"]
    assert len(_comments()) == 2


def test_a_member_comments_on_a_project(client, login, project, member):
    login(member)
    form = _comment_form(client, f"/projects/{project.id}/comments")
    form["fields"]["body"] = "Count me in for the training."
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 303
    (comment,) = _comments()
    assert comment.project_id == project.id and comment.need_id is None
    assert f"#comment-{comment.id}" in response.headers["Location"]

    page = client.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "Count me in for the training." in page

    form = _comment_form(client, f"/projects/{project.id}/comments")
    form["fields"]["body"] = "And with htmx."
    response = client.post(form["action"], data=form["fields"], headers=HTMX)
    assert response.status_code == 200
    assert "And with htmx." in response.get_data(as_text=True)


def test_project_threads_through_the_service(app, project, member):
    comment, created = post_comment(member, "Hello project", "tok-project-0001", project=project)
    again, created_again = post_comment(
        member, "Hello project", "tok-project-0001", project=project
    )
    db.session.commit()
    assert created and not created_again and again.id == comment.id
    with app.test_request_context():
        thread = thread_for(project=project, user=member)
    assert [c.body for c in thread.comments] == ["Hello project"]
    assert thread.can_comment and thread.form is not None


def test_an_empty_or_too_long_comment_keeps_what_was_typed(client, login, need, member):
    login(member)
    client.set_cookie("locale", "en")
    form = _comment_form(client, f"/needs/{need.ref}")
    too_long = "写" * 2001
    form["fields"]["body"] = too_long
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "at most 2000 characters" in html
    assert too_long in html
    assert form_for(html, "/comments")["fields"]["client_token"] == form["fields"]["client_token"]

    response = client.post(form["action"], data=form["fields"], headers=HTMX)
    assert response.status_code == 200
    assert too_long in response.get_data(as_text=True)

    form["fields"]["body"] = "   "
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    assert "Please write your comment." in response.get_data(as_text=True)
    assert _comments() == []


def test_a_double_submit_makes_one_comment(client, login, need, member):
    login(member)
    form = _comment_form(client, f"/needs/{need.ref}")
    form["fields"]["body"] = "Only once, please."
    first = client.post(form["action"], data=form["fields"])
    second = client.post(form["action"], data=form["fields"], headers=HTMX)
    assert first.status_code == 303 and second.status_code == 200
    assert [c.body for c in _comments()] == ["Only once, please."]
    assert second.get_data(as_text=True).count("Only once, please.") == 1


def test_visitors_and_unverified_members_cannot_comment(client, login, need, csrf_token):
    token = csrf_token()
    data = {"csrf_token": token, "body": "Hi", "client_token": "x" * 32}
    response = client.post(f"/needs/{need.ref}/comments", data=data)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert f'action="/needs/{need.ref}/comments"' not in page

    unverified = make_user(verified=False)
    db.session.commit()
    login(unverified)
    assert client.post(f"/needs/{need.ref}/comments", data=data).status_code == 403
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert f'action="/needs/{need.ref}/comments"' not in page
    assert _comments() == []


def test_unlisted_needs_take_no_comments(client, login, member, csrf_token):
    submitted, _token = make_need(NeedStatus.SUBMITTED)
    db.session.commit()
    login(member)
    data = {"csrf_token": csrf_token(), "body": "Hi", "client_token": "x" * 32}
    assert client.post(f"/needs/{submitted.ref}/comments", data=data).status_code == 404
    assert client.get(f"/needs/{submitted.ref}/comments").status_code == 404
    assert client.post("/projects/999/comments", data=data).status_code == 404
    assert _comments() == []


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "COMMENT_RATE_LIMIT": "2 per minute",
        }
    ],
)
def test_posting_is_rate_limited(client, login, need, member, app_config):
    limiter.reset()
    login(member)
    codes = []
    for n in range(3):
        form = _comment_form(client, f"/needs/{need.ref}")
        form["fields"]["body"] = f"Comment {n}"
        codes.append(client.post(form["action"], data=form["fields"]).status_code)
    assert codes == [303, 303, 429]
    assert len(_comments()) == 2
    # counted per account: a neighbour on the same network still posts
    login(make_user())
    db.session.commit()
    form = _comment_form(client, f"/needs/{need.ref}")
    form["fields"]["body"] = "From the same address"
    assert client.post(form["action"], data=form["fields"]).status_code == 303
