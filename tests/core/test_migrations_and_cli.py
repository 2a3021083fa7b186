"""The migrations build exactly the models' schema; the operator commands work."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.auth.models import Role, User
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.workflow.models import TimelineEvent


def test_the_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.mark.committed  # it drops and rebuilds the tables, outside any test transaction
def test_the_migrations_downgrade_and_upgrade_again(app):
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    downgrade(revision="base")
    assert sa.inspect(db.engine).get_table_names() in ([], ["alembic_version"])
    upgrade()
    assert "needs" in sa.inspect(db.engine).get_table_names()


def test_seed_demo_loads_needs_in_several_states_and_only_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@huiju.example" in result.output
    statuses = set(db.session.scalars(sa.select(Need.status)))
    assert {
        NeedStatus.SUBMITTED,
        NeedStatus.OPEN,
        NeedStatus.IN_PROGRESS,
        NeedStatus.CLOSED,
    } <= statuses
    count = db.session.scalar(sa.select(sa.func.count(Need.id)))
    assert count >= 30
    # Every demo state was reached through the workflow: each need has a history.
    events = db.session.scalar(sa.select(sa.func.count(sa.distinct(TimelineEvent.need_id))))
    assert events == count

    again = runner.invoke(args=["portal", "seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == count
    refused = runner.invoke(args=["portal", "seed-demo"])
    assert refused.exit_code != 0


def test_create_admin_asks_for_the_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["portal", "create-admin", "--email", "Chief@Example.org", "--name", "Chief"],
        input="a-long-enough-password\na-long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a-long-enough-password" not in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "chief@example.org"))
    assert user.role == Role.ADMIN and user.check_password("a-long-enough-password")
    assert not user.check_password("wrong")


def test_create_admin_refuses_a_short_password_and_takes_none_on_the_command_line(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["portal", "create-admin", "--email", "a@example.org", "--name", "A"],
        input="short\nshort\n",
    )
    assert short.exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    flag = runner.invoke(
        args=["portal", "create-admin", "--email", "a@example.org", "--password", "x" * 20]
    )
    assert flag.exit_code != 0 and "No such option" in flag.output


def test_publish_command_publishes_through_the_workflow(app):
    from tests.factories import make_need, make_user

    admin = make_user(Role.ADMIN)
    need, _ = make_need(NeedStatus.SUBMITTED)
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["portal", "publish", need.ref, "--admin", admin.email]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == NeedStatus.OPEN
