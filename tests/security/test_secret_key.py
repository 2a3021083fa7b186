"""Finding 1: the app never signs anything with a published, short or missing key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.auth import tokens
from portal.auth.models import Role
from portal.auth.sessions import stamp
from portal.core.security import InsecureConfiguration
from portal.extensions import db
from tests.conftest import IsolatedClient, _config
from tests.factories import make_user

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 16 + "a-strong-random-looking-key-0123456789"
PUBLISHED_KEY = "dev-only-change-me"  # the value portal/config.py used to fall back to


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "FLASK_DEBUG"}
        and not k.startswith("PORTAL_")
    }
    env.update(
        PORTAL_INSTANCE_DIR=str(tmp_path / "instance"),
        SECRET_KEY_FILE=str(tmp_path / "no-such-file"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update(extra)
    return env


def _import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 — a fixed command line
        [sys.executable, "-c", "import wsgi; print('started', len(wsgi.app.config['SECRET_KEY']))"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "SECRET_KEY is not set"),
        (PUBLISHED_KEY, "published in the source code"),
        ("short-but-random-Zq81", "shorter than 32 bytes"),
    ],
)
def test_the_app_refuses_to_start_with_a_bad_key(tmp_path, key, reason):
    env = _clean_env(tmp_path, **({"SECRET_KEY": key} if key else {}))
    result = _import_wsgi(env)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr and reason in result.stderr
    assert "started" not in result.stdout


def test_a_strong_key_from_the_environment_or_the_key_file_starts(tmp_path):
    assert "started 54" in _import_wsgi(_clean_env(tmp_path, SECRET_KEY=STRONG_KEY)).stdout
    key_file = tmp_path / "secret_key"
    key_file.write_text(STRONG_KEY + "\n")
    result = _import_wsgi(_clean_env(tmp_path, SECRET_KEY_FILE=str(key_file)))
    assert "started 54" in result.stdout, result.stderr


def test_gunicorn_stops_instead_of_serving_with_the_default_key(tmp_path):
    env = _clean_env(tmp_path, SECRET_KEY=PUBLISHED_KEY)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 — a fixed command line
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:portal.gunicorn_config",
            "-w",
            "1",
            "-b",
            "127.0.0.1:0",
            "wsgi:app",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Refusing to start: SECRET_KEY is a value published" in result.stderr
    assert time.monotonic() - started < 60  # it stops, it does not restart workers forever


def test_make_generates_a_private_key_once(tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    command = ["make", "--no-print-directory", f"SECRET_KEY_FILE={key_file}", str(key_file)]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=60)  # noqa: S603
    first = key_file.read_text().strip()
    assert len(first.encode()) >= 48
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=60)  # noqa: S603
    assert key_file.read_text().strip() == first  # made once, kept afterwards


def test_create_app_checks_the_key_outside_tests(migrated):
    with pytest.raises(InsecureConfiguration, match="published"):
        create_app(_config(migrated, TESTING=False, SECRET_KEY=PUBLISHED_KEY))


def _forged_session_cookie(key: str, user) -> str:
    forger = Flask("forger")
    forger.secret_key = key
    serializer = forger.session_interface.get_signing_serializer(forger)
    data = {"_user_id": user.get_id(), "_fresh": True}
    stamp(data)  # a staff session carries its login time
    return serializer.dumps(data)


@pytest.fixture
def production_app(migrated, tmp_path):
    app = create_app(
        _config(migrated, TESTING=False, SECRET_KEY=STRONG_KEY, PHOTO_FOLDER=str(tmp_path))
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        from tests.conftest import _empty_all_tables

        _empty_all_tables()
        db.engine.dispose()


def test_a_cookie_or_reset_link_forged_with_the_old_default_key_opens_nothing(production_app):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    client = production_app.test_client()

    client.set_cookie("session", _forged_session_cookie(PUBLISHED_KEY, admin))
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]

    # The same cookie signed with the real key does open the page: the check is real.
    client.set_cookie("session", _forged_session_cookie(STRONG_KEY, admin))
    assert client.get("/admin/users").status_code == 200

    forger = Flask("forger")
    forger.config.update(SECRET_KEY=PUBLISHED_KEY)
    with forger.app_context():
        forged_reset = tokens.make_token(admin, tokens.RESET)
    assert production_app.test_client().get(f"/auth/reset/{forged_reset}").status_code == 400
