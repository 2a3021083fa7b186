"""Project updates in the daily digest: for members who get followed things
daily, from the projects they follow and did not stop following; one mail per
member per day, in a constant number of queries per batch of members."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.auth.models import Delivery, Role, User
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.notify import services as notify
from portal.notify.models import DigestRun, OutboxEmail
from portal.projects import services
from portal.workflow.services import Actor, transition
from tests.factories import make_need, make_organisation, make_user


def _mails_to(user) -> list[OutboxEmail]:
    return list(
        db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == user.email))
    )


def _reader(delivery: Delivery = Delivery.DAILY):
    user = make_user()
    user.notify_followed, user.locale = delivery, "en"
    return user


def test_followed_project_updates_come_in_the_daily_digest(world, make_project):
    project = make_project(title="Night school for riders")
    other = make_project(title="Not followed")
    daily, eager, stopped, off = _reader(), _reader(Delivery.IMMEDIATE), _reader(), _reader()
    off.notify_followed = Delivery.OFF
    for user in (daily, eager, stopped, off):
        services.follow_project(project, user)
    services.stop_following(project, stopped)
    db.session.commit()
    services.post_update(project, world.lead_staff, "The **first** course\nis full.")
    services.post_update(other, world.lead_staff, "Elsewhere")
    db.session.commit()
    db.session.query(OutboxEmail).delete()  # the immediate e-mails are tested elsewhere
    db.session.commit()

    assert notify.send_digests() == 1
    assert notify.send_digests() == 0  # one digest per member per day
    (mail,) = _mails_to(daily)
    assert mail.subject == "Your daily Huiju digest: 1 update"
    assert "Night school for riders: The **first** course is full." in mail.body_text
    assert f"/projects/{project.id}" in mail.body_text
    assert "Elsewhere" not in mail.body_text and "needs you follow" not in mail.body_text
    for user in (eager, stopped, off):
        assert _mails_to(user) == []

    # the next day: only what is new since the last digest
    tomorrow = utcnow() + timedelta(days=1)
    assert notify.send_digests(now=tomorrow) == 0


def test_one_digest_holds_needs_and_projects(world, make_project):
    need, _ = make_need(NeedStatus.OPEN, title="Street lights on Elm road")
    project = make_project(title="Evening childcare")
    reader = _reader()
    notify.follow(need, reader)
    services.follow_project(project, reader)
    db.session.commit()
    transition(need, "route", Actor.staff(make_user(Role.ADMIN)), organisation=make_organisation())
    services.post_update(project, world.admin, "Two rooms open.")
    db.session.commit()

    assert notify.send_digests() == 1
    (mail,) = _mails_to(reader)
    assert mail.subject == "Your daily Huiju digest: 2 updates"
    assert "Street lights on Elm road" in mail.body_text
    assert "Evening childcare: Two rooms open." in mail.body_text
    assert db.session.scalar(sa.select(sa.func.count(DigestRun.id))) == 1


def _digest_queries(queries) -> int:
    with queries() as statements:
        assert notify.send_digests() == 3
    return len(statements)


def test_the_digest_runs_a_constant_number_of_queries(queries, world, make_project):
    readers = [_reader() for _ in range(3)]
    projects = [make_project(needs=[])]
    for reader in readers:
        services.follow_project(projects[0], reader)
    services.post_update(projects[0], world.admin, "Update 0")
    db.session.commit()
    few = _digest_queries(queries)

    # again, as if it were a new day, with more projects and updates each
    db.session.execute(sa.delete(DigestRun))
    db.session.execute(sa.update(User).values(last_digest_at=None))
    for i in range(1, 5):
        projects.append(make_project(needs=[]))
        for reader in readers:
            services.follow_project(projects[i], reader)
        services.post_update(projects[i], world.admin, f"Update {i}")
        services.post_update(projects[i], world.admin, f"More {i}")
    db.session.commit()
    many = _digest_queries(queries)
    assert few == many, (few, many)
    assert many <= 4 + 3 * 4  # 3 reads and the next batch; a few writes per mail sent
    assert "Update 4" in _mails_to(readers[0])[-1].body_text
