"""Threads and the moderation list cost the same number of queries whatever
their length, and long threads page by keyset."""

from __future__ import annotations

from portal.comments import services
from portal.comments.services import report_comment
from portal.extensions import db
from tests.comments.conftest import add_comment
from tests.factories import make_user


def _add(need, count: int, viewer=None) -> None:
    for n in range(count):
        comment = add_comment(make_user(), need=need, body=f"Comment number {n}")
        if viewer is not None and n % 2:
            report_comment(comment, viewer, "")
    db.session.commit()


def test_the_need_page_is_constant_in_queries(client, login, need, queries):
    viewer = make_user()
    _add(need, 2, viewer)
    login(viewer)
    page = f"/needs/{need.ref}"
    client.get(page)
    with queries() as small:
        assert client.get(page).status_code == 200
    _add(need, 28, viewer)
    with queries() as large:
        html = client.get(page).get_data(as_text=True)
    assert html.count('class="comment"') == 30
    assert html.count("You reported this comment.") == 15
    assert len(large) == len(small), large


def test_anonymous_need_page_is_constant_in_queries(client, need, queries):
    _add(need, 2)
    with queries() as small:
        client.get(f"/needs/{need.ref}")
    _add(need, 28)
    with queries() as large:
        client.get(f"/needs/{need.ref}")
    assert len(large) == len(small)


def test_the_moderation_list_is_constant_in_queries(client, login, need, project, admin, queries):
    def reported(count):
        for n in range(count):
            target = {"need": need} if n % 2 else {"project": project}
            comment = add_comment(make_user(), body=f"Bad {n}", **target)
            for _ in range(1 + n % 3):
                report_comment(comment, make_user(), "why")
        db.session.commit()

    login(admin)
    reported(2)
    client.get("/admin/moderation")
    with queries() as small:
        client.get("/admin/moderation")
    reported(28)
    with queries() as large:
        html = client.get("/admin/moderation").get_data(as_text=True)
    assert html.count('class="card moderation-row"') == 30
    assert len(large) == len(small)


def _older_link(html: str) -> str:
    before_label = html.split("Older comments")[0]
    return before_label.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")


def _shown(html: str) -> list[int]:
    return [n for n in range(7) if f"Comment number {n}<" in html]


def test_long_threads_page_to_older_comments(client, need, monkeypatch):
    monkeypatch.setattr(services, "THREAD_SIZE", 3)
    _add(need, 7)
    client.set_cookie("locale", "en")
    html = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert _shown(html) == [4, 5, 6]
    html = client.get(_older_link(html)).get_data(as_text=True)
    assert _shown(html) == [1, 2, 3]
    html = client.get(_older_link(html)).get_data(as_text=True)
    assert _shown(html) == [0]
    assert "Older comments" not in html
    assert "Newest comments" in html
