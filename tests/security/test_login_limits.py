"""Failed logins are limited per client address and per account (issue 12,
item 2): many addresses guessing one account's password lock it for a few
minutes, the page says so, its owner gets one e-mail, the lock ends by itself,
and an address without an account answers exactly alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import LoginThrottle
from portal.extensions import db, limiter
from portal.models_base import utcnow
from portal.notify.models import OutboxEmail
from tests.conftest import csrf_token_from
from tests.factories import make_user

PASSWORD = "Copper kettle hillside 93"
WRONG = "not the password at all"
LOCKED = "Too many failed logins for this account"
CSRF_VALUE = re.compile(r'(csrf_token" (?:type="hidden" )?value=|"X-CSRFToken": )"[^"]+"')
RATE_LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def _attempt(client, email: str, password: str, address: str = "203.0.113.1"):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    return client.post(
        "/auth/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _mails_to(address: str) -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == address)))


def _guess_from_many_addresses(client, email: str, times: int) -> list:
    return [_attempt(client, email, WRONG, f"198.51.100.{i + 1}") for i in range(times)]


def _logged_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


@pytest.mark.parametrize("app_config", [RATE_LIMITED])
def test_one_address_is_limited_without_blocking_the_others(client, app_config, fresh_limits):
    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    codes = [_attempt(client, user.email, WRONG, "203.0.113.7").status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]
    # The owner, from another address, logs in at once.
    response = _attempt(client, user.email, PASSWORD, "192.0.2.20")
    assert response.status_code == 303 and _logged_in(client)


@pytest.mark.parametrize("app_config", [RATE_LIMITED])
def test_guesses_from_many_addresses_lock_the_account(app, client, app_config, fresh_limits):
    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    limit = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]

    answers = _guess_from_many_addresses(client, user.email, limit)
    # No single address reached its own limit; together they locked the account.
    assert [r.status_code for r in answers] == [422] * limit
    assert all(LOCKED not in r.get_data(as_text=True) for r in answers[:-1])
    page = answers[-1].get_data(as_text=True)
    assert f"{LOCKED}. Try again in 15 minutes or choose a new password." in page
    assert "/auth/reset" in page

    # During the lock even the right password, from a new address, is refused.
    right = _attempt(client, user.email, PASSWORD, "192.0.2.99")
    assert right.status_code == 422 and LOCKED in right.get_data(as_text=True)
    assert not _logged_in(client)

    # The owner hears of it once, with a way out.
    mails = _mails_to(user.email)
    assert len(mails) == 1
    assert "locked" in mails[0].subject
    assert f"{limit} failed logins" in mails[0].body_text
    assert "15 minutes" in mails[0].body_text
    assert "/auth/reset" in mails[0].body_text


def test_more_guesses_during_the_lock_send_no_more_mail(app, client):
    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    _guess_from_many_addresses(client, user.email, app.config["LOGIN_ACCOUNT_MAX_FAILURES"] + 5)
    assert len(_mails_to(user.email)) == 1


def _end_the_lock(email: str) -> None:
    """Time travel: the lock (and its window) began twenty minutes ago."""
    from portal.auth.lockout import throttle_key

    past = utcnow() - timedelta(minutes=20)
    db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == throttle_key(email))
        .values(locked_until=past + timedelta(minutes=15), window_started_at=past)
    )
    db.session.commit()


def test_the_lock_ends_by_itself_and_the_right_password_works(app, client):
    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    _guess_from_many_addresses(client, user.email, app.config["LOGIN_ACCOUNT_MAX_FAILURES"])
    assert LOCKED in _attempt(client, user.email, PASSWORD).get_data(as_text=True)

    _end_the_lock(user.email)
    response = _attempt(client, user.email, PASSWORD, "192.0.2.30")
    assert response.status_code == 303 and _logged_in(client)
    # The successful login forgot the count.
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0


def test_after_the_lock_the_count_starts_again(app, client):
    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    limit = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]
    _guess_from_many_addresses(client, user.email, limit)
    _end_the_lock(user.email)
    answers = _guess_from_many_addresses(client, user.email, limit)
    assert all(LOCKED not in r.get_data(as_text=True) for r in answers[:-1])
    assert LOCKED in answers[-1].get_data(as_text=True)
    assert len(_mails_to(user.email)) == 2  # one per lock


def test_failures_spread_over_more_than_the_window_do_not_lock(app, client):
    from portal.auth.lockout import throttle_key

    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    limit = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]
    _guess_from_many_addresses(client, user.email, limit - 1)
    db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == throttle_key(user.email))
        .values(window_started_at=utcnow() - timedelta(minutes=16))
    )
    db.session.commit()
    answers = _guess_from_many_addresses(client, user.email, 2)
    assert all(LOCKED not in r.get_data(as_text=True) for r in answers)
    assert _attempt(client, user.email, PASSWORD).status_code == 303


def test_a_new_password_ends_the_lock(app, client):
    from portal.auth import tokens

    user = make_user(password=PASSWORD)
    user.locale = "en"  # the mail is in the owner's language
    db.session.commit()
    _guess_from_many_addresses(client, user.email, app.config["LOGIN_ACCOUNT_MAX_FAILURES"])
    reset_path = f"/auth/reset/{tokens.make_token(user, tokens.RESET)}"
    new_password = "Granite swallow evening 28"
    token = csrf_token_from(client.get(reset_path).get_data(as_text=True))
    response = client.post(
        reset_path, data={"csrf_token": token, "password": new_password, "confirm": new_password}
    )
    assert response.status_code == 303
    assert _attempt(client, user.email, new_password).status_code == 303


def _normalised(response, email: str) -> tuple[int, str]:
    """The answer as a guesser compares it: status and text, with the address
    typed back into the form taken out."""
    text = response.get_data(as_text=True).replace(email, "EMAIL")
    return response.status_code, CSRF_VALUE.sub(r'\1""', text)


def test_an_unknown_address_gets_the_same_answers(app, client):
    known = make_user(password=PASSWORD)
    known.locale = "en"
    db.session.commit()
    unknown = "nobody.here@example.org"
    limit = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]

    def story(email: str) -> list[tuple[int, str]]:
        answers = _guess_from_many_addresses(client, email, limit + 1)
        answers.append(_attempt(client, email, PASSWORD, "192.0.2.50"))
        return [_normalised(r, email) for r in answers]

    known_story, unknown_story = story(known.email), story(unknown)
    assert [code for code, _ in known_story] == [code for code, _ in unknown_story]
    assert known_story == unknown_story
    assert LOCKED in unknown_story[-1][1]
    assert _mails_to(unknown) == []
