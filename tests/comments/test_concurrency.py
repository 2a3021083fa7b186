"""Simultaneous reports and double submits, on real connections: the
database's unique keys and the UPDATE … SET report_count = report_count + 1
keep the numbers exact. PostgreSQL only (SQLite runs one writer at a time)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.comments.models import Comment, CommentReport, CommentState
from portal.comments.services import post_comment, report_comment
from portal.extensions import db
from portal.needs.models import Need
from tests.comments.conftest import add_comment
from tests.conftest import BACKEND
from tests.factories import make_user

pytestmark = [
    pytest.mark.skipif(BACKEND != "postgresql", reason="needs concurrent writers"),
    pytest.mark.committed,  # the threads read it on connections of their own
]


def _together(app, count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                work(n)
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 — reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_simultaneous_reports_count_exactly(app, need):
    comment = add_comment(make_user(), need=need)
    reporters = [make_user() for _ in range(8)]
    db.session.commit()
    ids = (comment.id, [u.id for u in reporters])

    def report(n: int) -> None:
        row = db.session.get(Comment, ids[0])
        reporter = db.session.get(User, ids[1][n % 4])  # each member twice
        report_comment(row, reporter, f"try {n}")

    assert _together(app, 8, report) == []
    db.session.expire_all()
    row = db.session.get(Comment, comment.id)
    reports = db.session.scalar(sa.select(sa.func.count(CommentReport.id)))
    assert reports == 4 and row.report_count == 4
    assert row.state == CommentState.HELD  # 4 reports >= REPORTS_TO_HIDE


def test_a_form_sent_many_times_at_once_makes_one_comment(app, need):
    author = make_user()
    db.session.commit()
    author_id, need_id = author.id, need.id

    def post(_n: int) -> None:
        user = db.session.get(User, author_id)
        post_comment(
            user, "Only once", "same-token-for-all-0001", need=db.session.get(Need, need_id)
        )

    assert _together(app, 6, post) == []
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 1
