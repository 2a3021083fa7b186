"""The test harness itself (tests/conftest.py): tests share an app, and nothing
one test leaves (rows, ids, settings, rate-limit counts, cached numbers, the
compiled term matcher, extension settings) reaches the next.

Most checks come in pairs: the first test leaves something behind, the one
right after it (pytest keeps the file's order) finds it gone.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from limits import parse

from portal.auth.models import User
from portal.extensions import cache, db, limiter
from portal.moderation import services as moderation
from portal.moderation.matching import term_key
from portal.moderation.models import SensitiveTerm
from portal.needs.models import NeedStatus
from portal.voting.models import Support
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user

#: What the first test of a pair hands to the second.
LEFT: dict[str, object] = {}

LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
CACHED = {"CACHE_TYPE": "SimpleCache"}
HTTPS = {"SESSION_COOKIE_SECURE": True}


def _users() -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def _users_seen_by_another_connection() -> int:
    with db.engine.connect() as other:
        return other.scalar(sa.select(sa.func.count(User.id)))


def test_the_code_under_test_commits_and_rolls_back_on_savepoints(app):
    kept = make_user()
    db.session.commit()
    make_user()
    db.session.rollback()  # as a view does after an error: the commit above stays
    assert _users() == 1 and db.session.get(User, kept.id) is not None
    # ... and nothing of it is really committed: another connection sees no row.
    assert _users_seen_by_another_connection() == 0
    app.config["NEEDS_PER_PAGE"] = 1
    LEFT["app"] = app


def test_the_next_test_shares_the_app_and_finds_its_tables_ids_and_settings_fresh(app):
    assert app is LEFT["app"]
    assert _users() == 0
    user = make_user()
    db.session.flush()
    assert user.id == 1  # on PostgreSQL too: its sequences start again
    assert app.config["NEEDS_PER_PAGE"] == 20


def test_each_request_reads_what_the_test_committed_and_commits_for_it(client, login):
    need, _ = make_need(NeedStatus.OPEN)
    login(make_user())
    db.session.commit()
    token = csrf_token_from(client.get(f"/needs/{need.ref}").get_data(as_text=True))
    response = client.post(
        f"/needs/{need.ref}/support", data={"csrf_token": token, "action": "add"}
    )
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Support.id))) == 1


@pytest.mark.committed
def test_a_committed_test_commits_for_real(app):
    make_user()
    db.session.commit()
    assert _users_seen_by_another_connection() == 1


def test_after_a_committed_test_the_tables_are_empty(app):
    assert _users() == 0 and _users_seen_by_another_connection() == 0


@pytest.mark.parametrize("app_config", [LIMITED])
def test_a_test_uses_up_a_rate_limit(app, app_config):
    assert limiter.enabled
    assert limiter.limiter.hit(parse("1 per hour"), "harness")
    assert not limiter.limiter.hit(parse("1 per hour"), "harness")


@pytest.mark.parametrize("app_config", [LIMITED])
def test_the_next_test_starts_with_no_counts(app, app_config):
    assert limiter.limiter.hit(parse("1 per hour"), "harness")


def test_an_app_without_limits_is_not_limited_after_one_with_limits(app):
    assert not limiter.enabled


@pytest.mark.parametrize("app_config", [CACHED])
def test_a_test_caches_numbers(app, app_config):
    cache.set("harness", 42)
    assert cache.get("harness") == 42


@pytest.mark.parametrize("app_config", [CACHED])
def test_the_next_test_finds_the_cache_empty(app, app_config):
    assert cache.get("harness") is None


def test_a_test_compiles_the_term_list_of_its_version(app):
    # A term written directly, with no version row: the version is the default one.
    db.session.add(SensitiveTerm(term="刷单", key=term_key("刷单")))
    assert moderation.screen("刷单", make_user()).terms == ["刷单"]


def test_the_next_test_does_not_reuse_a_matcher_of_rolled_back_terms(app):
    assert moderation.screen("刷单", make_user()).terms == []


@pytest.mark.parametrize("app_config", [HTTPS])
def test_a_secure_site_sends_hsts(client, app_config):
    response = client.get("/needs/new", base_url="https://portal.example")
    assert "Strict-Transport-Security" in response.headers


def test_the_next_app_keeps_its_own_security_headers(client):
    response = client.get("/needs/new", base_url="https://portal.example")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]
