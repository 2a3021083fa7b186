"""Simultaneous supports, votes and workflow moves against a real server process.

Gunicorn runs the app in two worker processes with 16 threads each, on the
test database; many threads released together by a barrier send their POSTs at
the same instant, each on its own connection. The database must then hold
exactly what the rules allow: one support per member and need, at most N votes
per member in a round, and counts that match the rows.

The members are logged in with forged session cookies (signed with the
server's SECRET_KEY), so no password is hashed or checked.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from portal.auth.models import Role, User
from portal.auth.sessions import stamp
from portal.config import TestConfig
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners.models import Assignment, AssignmentState
from portal.voting.models import PriorityRound, RoundBallot, RoundItem, RoundVote, Support
from portal.voting.services import create_round
from portal.workflow.models import TimelineEvent
from tests.factories import make_category, make_need, make_organisation, make_user

#: The server reads the test data on connections of its own: it is committed.
pytestmark = pytest.mark.committed

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = TestConfig.SECRET_KEY  # the `app` fixture's key; the server gets the same
STARTUP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0


# --- the server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RealServer:
    host: str
    port: int
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _get_status(host: str, port: int, path: str) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def real_server(migrated, tmp_path_factory) -> Iterator[RealServer]:
    """Gunicorn (gthread, 2 workers x 16 threads) serving `wsgi:app` on the test database."""
    port = _free_port()
    instance = tmp_path_factory.mktemp("instance")
    log = instance / "gunicorn.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MAIL_", "REDIS_", "PORTAL_", "RATELIMIT_", "SESSION_"))
        and key not in {"DATABASE_URL", "SECRET_KEY", "PUBLIC_BASE_URL"}
    }
    env.update(
        DATABASE_URL=migrated,  # sqlite:///… or postgresql+psycopg://…, used as given
        SECRET_KEY=SECRET_KEY,
        RATELIMIT_ENABLED="false",
        PORTAL_INSTANCE_DIR=str(instance),
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        "gthread",
        "-w",
        "2",
        "--threads",
        "16",
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        "wsgi:app",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 — a fixed command line
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
            try:
                if _get_status("127.0.0.1", port, "/healthz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"gunicorn did not answer within {STARTUP_TIMEOUT}s:\n{log.read_text()}"
                )
            time.sleep(0.1)
        yield RealServer("127.0.0.1", port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# --- forged logins --------------------------------------------------------------


@dataclass
class Login:
    """What a logged-in browser would send: its session cookie and a form token."""

    cookie: str
    csrf_token: str


def forge_login(app, user: User) -> Login:
    assert app.config["SECRET_KEY"] == SECRET_KEY, "the server would reject the cookie"
    raw = secrets.token_hex(20)
    data = {"_user_id": user.get_id(), "_fresh": True, "csrf_token": raw}
    stamp(data)  # staff sessions carry their login time
    session = app.session_interface.get_signing_serializer(app).dumps(data)
    # As flask_wtf.csrf.generate_csrf signs the session's raw token.
    token = URLSafeTimedSerializer(SECRET_KEY, salt="wtf-csrf-token").dumps(raw)
    return Login(cookie=f"{app.config['SESSION_COOKIE_NAME']}={session}", csrf_token=token)


# --- simultaneous requests ----------------------------------------------------------


@dataclass
class Outcome:
    status: int
    location: str


def fire_together(server: RealServer, posts: list[tuple[str, Login, dict]]) -> list[Outcome]:
    """Sends every POST from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(posts))
    outcomes: list[Outcome | None] = [None] * len(posts)
    errors: list[BaseException] = []

    def send(index: int, path: str, login: Login, form: dict) -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=REQUEST_TIMEOUT)
        try:
            body = urlencode({"csrf_token": login.csrf_token, **form})
            headers = {
                "Cookie": login.cookie,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            conn.connect()  # connected before the barrier: the POSTs leave together
            barrier.wait(timeout=REQUEST_TIMEOUT)
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            outcomes[index] = Outcome(response.status, response.getheader("Location", ""))
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)
            barrier.abort()
        finally:
            conn.close()

    threads = [
        threading.Thread(target=send, args=(i, *post), name=f"client-{i}")
        for i, post in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 10)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    assert not errors, errors
    return [o for o in outcomes if o is not None]


def assert_no_server_errors(server: RealServer, outcomes: list[Outcome], expected: int) -> None:
    statuses = Counter(o.status for o in outcomes)
    assert len(outcomes) == expected
    bad = {s: n for s, n in statuses.items() if not (s == 303 or 400 <= s < 500)}
    assert not bad, f"statuses {dict(statuses)}; server log:\n{server.log_tail()}"
    assert "/auth/login" not in {o.location.split("?")[0] for o in outcomes}, (
        "a forged login was not accepted"
    )


def committed() -> None:
    """Commit and leave no transaction open while the server writes."""
    db.session.commit()
    db.session.remove()


# --- test data --------------------------------------------------------------------


