"""Double submits that arrive together, on real connections: the unique
(project_id, client_token) and Project.idempotency_key give one row, one audit
row and one e-mail per follower. PostgreSQL only (SQLite has one writer)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Delivery, User
from portal.extensions import db
from portal.notify.models import OutboxEmail
from portal.projects import services
from portal.projects.models import Project, ProjectUpdate
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


def _count(column, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count(column)).where(*where))


def test_an_update_sent_many_times_at_once_is_published_once(app, world, make_project):
    project = make_project()
    reader = make_user()
    reader.notify_followed = Delivery.IMMEDIATE
    services.follow_project(project, reader)
    db.session.commit()
    ids = (project.id, world.lead_staff.id)

    def publish(_n: int) -> None:
        row = services.project_for_page(ids[0])
        services.post_update(row, db.session.get(User, ids[1]), "Once", "b" * 32)
        db.session.commit()

    assert _together(app, 6, publish) == []
    assert _count(ProjectUpdate.id) == 1
    assert _count(AuditEntry.id, AuditEntry.action == "project.update") == 1
    assert _count(OutboxEmail.id, OutboxEmail.to_address == reader.email) == 1


def test_a_new_project_form_sent_many_times_at_once_makes_one_project(app, world):
    ids = (world.admin.id, world.lead.id)
    found: list[int] = []

    def create(_n: int) -> None:
        data = services.ProjectData("Together", "", "Goal", "", "1 thing", 1, None, ids[1], [], [])
        admin = db.session.get(User, ids[0])
        project = services.commit_project(
            "c" * 32, lambda: services.create_project(data, admin, idempotency_key="c" * 32)
        )
        found.append(project.id)

    assert _together(app, 6, create) == []
    assert _count(Project.id) == 1 and len(set(found)) == 1
    assert _count(AuditEntry.id, AuditEntry.action == "project.create") == 1
