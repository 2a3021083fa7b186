"""The privacy notice promises contact details are deleted once they are no
longer needed: `flask portal purge-contacts` erases them CONTACT_RETENTION_DAYS
after a need ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.needs.services import Submission, new_idempotency_key, submit_need
from portal.notify.models import OutboxEmail, OutboxStatus
from portal.notify.services import queue_email
from portal.workflow.services import Actor, transition
from tests.factories import make_category, make_need, make_user

EMAIL = "wang.retentionmarker@example.org"


MOVES = {
    NeedStatus.OPEN: ["publish"],
    NeedStatus.CLOSED: ["publish", "close_unresolved"],
    NeedStatus.REJECTED: ["reject"],
    NeedStatus.WITHDRAWN: ["withdraw"],
    NeedStatus.DUPLICATE: ["publish", "mark_duplicate"],
}


def _need(status: NeedStatus, ended_days_ago: float | None, n: int) -> Need:
    """A need with a full contact record and a position, moved to `status`;
    its end moved `ended_days_ago` days back."""
    need, _ = submit_need(
        Submission(
            title=f"Retention case {n}",
            body="A need that is long enough.",
            category_id=make_category().id,
            place="Somewhere public",
            email=f"{n}.{EMAIL}",
            idempotency_key=new_idempotency_key(),
            locale="en",
            name=f"Name {n}",
            phone=f"+86 139 {n:04d} 0000",
            lat=31.0,
            lon=121.0,
            device_id=f"device-{n}",
            account_id=f"account-{n}",
        ),
        Actor.public(),
    )
    admin = Actor.staff(make_user(Role.ADMIN))
    for move in MOVES[status]:
        actor = Actor.submitter(token_verified=True) if move == "withdraw" else admin
        kwargs = {"duplicate_of": make_need()[0]} if move == "mark_duplicate" else {}
        text = "Because." if move in ("reject", "close_unresolved") else ""
        transition(need, move, actor, text=text, **kwargs)
    assert need.status == status
    if ended_days_ago is not None:
        need.ended_at = utcnow() - timedelta(days=ended_days_ago)
    db.session.flush()
    return need


@pytest.fixture
def needs(app):
    cases = {
        "closed_181": _need(NeedStatus.CLOSED, 181, 1),
        "closed_179": _need(NeedStatus.CLOSED, 179, 2),
        "rejected_200": _need(NeedStatus.REJECTED, 200, 3),
        "withdrawn_365": _need(NeedStatus.WITHDRAWN, 365, 4),
        "duplicate_181": _need(NeedStatus.DUPLICATE, 181, 5),
        "open": _need(NeedStatus.OPEN, None, 6),
    }
    # A mail still waiting for the address of an expired contact (a retry).
    expired = cases["closed_181"]
    queue_email(f"1.{EMAIL}", "need_received", "en", about=expired, need=expired, tracking_url="")
    db.session.commit()
    return cases


def _run(app, *args: str):
    result = app.test_cli_runner().invoke(args=["portal", "purge-contacts", *args])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def _contact(need: Need):
    return db.session.get(Need, need.id).contact


def test_the_workflow_stores_when_a_need_ended(app):
    for status in NeedStatus:
        need, _ = make_need(status)
        assert (need.ended_at is not None) is status.is_terminal, status


def test_contacts_of_needs_ended_over_180_days_ago_are_erased(app, needs):
    output = _run(app)
    assert "Erased 4 contact(s)" in output
    for name in ("closed_181", "rejected_200", "withdrawn_365", "duplicate_181"):
        contact = _contact(needs[name])
        assert contact.need.contact_erased_at is not None, name
        assert (contact.email, contact.name, contact.phone) == ("", "", ""), name
        assert (contact.device_id, contact.account_id) == ("", ""), name
        need = db.session.get(Need, needs[name].id)
        assert (need.lat, need.lon) == (None, None), name
        assert need.place == "Somewhere public"
        assert contact.consent_notice_version  # what was agreed to stays on record
    for name in ("closed_179", "open"):
        contact = _contact(needs[name])
        assert contact.need.contact_erased_at is None and contact.email.endswith(EMAIL), name
        assert db.session.get(Need, needs[name].id).lat == 31.0
    mail = db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.body_text == ""))
    assert mail.status == OutboxStatus.CANCELLED and mail.to_address == ""
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(OutboxEmail.to_address == f"1.{EMAIL}"))
        == 0
    )
    assert "Erased 0 contact(s)" in _run(app)  # nothing left to do


def test_a_dry_run_changes_nothing(app, needs):
    output = _run(app, "--dry-run")
    assert "4 contact(s)" in output and "Nothing was changed" in output
    for need in needs.values():
        assert _contact(need).need.contact_erased_at is None
        assert _contact(need).email.endswith(EMAIL)


def test_small_batches_erase_the_same(app, needs):
    assert "Erased 4 contact(s)" in _run(app, "--batch-size", "1")


def test_the_period_is_configurable(app, needs):
    assert "Erased 5 contact(s)" in _run(app, "--days", "100")
    assert _contact(needs["closed_179"]).need.contact_erased_at is not None
    assert _contact(needs["open"]).need.contact_erased_at is None


@pytest.mark.parametrize("app_config", [{"CONTACT_RETENTION_DAYS": 365}])
def test_the_setting_gives_the_default(app, needs):
    assert "Erased 1 contact(s)" in _run(app)


def test_the_command_explains_itself(app):
    result = app.test_cli_runner().invoke(args=["portal", "purge-contacts", "--help"])
    assert "CONTACT_RETENTION_DAYS" in result.output and "--dry-run" in result.output