def verified_members(count: int) -> list[User]:
    """Members with a confirmed address and no password, inserted in one flush."""
    tag = secrets.token_hex(4)
    now = utcnow()
    users = [
        User(
            email=f"m{tag}-{n}@example.org",
            display_name=f"Member {n}",
            role=Role.MEMBER,
            email_verified_at=now,
        )
        for n in range(count)
    ]
    db.session.add_all(users)
    db.session.flush()
    return users


def support_rows(user_id: int | None, need_id: int) -> int:
    stmt = sa.select(sa.func.count()).select_from(Support).where(Support.need_id == need_id)
    if user_id is not None:
        stmt = stmt.where(Support.user_id == user_id)
    return db.session.scalar(stmt)


# --- the tests --------------------------------------------------------------------


def test_a_forged_session_is_logged_in(app, real_server):
    (member,) = verified_members(1)
    login = forge_login(app, member)
    committed()

    conn = http.client.HTTPConnection(real_server.host, real_server.port, timeout=10)
    try:
        conn.request("GET", "/me", headers={"Cookie": login.cookie})
        response = conn.getresponse()
        body = response.read().decode()
    finally:
        conn.close()
    assert response.status == 200, (response.status, response.getheader("Location"))
    assert "Member 0" in body


def test_fifty_simultaneous_supports_by_one_member_count_once(app, real_server):
    need, _ = make_need(NeedStatus.OPEN)
    (member,) = verified_members(1)
    login = forge_login(app, member)
    need_id, member_id, path = need.id, member.id, f"/needs/{need.ref}/support"
    committed()

    outcomes = fire_together(real_server, [(path, login, {"action": "add"})] * 50)

    assert_no_server_errors(real_server, outcomes, 50)
    assert support_rows(member_id, need_id) == 1
    assert support_rows(None, need_id) == 1
    assert db.session.get(Need, need_id).support_count == 1


def test_two_hundred_members_supporting_at_once_are_all_counted(app, real_server):
    need, _ = make_need(NeedStatus.OPEN)
    members = verified_members(200)
    posts = [
        (f"/needs/{need.ref}/support", forge_login(app, member), {"action": "add"})
        for member in members
    ]
    need_id = need.id
    committed()

    outcomes = fire_together(real_server, posts)

    assert_no_server_errors(real_server, outcomes, 200)
    assert support_rows(None, need_id) == 200
    distinct = sa.select(sa.func.count(sa.distinct(Support.user_id))).where(
        Support.need_id == need_id
    )
    assert db.session.scalar(distinct) == 200
    assert db.session.get(Need, need_id).support_count == 200


def test_twenty_simultaneous_votes_use_only_the_members_three_votes(app, real_server):
    category = make_category()
    needs = [make_need(NeedStatus.OPEN, category=category)[0] for _ in range(22)]
    admin = make_user(Role.ADMIN)
    round_ = create_round(
        title="Priorities for the spring",
        description="",
        needs=needs,
        votes_per_member=3,
        starts_at=utcnow() - timedelta(hours=1),
        ends_at=utcnow() + timedelta(days=7),
        show_live_counts=False,
        actor=admin,
    )
    (member,) = verified_members(1)
    login = forge_login(app, member)
    round_id, member_id = round_.id, member.id
    item_ids = [item.id for item in round_.items][:20]
    committed()

    posts = [
        (f"/rounds/{round_id}/vote", login, {"item": str(item_id), "action": "add"})
        for item_id in item_ids
    ]
    outcomes = fire_together(real_server, posts)

    assert_no_server_errors(real_server, outcomes, 20)
    votes = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RoundVote)
        .where(RoundVote.round_id == round_id, RoundVote.user_id == member_id)
    )
    assert votes == 3
    ballot = db.session.scalars(
        sa.select(RoundBallot).where(
            RoundBallot.round_id == round_id, RoundBallot.user_id == member_id
        )
    ).one()
    assert ballot.votes_used == 3
    counted = db.session.scalar(
        sa.select(sa.func.sum(RoundItem.vote_count)).where(RoundItem.round_id == round_id)
    )
    assert counted == 3
    assert db.session.get(PriorityRound, round_id).voter_count == 1


def test_twenty_simultaneous_accepts_make_one_move(app, real_server):
    """Twenty staff of the partner accept the same routed need at the same
    instant: the status moves once, with one event and one accepted assignment;
    the others are told the need changed (a 4xx, never a 500)."""
    partner = make_organisation()
    need, _ = make_need(NeedStatus.ROUTED, partner=partner)
    staff = [make_user(Role.PARTNER, partner) for _ in range(20)]
    posts = [(f"/partner/needs/{need.ref}/accept", forge_login(app, s), {}) for s in staff]
    need_id = need.id
    committed()

    outcomes = fire_together(real_server, posts)

    assert_no_server_errors(real_server, outcomes, 20)
    assert sum(o.status == 303 for o in outcomes) == 1
    accepts = sa.select(sa.func.count(TimelineEvent.id)).where(
        TimelineEvent.need_id == need_id, TimelineEvent.move == "accept"
    )
    assert db.session.scalar(accepts) == 1
    states = db.session.scalars(
        sa.select(Assignment.state).where(Assignment.need_id == need_id)
    ).all()
    assert states == [AssignmentState.ACCEPTED]
    assert db.session.get(Need, need_id).status == NeedStatus.ACCEPTED
