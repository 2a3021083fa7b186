"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when PORTAL_TEST_BACKEND is
`postgresql` (TEST_DATABASE_URL names the server). The schema is built once per
run by the real migrations; every test then starts from empty tables.
With PORTAL_REQUIRE_SERVICES=1 (set by .ci/run) a missing PostgreSQL or
Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import contextvars
import os
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db

BACKEND = os.environ.get("PORTAL_TEST_BACKEND", "sqlite")
REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.exit("PORTAL_TEST_BACKEND=postgresql needs TEST_DATABASE_URL", returncode=2)
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if BACKEND == "postgresql":
        url = _postgres_url()
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        except sa.exc.OperationalError as error:
            if REQUIRE_SERVICES:
                pytest.exit(f"PostgreSQL unreachable: {error}", returncode=2)
            pytest.skip(f"PostgreSQL unreachable: {error}")
        finally:
            engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated(database_url):
    """Build the schema once, through the migrations a real deployment runs."""
    from flask_migrate import upgrade

    app = create_app(_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _config(database_url: str, **overrides) -> dict:
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config["SQLALCHEMY_DATABASE_URI"] = database_url
    config.update(overrides)
    return config


@pytest.fixture
def app_config() -> dict:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context, as a server would, so
    nothing (the database session, `g`, the chosen language) leaks from the test
    body into the request or from one request into the next."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(migrated, app_config, tmp_path):
    settings = {"PHOTO_FOLDER": str(tmp_path / "photos"), **app_config}
    app = create_app(_config(migrated, **settings))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def csrf_token(client):
    """A valid CSRF token for this client's session, read from a real form."""

    def get(path: str = "/needs/new") -> str:
        return csrf_token_from(client.get(path).get_data(as_text=True))

    return get


@contextmanager
def count_queries():
    """Counts the SQL statements sent while the block runs."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


@pytest.fixture
def queries():
    return count_queries


@pytest.fixture
def login(client):
    """Log the test client in as `user` (as the login form would)."""

    def log_in(user):
        from portal.auth.sessions import stamp

        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            stamp(session)  # the login time: staff sessions without one are ended
        return user

    return log_in
