"""Registration, verification, login, logout and password reset."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from portal.auth import tokens
from portal.auth.models import User
from portal.extensions import db, limiter
from portal.notify.models import OutboxEmail
from tests.conftest import csrf_token_from
from tests.factories import make_user

PASSWORD = "correct horse battery staple"


def _token(client, path):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _register(client, **overrides):
    data = {
        "csrf_token": _token(client, "/auth/register"),
        "display_name": "Li Hua",
        "email": "li.hua@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "consent": "y",
    }
    data.update(overrides)
    return client.post("/auth/register", data={k: v for k, v in data.items() if v is not None})


def _mail_link(pattern: str) -> str:
    mail = db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    match = re.search(pattern, mail.body_text)
    assert match, mail.body_text
    return match.group(0).split("://", 1)[1].split("/", 1)[1]


def _login(client, email="li.hua@example.org", password=PASSWORD, **extra):
    data = {"csrf_token": _token(client, "/auth/login"), "email": email, "password": password}
    data.update(extra)
    return client.post("/auth/login", data=data)


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def test_register_verify_and_log_in(client):
    response = _register(client, email="Li.Hua@Example.org")
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User))
    assert user.email == "li.hua@example.org" and not user.is_verified
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert user.consent_notice_version

    # Not verified yet: login is refused with a clear message.
    refused = _login(client)
    assert refused.status_code == 422
    assert "Please confirm your e-mail address first" in refused.get_data(as_text=True)

    link = _mail_link(r"https?://\S+/auth/verify/\S+")
    assert client.get("/" + link).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).is_verified

    response = _login(client)
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert "Li Hua" in client.get("/me").get_data(as_text=True)


def test_a_verification_link_works_once(client):
    _register(client)
    link = _mail_link(r"https?://\S+/auth/verify/\S+")
    assert client.get("/" + link).status_code == 302
    again = client.get("/" + link)
    assert again.status_code == 400
    assert "not valid any more" in again.get_data(as_text=True)


def test_an_expired_or_forged_verification_link_is_refused(client, app, monkeypatch):
    _register(client)
    link = _mail_link(r"https?://\S+/auth/verify/\S+")
    monkeypatch.setitem(tokens.MAX_AGE, tokens.VERIFY, -1)
    assert client.get("/" + link).status_code == 400
    monkeypatch.setitem(tokens.MAX_AGE, tokens.VERIFY, 3600)
    assert client.get("/" + link[:-3] + "abc").status_code == 400
    forged = URLSafeTimedSerializer("another secret", salt="auth:verify-email").dumps({"u": 1})
    assert client.get(f"/auth/verify/{forged}").status_code == 400
    db.session.expire_all()
    assert not db.session.scalar(sa.select(User)).is_verified


BAD = [
    ({"display_name": ""}, "Please choose a display name."),
    ({"email": "nope"}, "Please enter a valid e-mail address."),
    ({"password": "short", "confirm": "short"}, "Use at least 12 characters."),
    ({"password": "password1234", "confirm": "password1234"}, "This password is too common."),
    ({"password": "qwertyuiop12", "confirm": "qwertyuiop12"}, "This password is too common."),
    ({"confirm": "something else entirely"}, "The two passwords differ."),
    ({"consent": None}, "Please agree to the privacy notice to register."),
    ({"password": "x" * 2000, "confirm": "x" * 2000}, "Use at most 1024 characters."),
    (
        {"password": "li.hua-secret-2026", "confirm": "li.hua-secret-2026"},
        "must not contain your e-mail",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD)
def test_bad_registrations_are_refused_and_keep_the_input(client, overrides, message):
    response = _register(client, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    if "display_name" not in overrides:
        assert 'value="Li Hua"' in page
    assert PASSWORD not in page  # passwords are never echoed back


def test_registering_a_taken_address_answers_the_same_and_tells_the_owner(client):
    owner = make_user(password=PASSWORD)
    db.session.commit()
    response = _register(client, email=owner.email)
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    mail = db.session.scalars(sa.select(OutboxEmail)).one()
    assert mail.to_address == owner.email and "/auth/login" in mail.body_text


def test_long_and_non_ascii_passwords_are_used_in_full(client):
    password = "长城万里" * 30 + "end"
    user = make_user(password=password)
    db.session.commit()
    assert user.check_password(password)
    assert not user.check_password(password[:-1])
    assert not user.check_password("长城万里" * 30)
    assert _login(client, email=user.email, password=password).status_code == 303


def test_wrong_credentials_get_one_vague_answer(client):
    user = make_user(password=PASSWORD)
    db.session.commit()
    wrong_password = _login(client, email=user.email, password="not the password at all")
    unknown = _login(client, email="nobody@example.org", password=PASSWORD)
    for response in (wrong_password, unknown):
        assert response.status_code == 422
        assert "The e-mail address or the password is wrong." in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_login_redirects_only_to_local_pages(client):
    user = make_user(password=PASSWORD)
    db.session.commit()
    data = {"csrf_token": _token(client, "/auth/login"), "email": user.email, "password": PASSWORD}
    response = client.post("/auth/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/me"
    client.post("/auth/logout", data={"csrf_token": _token(client, "/me")})
    data["csrf_token"] = _token(client, "/auth/login")
    response = client.post("/auth/login?next=/priorities", data=data)
    assert response.headers["Location"] == "/priorities"


def test_login_starts_a_fresh_session(client):
    user = make_user(password=PASSWORD)
    db.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _login(client, email=user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.get_id()


def test_a_replayed_cookie_after_logout_is_logged_out(client, app):
    user = make_user(password=PASSWORD)
    db.session.commit()
    _login(client, email=user.email)
    old_cookie = client.get_cookie("session").value
    assert client.get("/me").status_code == 200
    client.post("/auth/logout", data={"csrf_token": _token(client, "/me")})
    assert client.get("/me").status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_password_change_logs_out_other_devices(client, app, login):
    user = make_user(password=PASSWORD)
    db.session.commit()
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    assert other_device.get("/me").status_code == 200

    login(user)
    response = client.post(
        "/me/password",
        data={
            "csrf_token": _token(client, "/me"),
            "current": PASSWORD,
            "password": "a brand new long passphrase",
            "confirm": "a brand new long passphrase",
        },
    )
    assert response.status_code == 303
    assert client.get("/me").status_code == 200  # this device stays logged in
    assert other_device.get("/me").status_code == 302


def test_the_remember_me_cookie_is_bounded_and_http_only(client):
    user = make_user(password=PASSWORD)
    db.session.commit()
    response = _login(client, email=user.email, remember="y")
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    from datetime import UTC, datetime, timedelta
    from email.utils import parsedate_to_datetime

    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert expires <= datetime.now(UTC) + timedelta(days=14, minutes=1)


def test_password_reset_answers_the_same_for_unknown_addresses(client):
    user = make_user(password=PASSWORD)
    db.session.commit()
    known = client.post(
        "/auth/reset", data={"csrf_token": _token(client, "/auth/reset"), "email": user.email}
    )
    unknown = client.post(
        "/auth/reset", data={"csrf_token": _token(client, "/auth/reset"), "email": "x@example.org"}
    )
    assert known.status_code == unknown.status_code == 200

    def body(response):
        return re.sub(r"[\w.]+@example\.org", "", response.get_data(as_text=True))

    assert body(known).replace(_token(client, "/"), "") != "" and body(known).count(
        "Check your e-mail"
    )
    assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) == 1


def test_password_reset_works_once_and_ends_other_sessions(client, app):
    user = make_user(password=PASSWORD)
    db.session.commit()
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()
    client.post(
        "/auth/reset", data={"csrf_token": _token(client, "/auth/reset"), "email": user.email}
    )
    link = "/" + _mail_link(r"https?://\S+/auth/reset/\S+")
    new = "another long passphrase here"
    response = client.post(
        link, data={"csrf_token": _token(client, link), "password": new, "confirm": new}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(new)
    assert other_device.get("/me").status_code == 302
    assert client.get(link).status_code == 400  # used: the password hash changed
    assert _login(client, email=user.email, password=new).status_code == 303


def test_an_expired_reset_link_is_refused(client, monkeypatch):
    user = make_user(password=PASSWORD)
    db.session.commit()
    token = tokens.make_token(user, tokens.RESET)
    monkeypatch.setitem(tokens.MAX_AGE, tokens.RESET, -1)
    time.sleep(0.01)
    assert client.get(f"/auth/reset/{token}").status_code == 400


RATE_LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def _redis_available() -> bool:
    try:
        import redis

        return redis.Redis(host="127.0.0.1", port=6379, socket_timeout=0.5).ping()
    except Exception:  # noqa: BLE001 — any failure means: no Redis here
        return False


if _redis_available():
    RATE_LIMITED["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("app_config", [RATE_LIMITED])
def test_the_sixth_failed_login_in_a_minute_is_429(client, app, app_config):
    limiter.reset()
    user = make_user(password=PASSWORD)
    db.session.commit()
    token = _token(client, "/auth/login")
    codes = [
        client.post(
            "/auth/login",
            data={"csrf_token": token, "email": user.email, "password": "wrong guess number"},
        ).status_code
        for _ in range(6)
    ]
    assert codes == [422] * 5 + [429]
    # Even the right password waits out the minute.
    right = client.post(
        "/auth/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
    )
    assert right.status_code == 429
    limiter.reset()


@pytest.mark.parametrize("app_config", [dict(RATE_LIMITED, ACCOUNT_RATE_LIMIT="3 per hour")])
def test_registration_and_reset_are_rate_limited(client, app, app_config):
    limiter.reset()
    codes = [_register(client, email=f"p{i}@example.org").status_code for i in range(4)]
    assert codes == [303, 303, 303, 429]
    limiter.reset()
