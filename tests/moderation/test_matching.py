"""The matcher and the link counter: what they find, how fast, and that every
process sees a change of the list."""

from __future__ import annotations

import random
import time

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.models import Setting
from portal.extensions import db
from portal.moderation import services
from portal.moderation.links import count_links
from portal.moderation.matching import Matcher, Term, term_key
from portal.moderation.models import SensitiveTerm
from tests.factories import make_user


def _matcher(*terms: str) -> Matcher:
    return Matcher(Term(term_key(t), t) for t in terms)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("请加微信", ["加微信"]),
        ("加 微 信", ["加微信"]),
        ("加-微-信", ["加微信"]),
        ("加\u3000微\u3000信", ["加微信"]),  # full-width spaces
        ("加★微★信", ["加微信"]),
        ("加\u200b微\u200b信", ["加微信"]),  # zero-width spaces
        ("ＱＱ群", ["QQ群"]),  # full-width letters
        ("qq群", ["QQ群"]),
        ("加Ｖ信", ["加V"]),
        ("加vip", []),  # "加V" must not run on into a Latin word
        ("is exciting", []),  # nor "sex" be read across a word boundary
        ("s e x", ["sex"]),
        ("加微", []),
        ("加微信和QQ群", ["加微信", "QQ群"]),
    ],
)
def test_terms_are_found_however_they_are_written(text, found):
    assert _matcher("加微信", "QQ群", "加V", "sex").find(text) == found


def test_overlapping_terms_are_all_found():
    assert set(_matcher("微信", "加微信", "信号").find("加微信号")) == {"微信", "加微信", "信号"}


def test_the_automaton_finds_what_a_plain_search_finds():
    rng = random.Random(12)
    alphabet = "加微信群聊私代办刷单"
    terms = {"".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(60)}
    matcher = _matcher(*terms)
    for _ in range(200):
        text = "".join(rng.choices(alphabet + " -", k=rng.randint(0, 30)))
        plain = text.replace(" ", "").replace("-", "")
        assert set(matcher.find(text)) == {t for t in terms if t in plain}


def test_thousands_of_terms_cost_little_per_text():
    rng = random.Random(3)

    def word(k):
        return "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(k))

    started = time.perf_counter()
    matcher = _matcher(*(word(rng.randint(2, 5)) for _ in range(5000)))
    built = time.perf_counter() - started
    text = word(2000)
    started = time.perf_counter()
    for _ in range(10):
        matcher.find(text)
    per_text = (time.perf_counter() - started) / 10
    assert matcher.size > 4900
    assert built < 2.0, built
    assert per_text < 0.05, per_text  # about 1 ms here


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("no links here 加微信", 0),
        ("see https://example.com/a?b=1 and http://x.org", 2),
        ("www.example.com", 1),
        ("加我 example.com 或 t.cn/abc", 2),
        ("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ", 1),  # full-width
        ("example。com", 1),  # ideographic full stop
        ("e.g. i.e. Mr.Smith 3.14 v1.2", 0),
        ("mail me@example.com", 0),
        ("http://", 0),
    ],
)
def test_links_are_counted(text, links):
    assert count_links(text) == links


# --- the compiled matcher per list version ----------------------------------------------


def test_the_matcher_is_built_once_per_version_and_sees_other_processes(app, queries):
    admin = make_user(Role.ADMIN)
    services.add_term("加微信", admin)
    db.session.commit()
    member = make_user()
    assert services.screen("请加微信", member).terms == ["加微信"]
    with queries() as statements:
        services.screen("请加微信", member)
    assert len(statements) == 1  # the policy row; the matcher is reused

    # Another process changes the list: a row and a new version in the database.
    db.session.add(SensitiveTerm(term="刷单", key=term_key("刷单")))
    assert services.screen("刷单", member).terms == []  # same version: not rebuilt
    db.session.execute(
        sa.update(Setting).where(Setting.key == services.TERMS_VERSION).values(value="other")
    )
    assert services.screen("刷单", member).terms == ["刷单"]

    services.remove_term(db.session.scalar(sa.select(SensitiveTerm).filter_by(term="刷单")), admin)
    assert services.screen("刷单", member).terms == []
