"""A small public world for the open data tests: listed and unlisted needs, an
internal note, a project with milestones and updates, an ended round — and
personal data marked with MARK wherever the database keeps it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.categories.models import Category
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners.models import Organisation
from portal.projects.models import Milestone, Project, ProjectNeed, ProjectUpdate
from portal.voting import services as voting
from portal.workflow.services import Actor, record_event
from tests.factories import make_category, make_need, make_organisation, make_user

MARK = "privmark"
PHONE = "13999900000"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@dataclass
class World:
    category: Category
    other_category: Category
    inactive: Category
    partner: Organisation
    supporter: Organisation
    project: Project
    listed: list[Need] = field(default_factory=list)
    unlisted: list[Need] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def _mark_personal_data(world: World, submitter: User) -> None:
    for need in world.listed + world.unlisted:
        need.submitter = submitter
        contact = need.contact
        contact.email = f"{MARK}-contact-{need.id}@example.org"
        if hasattr(contact, "phone"):
            contact.phone = PHONE
            contact.name = f"Contact {MARK} {need.id}"
        world.secrets += [need.idempotency_key, need.tracking_token_hash]
    for user in db.session.scalars(sa.select(User)):
        user.created_at = utcnow() - timedelta(days=3)  # members before the round ended
        user.email = f"{MARK}{user.id}@example.org"
        user.display_name = f"Name {MARK} {user.id}"


@pytest.fixture
def world(app) -> World:
    partner = make_organisation(name_zh="市总工会", name_en="City Union")
    supporter = make_organisation(name_zh="团市委", name_en="Youth League")
    category = make_category(code="roads", name_zh="道路", name_en="Roads", default_partner=partner)
    other = make_category(code="parks", name_zh="公园", name_en="Parks")
    inactive = make_category(code="old", name_en="Old", is_active=False)
    admin = make_user(Role.ADMIN)
    staff = make_user(Role.PARTNER, partner)
    submitter = make_user()

    listed = [
        make_need(NeedStatus.OPEN, category=category, title="Broken lamp on Elm Street")[0],
        make_need(NeedStatus.IN_PROGRESS, category=category, partner=partner)[0],
        make_need(NeedStatus.CLOSED, category=other, partner=partner)[0],
    ]
    unlisted = [
        make_need(NeedStatus.SUBMITTED, category=category, title="Unpublished secret need")[0],
        make_need(NeedStatus.REJECTED, category=category, title="Rejected secret need")[0],
        make_need(NeedStatus.WITHDRAWN, category=category, title="Withdrawn secret need")[0],
        make_need(NeedStatus.DUPLICATE, category=category, title="Duplicate secret need")[0],
    ]
    unlisted = [n for n in unlisted if not n.is_listed]
    listed = list(db.session.scalars(sa.select(Need).where(Need.is_listed).order_by(Need.id)))
    record_event(listed[1], "note", Actor.staff(staff), text=f"Internal {MARK} note")
    record_event(listed[1], "update", Actor.staff(staff), text="Work has started.")

    project = Project(
        title="Safer streets",
        goal="Light every street",
        target="100 lamps",
        target_value=100,
        lead_organisation=partner,
        budget=Decimal("12345.50"),
        supporting_organisations=[supporter],
    )
    db.session.add(project)
    db.session.flush()
    db.session.add_all(
        [
            ProjectNeed(project_id=project.id, need_id=listed[0].id),
            ProjectNeed(project_id=project.id, need_id=unlisted[0].id),
            Milestone(project_id=project.id, title="Survey", due_on=date(2026, 1, 1), position=1),
            Milestone(
                project_id=project.id,
                title="Install",
                due_on=date(2026, 3, 1),
                done_on=date(2026, 2, 1),
                position=2,
            ),
            ProjectUpdate(
                project_id=project.id,
                organisation_id=partner.id,
                author_id=staff.id,
                body_markdown="**Half** done",
                body_html="<p><strong>Half</strong> done</p>",
            ),
        ]
    )
    now = utcnow()
    round_ = voting.create_round(
        title="Spring priorities",
        description="",
        needs=listed[:2],
        votes_per_member=1,
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=1),
        show_live_counts=False,
        actor=admin,
    )
    voter = make_user()
    voting.cast_vote(round_, round_.items[1], voter)
    db.session.flush()
    round_.ends_at = now - timedelta(hours=1)
    w = World(category, other, inactive, partner, supporter, project, listed, unlisted)
    _mark_personal_data(w, submitter)
    db.session.commit()
    return w


def read_csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "CSV starts with a UTF-8 byte order mark"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def read_json(response) -> list[dict]:
    return json.loads(response.get_data(as_text=True))
