"""Followers: automatic when a need is linked (submitter, supporters,
followers), stopping sticks, the follow button, and e-mails to followers."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import Delivery
from portal.extensions import db
from portal.notify.models import OutboxEmail
from portal.notify.services import follow
from portal.projects import services
from portal.projects.models import Project, ProjectFollow
from portal.voting.services import support_need
from tests.factories import make_user


def _followers(project) -> tuple[set[int], int]:
    db.session.expire_all()
    ids = set(
        db.session.scalars(
            sa.select(ProjectFollow.user_id).where(
                ProjectFollow.project_id == project.id, ProjectFollow.stopped_at.is_(None)
            )
        )
    )
    return ids, db.session.get(Project, project.id).follower_count


def test_people_of_a_linked_need_follow_and_stopping_sticks(
    client, login, world, make_project, post
):
    need, second = world.needs[0], world.needs[1]
    submitter, supporter, follower, both = (make_user() for _ in range(4))
    need.submitter_id = submitter.id
    support_need(need, supporter)
    follow(need, follower)
    support_need(need, both)
    follow(need, both)
    support_need(second, supporter)
    db.session.commit()
    project = make_project(needs=[need])
    expected = {submitter.id, supporter.id, follower.id, both.id}
    assert _followers(project) == (expected, 4)
    login(follower)
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Following — stop" in html
    response = post(f"/projects/{project.id}/follow", {"action": "remove"}, htmx=True)
    assert response.status_code == 200 and "Follow this project" in response.get_data(as_text=True)
    assert _followers(project) == (expected - {follower.id}, 3)
    follow(second, follower)  # follows the next need too
    db.session.commit()
    services.link_needs(db.session.get(Project, project.id), [second], world.admin)
    db.session.commit()
    assert _followers(project) == (expected - {follower.id}, 3)  # not signed up again
    assert post(f"/projects/{project.id}/follow", {"action": "add"}).status_code == 303
    assert _followers(project) == (expected, 4)
    assert post(f"/projects/{project.id}/follow", {"action": "add"}).status_code == 303
    assert _followers(project)[1] == 4  # twice is once


def test_a_member_follows_with_the_button(client, login, world, make_project, post):
    project = make_project(needs=[])
    member = login(world.member)
    assert "Follow this project" in client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert post(f"/projects/{project.id}/follow").status_code == 303
    assert _followers(project) == ({member.id}, 1)


def test_followers_are_told_by_e_mail_when_they_asked_to_hear_at_once(
    login, world, make_project, post
):
    eager, daily, stopped = make_user(), make_user(), make_user()
    eager.notify_followed, eager.locale = Delivery.IMMEDIATE, "en"
    stopped.notify_followed = Delivery.IMMEDIATE
    daily.notify_followed = Delivery.DAILY
    for user in (eager, daily, stopped):
        follow(world.needs[0], user)
    db.session.commit()
    project = make_project()
    services.stop_following(project, stopped)
    db.session.commit()
    login(world.lead_staff)
    post(f"/projects/{project.id}/updates", {"update-body": "The *first* course is full."})
    post(f"/projects/{project.id}/status", {"status-status": "in_progress"})
    mails = list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))
    assert [m.to_address for m in mails] == [eager.email, eager.email]
    assert "New update on the project" in mails[0].subject
    assert "The *first* course is full." in mails[0].body_text
    assert f"/projects/{project.id}" in mails[0].body_text
    assert "In progress" in mails[1].subject


def test_demo_projects_load(app, world):
    from portal.projects.demo import seed_demo_projects
    from portal.projects.models import ProjectProposal

    seed_demo_projects([world.lead, world.support, world.other], world.needs, world.admin)
    db.session.commit()
    projects = list(db.session.scalars(sa.select(Project).order_by(Project.id)))
    assert len(projects) == 2
    assert projects[0].progress == 33
    assert db.session.scalar(sa.select(sa.func.count(ProjectProposal.id))) == 1
