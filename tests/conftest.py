"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when PORTAL_TEST_BACKEND is
`postgresql` (TEST_DATABASE_URL names the server). The schema is built once per
run by the real migrations. With PORTAL_REQUIRE_SERVICES=1 (set by .ci/run) a
missing PostgreSQL or Chromium fails the run instead of skipping.

One app per configuration: the `app` fixture hands a test the app created, once
per run, for its settings (`app_config`, which a module or a parametrisation may
override). Settings the app reads on each request (PER_REQUEST_SETTINGS: the
photo folder, which is the test's own `tmp_path`, and the mail server) need no
app of their own; they, and whatever a test changes in `app.config` or
`app.request_class`, are put back after the test. Between tests the rate
limiter's counts, the statistics cache and the compiled term matcher are
emptied, and the settings that Flask-Limiter and Talisman keep on their one
extension object for every app are those of the test's app.

Each test in a transaction that is rolled back: the test body and every request
it sends (each in its own application context, see IsolatedClient) use one
connection, inside a transaction begun before the test and rolled back after
it. Their sessions join it with `join_transaction_mode="create_savepoint"`
(SQLAlchemy's "Joining a Session into an External Transaction"), so the code
under test commits and rolls back as it does in production, on savepoints, and
the next test finds the tables as the migrations left them (PostgreSQL's
sequences are set back to 1 as well). On SQLite that app's
engine takes over BEGIN from pysqlite (the SQLite dialect's documented recipe),
without which SAVEPOINT does not work. `count_queries` leaves out the savepoint
statements, which only this harness sends.

Committed tests: a test marked `@pytest.mark.committed` has its data read by
other threads, a gunicorn process or another connection, so it runs on an app
of its own (an ordinary engine, real commits) and every table is emptied after
it. The browser tests' live server does the same with its own app.
"""

from __future__ import annotations

import contextvars
import os
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession

from portal import create_app
from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.config import TestConfig
from portal.extensions import cache, db, limiter, talisman
from portal.moderation import services as moderation_services
from tests.factories import make_user

BACKEND = os.environ.get("PORTAL_TEST_BACKEND", "sqlite")
REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"

#: Settings read on each request, never while the app is created: a test may set
#: them on a shared app (they are put back after it).
PER_REQUEST_SETTINGS = frozenset(
    {"PHOTO_FOLDER", "MAIL_SERVER", "MAIL_PORT", "MAIL_TIMEOUT", "MAIL_FROM"}
)
#: Extension objects whose init_app writes the app's settings (limits on or off,
#: their storage; HTTPS and HSTS) onto the object itself, shared by every app.
SHARED_EXTENSIONS = (limiter, talisman)
#: Where a transactional test keeps its connection, in `app.extensions`.
TEST_CONNECTION = "tests.connection"
#: A rollback leaves PostgreSQL's sequences where the test took them (SQLite's
#: row ids do go back): they are set back after it, so every test starts at id 1
#: on both databases, as after `_empty_all_tables`. One statement.
RESTART_SEQUENCES = sa.text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
    " FROM pg_sequences WHERE schemaname = current_schema()"
)


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


# --- one app per configuration ---------------------------------------------------


class _TestSession(FlaskSession):
    """Flask-SQLAlchemy's session, on the running test's connection when its app
    has one (see the module's docstring); otherwise on the app's engine as usual."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_app_context():
            connection = current_app.extensions.get(TEST_CONNECTION)
            if connection is not None:
                return connection
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@pytest.fixture(scope="session")
def _sessions_join_the_test_transaction():
    """`db.session` made of _TestSession for the whole run. A session bound to a
    connection already in a transaction works on a savepoint of its own, so the
    code under test may commit and roll back and the test's transaction stays."""
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": _TestSession, "join_transaction_mode": "create_savepoint"}
    )
    yield
    db.session = original


class _Apps:
    """The apps made for the run, by (committed?, settings), each with the state
    of the SHARED_EXTENSIONS its create_app left, and the app in use."""

    def __init__(self) -> None:
        self.made: dict[tuple[bool, str], tuple[Flask, list[tuple[object, dict]]]] = {}
        self.in_use: Flask | None = None

    def get(self, database_url: str, settings: dict, *, committed: bool) -> Flask:
        shaping = {k: v for k, v in settings.items() if k not in PER_REQUEST_SETTINGS}
        key = (committed, repr(sorted(shaping.items())))
        if key not in self.made:
            app = create_app(_config(database_url, **settings))
            app.test_client_class = IsolatedClient
            state = [(ext, dict(vars(ext))) for ext in SHARED_EXTENSIONS]
            if not committed:
                with app.app_context():
                    if db.engine.dialect.name == "sqlite":
                        _let_sqlalchemy_begin(db.engine)
            self.made[key] = (app, state)
        app, state = self.made[key]
        if self.in_use is not None and self.in_use is not app:
            # Only the app in use keeps connections open: PostgreSQL counts them,
            # and a migration test drops the tables under them.
            with self.in_use.app_context():
                db.engine.dispose()
        self.in_use = app
        for ext, attributes in state:
            vars(ext).update(attributes)
        return app


_APPS = _Apps()


def _let_sqlalchemy_begin(engine: sa.Engine) -> None:
    """pysqlite begins transactions itself, late and not before SAVEPOINT; this
    hands BEGIN to SQLAlchemy (the recipe of SQLAlchemy's SQLite dialect,
    "Serializable isolation / Savepoints / Transactional DDL")."""

    @sa.event.listens_for(engine, "connect")
    def _no_pysqlite_begin(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _forget_what_the_last_test_left() -> None:
    """In-memory state of the process: rate-limit counts, cached statistics and
    the term matcher compiled for a list version the rollback took away."""
    if limiter.enabled:
        limiter.reset()
    cache.clear()
    moderation_services._compiled = None


@pytest.fixture
def app(request, migrated, app_config, tmp_path, _sessions_join_the_test_transaction):
    committed = request.node.get_closest_marker("committed") is not None
    settings = {"PHOTO_FOLDER": str(tmp_path / "photos"), **app_config}
    app = _APPS.get(migrated, settings, committed=committed)
    config, request_class = dict(app.config), app.request_class
    app.config.update(settings)
    with app.app_context():
        _forget_what_the_last_test_left()
        if committed:
            yield app
            db.session.remove()
            _empty_all_tables()
        else:
            connection = db.engine.connect()
            transaction = connection.begin()
            app.extensions[TEST_CONNECTION] = connection
            yield app
            db.session.remove()
            del app.extensions[TEST_CONNECTION]
            transaction.rollback()
            if connection.dialect.name == "postgresql":
                with connection.begin():
                    connection.execute(RESTART_SEQUENCES)
            connection.close()
    app.config.clear()
    app.config.update(config)
    app.request_class = request_class


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


#: Sent by a session joining the test's transaction, never by the app in production.
SAVEPOINT_STATEMENT = re.compile(r"(RELEASE |ROLLBACK TO )?SAVEPOINT ", re.IGNORECASE)


@contextmanager
def count_queries():
    """Counts the SQL statements sent while the block runs (the savepoints of
    the test's transaction left out)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not SAVEPOINT_STATEMENT.match(statement):
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


# --- the admin pages (categories, partners, users, calendar, settings, audit) -----


@pytest.fixture
def admin(login):
    """An admin, logged in (area conftests may give their own)."""
    user = make_user(Role.ADMIN)
    db.session.commit()
    return login(user)


@pytest.fixture
def post(client):
    """POST a form as the browser would: with the CSRF token of the session."""

    def send(
        path: str,
        data: dict | None = None,
        *,
        htmx: bool = False,
        token_from: str = "/needs/new",  # noqa: S107 — a path
    ):
        token = csrf_token_from(client.get(token_from).get_data(as_text=True))
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)

    return send


def audit_rows(action: str | None = None) -> list[AuditEntry]:
    """The audit log as the database has it, oldest first."""
    db.session.expire_all()
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))
