"""Helpers for the partner workspace tests: partners with staff and needs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role, User
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.partners.models import Assignment, AssignmentRequest, Organisation
from portal.workflow.models import TimelineEvent
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_need, make_organisation, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@dataclass
class Partner:
    organisation: Organisation
    staff: User


@pytest.fixture
def make_partner(app):
    def make(**kw) -> Partner:
        organisation = make_organisation(**kw)
        return Partner(organisation, make_user(Role.PARTNER, organisation))

    return make


@pytest.fixture
def routed(app):
    """A need routed to the partner, with a submitter's e-mail address."""

    def make(partner: Partner, status=NeedStatus.ROUTED, **kw) -> tuple[Need, str]:
        kw.setdefault("email", "asker@example.org")
        return make_need(status, partner=partner.organisation, **kw)

    return make


@pytest.fixture
def post(client):
    """POST a form as the browser would: with the CSRF token of the session."""

    def send(url: str, data: dict | None = None, htmx: bool = False):
        token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(url, data={"csrf_token": token, **(data or {})}, headers=headers)

    return send


def snapshot(need: Need) -> dict:
    """Everything a partner action could change about a need."""
    db.session.expire_all()
    fresh = db.session.get(Need, need.id)
    return {
        "status": fresh.status,
        "assigned": fresh.assigned_organisation_id,
        "events": db.session.scalar(
            sa.select(sa.func.count(TimelineEvent.id)).where(TimelineEvent.need_id == need.id)
        ),
        "assignments": sorted(
            (a.id, a.state, a.due_at)
            for a in db.session.scalars(sa.select(Assignment).where(Assignment.need_id == need.id))
        ),
        "requests": db.session.scalar(sa.select(sa.func.count(AssignmentRequest.id))),
        "audit": db.session.scalar(sa.select(sa.func.count(AuditEntry.id))),
    }


def fresh(need: Need) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need.id)


def assignments_of(need: Need) -> dict[int, Assignment]:
    """The need's assignments by organisation (the newest of each)."""
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Assignment).where(Assignment.need_id == need.id).order_by(Assignment.id)
    )
    return {a.organisation_id: a for a in rows}


__all__ = ["Partner", "assignments_of", "fresh", "make_category", "snapshot"]
