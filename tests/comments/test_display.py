"""Comment text is shown escaped; only http(s) URLs become links, marked
rel="nofollow ugc noopener"; the stored text is what the author wrote."""

from __future__ import annotations

import pytest

from portal.comments.services import linkify
from portal.extensions import db
from tests.comments.conftest import add_comment
from tests.factories import make_user


def test_plain_text_is_escaped():
    html = str(linkify('<script>alert("x")</script> & <b>bold</b>'))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html


def test_http_links_are_made_with_rel():
    html = str(linkify("See https://example.org/a?b=1&c=2, then http://x.cn/路."))
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
        "https://example.org/a?b=1&amp;c=2</a>, then "
    ) in html
    assert '<a href="http://x.cn/路" rel="nofollow ugc noopener">http://x.cn/路</a>.' in html


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        'https://example.org/"onmouseover="alert(1)',
        "https://example.org/<script>alert(1)</script>",
    ],
)
def test_nothing_the_author_types_runs(text):
    html = str(linkify(text))
    assert "<script" not in html
    assert 'href="javascript' not in html.lower()
    assert 'href="data' not in html
    assert '"onmouseover' not in html
    for anchor in html.split("<a ")[1:]:
        assert anchor.startswith('href="http')


def test_chinese_punctuation_ends_a_link():
    html = str(linkify("链接：https://example.org/x，谢谢（https://example.org/y）"))
    assert 'href="https://example.org/x"' in html
    assert 'href="https://example.org/y"' in html


def test_brackets_and_newlines(client):
    html = str(linkify("(see https://en.wikipedia.org/wiki/Foo_(bar))\nline two"))
    assert 'href="https://en.wikipedia.org/wiki/Foo_(bar)"' in html
    assert html.endswith(")\nline two")


def test_the_page_shows_the_text_escaped_and_linked(client, need):
    author = make_user()
    body = "<script>alert(1)</script> javascript:alert(2) https://example.org/ok"
    comment = add_comment(author, need=need, body=body)
    db.session.commit()
    html = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.org/ok" rel="nofollow ugc noopener">' in html
    db.session.refresh(comment)
    assert comment.body == body  # stored as written
