"""Findings 2 (client address behind proxies), 7 (several processes without
Redis) and 10 (logs, incident ids, HTTPS defaults)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.extensions import db, limiter
from tests.factories import make_user

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple 42"
LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def _token(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/auth/login").get_data(as_text=True))


def _login(client, token, email, password, forwarded_for):
    return client.post(
        "/auth/login",
        data={"csrf_token": token, "email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    ).status_code


@pytest.mark.parametrize("app_config", [dict(LIMITED, TRUSTED_PROXIES=0)])
def test_without_trusted_proxies_a_spoofed_forwarded_for_is_ignored(client, app_config):
    limiter.reset()
    token = _token(client)
    codes = [
        _login(client, token, f"nobody{i}@example.org", "wrong guess", f"203.0.113.{i}")
        for i in range(6)
    ]
    # Six "different" addresses, one real one: the sixth failure is limited.
    assert codes == [422] * 5 + [429]
    limiter.reset()


@pytest.mark.parametrize("app_config", [dict(LIMITED, TRUSTED_PROXIES=1)])
def test_behind_one_proxy_each_client_has_its_own_bucket(client, app_config):
    limiter.reset()
    admin = make_user(password=PASSWORD)
    db.session.commit()
    token = _token(client)
    # Someone else fails five times through the same proxy…
    attacker = [
        _login(client, token, f"nobody{i}@example.org", "wrong guess", "198.51.100.7")
        for i in range(6)
    ]
    assert attacker == [422] * 5 + [429]
    # …and the right password from another client still logs in.
    assert _login(client, token, admin.email, PASSWORD, "203.0.113.20") == 303
    # Only the last hop counts: a client cannot prepend its way into a fresh bucket.
    other = client.application.test_client()
    assert _login(other, _token(other), "x@example.org", "bad", "10.9.9.9, 198.51.100.7") == 429
    limiter.reset()


def test_sql_errors_do_not_log_their_values(app):
    with pytest.raises(sa.exc.DBAPIError) as error:
        db.session.execute(
            sa.text("SELECT * FROM no_such_table WHERE email = :email"),
            {"email": "private@example.org"},
        )
    db.session.rollback()
    assert "private@example.org" not in str(error.value)


def test_a_500_shows_an_incident_id_that_is_in_the_log(client, app, monkeypatch, caplog):
    def broken(token):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("portal.needs.views.services.need_by_tracking_token", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get(
            "/track/PRIVATE-TRACKING-TOKEN-123", headers={"Accept-Language": "en"}
        )
    assert response.status_code == 500
    incident = re.search(r"incident number: ([0-9a-f]{12})", response.get_data(as_text=True))
    assert incident, response.get_data(as_text=True)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"incident {incident.group(1)}" in logged
    assert "PRIVATE-TRACKING-TOKEN-123" not in logged and "/track/[redacted]" in logged


def test_https_sites_default_to_secure_cookies(tmp_path):
    code = (
        "from portal.config import Config as C;"
        "print(C.SESSION_COOKIE_SECURE, C.REMEMBER_COOKIE_SECURE)"
    )
    env = {k: v for k, v in os.environ.items() if k != "SESSION_COOKIE_SECURE"}
    https = subprocess.run(  # noqa: S603 — a fixed command line
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**env, "PREFERRED_URL_SCHEME": "https"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert https.stdout.split() == ["True", "True"]
    plain = subprocess.run(  # noqa: S603 — a fixed command line
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**env, "PREFERRED_URL_SCHEME": "http"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert plain.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_secure_sites_send_hsts_and_secure_cookies(client, app_config):
    response = client.get("/needs/new", base_url="https://portal.example")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(migrated: str, tmp_path: Path, workers: int, **env_extra: str):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REDIS_", "PORTAL_", "RATELIMIT_")) and k != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=migrated,
        SECRET_KEY="s" * 48,
        PORTAL_INSTANCE_DIR=str(tmp_path),
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        **env_extra,
    )
    log = tmp_path / f"gunicorn-{port}.log"
    out = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 — a fixed command line
        [sys.executable, "-m", "gunicorn", "-c", "python:portal.gunicorn_config", "wsgi:app"],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                break
        except OSError:
            time.sleep(0.2)
    return process, port, log, out


def _stop(process, out) -> None:
    process.terminate()
    process.wait(timeout=30)
    out.close()


def test_several_workers_without_redis_warn_and_access_logs_are_redacted(migrated, tmp_path):
    process, port, log, out = _gunicorn(migrated, tmp_path, workers=2)
    try:
        for path in (
            "/track/PRIVATE-TOKEN-abc123",
            "/auth/reset/RESET-TOKEN-xyz",
            "/open311/v2/requests.json?api_key=SECRET-API-KEY",
        ):
            # 4xx pages are fine; the log line is what is checked.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)  # noqa: S310
    finally:
        _stop(process, out)
    text = log.read_text()
    assert "2 worker processes and no REDIS_URL" in text
    for secret in ("PRIVATE-TOKEN-abc123", "RESET-TOKEN-xyz", "SECRET-API-KEY"):
        assert secret not in text
    assert "/track/[redacted]" in text and "api_key=[redacted]" in text


def test_one_worker_or_redis_does_not_warn(migrated, tmp_path):
    process, _port, log, out = _gunicorn(
        migrated, tmp_path, workers=2, REDIS_URL="redis://127.0.0.1:6379/14"
    )
    _stop(process, out)
    process, _port, log_one, out = _gunicorn(migrated, tmp_path, workers=1)
    _stop(process, out)
    assert "no REDIS_URL" not in log.read_text() + log_one.read_text()
    assert "Booting worker" in log.read_text()
