"""The response loop's table: every allowed move works, every other one is refused."""

from __future__ import annotations

import ast
import pathlib

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus, Outcome
from portal.partners.hierarchy import move_organisation
from portal.workflow.models import TimelineEvent
from portal.workflow.services import MOVES, Actor, ActorRole, WorkflowError, transition
from tests.factories import PATH_TO, make_need, make_organisation, make_user

S = NeedStatus

# The table of DESIGN.md, written out independently of the code under test.
EXPECTED = {
    ("publish", S.SUBMITTED): S.OPEN,
    ("reject", S.SUBMITTED): S.REJECTED,
    ("mark_duplicate", S.SUBMITTED): S.DUPLICATE,
    ("mark_duplicate", S.OPEN): S.DUPLICATE,
    ("route", S.OPEN): S.ROUTED,
    ("transfer", S.ROUTED): S.ROUTED,
    ("accept", S.ROUTED): S.ACCEPTED,
    ("decline", S.ROUTED): S.OPEN,
    ("start", S.ACCEPTED): S.IN_PROGRESS,
    ("resolve", S.ACCEPTED): S.RESOLVED,
    ("resolve", S.IN_PROGRESS): S.RESOLVED,
    ("close", S.RESOLVED): S.CLOSED,
    ("reopen", S.RESOLVED): S.IN_PROGRESS,
    ("close_unresolved", S.OPEN): S.CLOSED,
    ("close_unresolved", S.ROUTED): S.CLOSED,
    ("close_unresolved", S.ACCEPTED): S.CLOSED,
    ("close_unresolved", S.IN_PROGRESS): S.CLOSED,
    ("close_unresolved", S.RESOLVED): S.CLOSED,
    ("decline_transfer", S.ROUTED): S.ROUTED,
    ("reassign", S.ROUTED): S.ROUTED,
    ("reassign", S.ACCEPTED): S.ROUTED,
    ("reassign", S.IN_PROGRESS): S.ROUTED,
    **{
        ("withdraw", s): S.WITHDRAWN
        for s in (S.SUBMITTED, S.OPEN, S.ROUTED, S.ACCEPTED, S.IN_PROGRESS)
    },
}
WHO = {
    "publish": ActorRole.ADMIN,
    "reject": ActorRole.ADMIN,
    "mark_duplicate": ActorRole.ADMIN,
    "route": ActorRole.ADMIN,
    "transfer": ActorRole.ADMIN,
    "close_unresolved": ActorRole.ADMIN,
    "decline_transfer": ActorRole.PARTNER,
    "accept": ActorRole.PARTNER,
    "decline": ActorRole.PARTNER,
    "start": ActorRole.PARTNER,
    "resolve": ActorRole.PARTNER,
    "reassign": ActorRole.PARTNER,  # of an organisation above the lead
    "close": ActorRole.SUBMITTER,
    "reopen": ActorRole.SUBMITTER,
    "withdraw": ActorRole.SUBMITTER,
}
ALL_STATES = list(NeedStatus)


def test_the_table_is_the_one_in_the_design():
    table = {(name, s): m.target for name, m in MOVES.items() for s in m.sources if s is not None}
    assert table == EXPECTED
    assert MOVES["submit"].sources == {None}


def _actor(role: ActorRole, need, move: str = ""):
    if move == "decline_transfer" and role == ActorRole.PARTNER and need.status == S.ROUTED:
        # Only a partner proposed by a transfer may decline it.
        candidate = make_organisation()
        transition(
            need,
            "transfer",
            Actor.staff(make_user(Role.ADMIN)),
            text="Better placed.",
            organisation=candidate,
        )
        return Actor.staff(make_user(Role.PARTNER, candidate))
    if move == "reassign" and role == ActorRole.PARTNER and need.assigned_organisation:
        # Staff of an organisation above the lead.
        above = make_organisation()
        move_organisation(need.assigned_organisation, above)
        return Actor.staff(make_user(Role.PARTNER, above))
    if role == ActorRole.ADMIN:
        return Actor.staff(make_user(Role.ADMIN))
    if role == ActorRole.PARTNER:
        org = need.assigned_organisation
        return Actor.staff(make_user(Role.PARTNER, org or make_organisation()))
    if role == ActorRole.SUBMITTER:
        return Actor.submitter(token_verified=True)
    if role == ActorRole.SYSTEM:
        return Actor.system()
    return Actor.public()


def _kwargs(move: str, need) -> dict:
    if move == "mark_duplicate":
        return {"duplicate_of": make_need(S.OPEN)[0]}
    if move in ("route", "transfer"):
        return {"organisation": make_organisation()}
    if move == "reassign":  # another organisation under the lead's parent, if it has one
        lead = need.assigned_organisation
        return {"organisation": make_organisation(parent=lead.parent if lead else None)}
    return {}


@pytest.mark.parametrize(("move", "source"), sorted(EXPECTED, key=str))
def test_every_allowed_move_changes_status_and_writes_one_event(app, move, source):
    need, _ = make_need(source)
    before = db.session.scalar(sa.select(sa.func.count()).where(TimelineEvent.need_id == need.id))

    event = transition(
        need, move, _actor(WHO[move], need, move), text="A reason.", **_kwargs(move, need)
    )
    db.session.flush()

    assert need.status == EXPECTED[(move, source)]
    assert event.from_status == source and event.to_status == need.status
    assert event.move == move and event.actor_role == WHO[move].value
    after = db.session.scalar(sa.select(sa.func.count()).where(TimelineEvent.need_id == need.id))
    assert after == before + (2 if move == "decline_transfer" else 1)


FORBIDDEN_FROM = [
    (move, state)
    for move in MOVES
    if move != "submit"
    for state in ALL_STATES
    if (move, state) not in EXPECTED and state in PATH_TO
]


@pytest.mark.parametrize(("move", "state"), FORBIDDEN_FROM)
def test_moves_from_other_states_are_refused(app, move, state):
    need, _ = make_need(state)
    with pytest.raises(WorkflowError):
        transition(need, move, _actor(WHO[move], need), text="x", **_kwargs(move, need))
    assert need.status == state


WRONG_ROLE = [
    (move, source, role)
    for (move, source) in sorted(EXPECTED, key=str)
    for role in ActorRole
    if role not in MOVES[move].roles
]


@pytest.mark.parametrize(("move", "source", "role"), WRONG_ROLE)
def test_moves_by_the_wrong_role_are_refused(app, move, source, role):
    need, _ = make_need(source)
    with pytest.raises(WorkflowError):
        transition(need, move, _actor(role, need), text="x", **_kwargs(move, need))
    assert need.status == source


def test_system_may_close_a_resolved_need(app):
    need, _ = make_need(S.RESOLVED)
    transition(need, "close", Actor.system())
    assert need.status == S.CLOSED and need.outcome == Outcome.RESOLVED


def test_staff_of_another_partner_cannot_act(app):
    need, _ = make_need(S.ROUTED)
    outsider = make_user(Role.PARTNER, make_organisation())
    with pytest.raises(WorkflowError):
        transition(need, "accept", Actor.staff(outsider))
    assert need.status == S.ROUTED


def test_a_member_cannot_withdraw_someone_elses_need(app):
    need, _ = make_need(S.OPEN)
    with pytest.raises(WorkflowError):
        transition(need, "withdraw", Actor.submitter(make_user()))


def test_a_member_may_withdraw_their_own_need(app):
    need, _ = make_need(S.OPEN)
    owner = make_user()
    need.submitter = owner
    transition(need, "withdraw", Actor.submitter(owner))
    assert need.status == S.WITHDRAWN and not need.is_listed


@pytest.mark.parametrize(
    "move", ["reject", "decline", "resolve", "reopen", "transfer", "decline_transfer", "reassign"]
)
def test_moves_that_need_a_reason_refuse_an_empty_one(app, move):
    source = next(s for (m, s) in EXPECTED if m == move)
    need, _ = make_need(source)
    actor = _actor(WHO[move], need, move)
    with pytest.raises(WorkflowError):
        transition(need, move, actor, text="   ", **_kwargs(move, need))


def test_publishing_lists_the_need_and_stamps_the_time(app):
    need, _ = make_need(S.SUBMITTED)
    assert not need.is_listed and need.published_at is None
    transition(need, "publish", Actor.staff(make_user(Role.ADMIN)))
    assert need.is_listed and need.published_at is not None


def test_decline_sends_the_need_back_to_triage_and_keeps_the_reason(app):
    need, _ = make_need(S.ROUTED)
    event = transition(need, "decline", _actor(ActorRole.PARTNER, need), text="Not our field.")
    assert need.status == S.OPEN and need.assigned_organisation_id is None
    assert event.text == "Not our field."


def test_close_unresolved_carries_the_outcome_and_reopen_clears_nothing_wrong(app):
    need, _ = make_need(S.IN_PROGRESS)
    transition(need, "close_unresolved", _actor(ActorRole.ADMIN, need), text="Out of scope.")
    assert need.outcome == Outcome.NOT_RESOLVED
    need2, _ = make_need(S.RESOLVED)
    transition(need2, "reopen", Actor.submitter(token_verified=True), text="Still broken.")
    assert need2.status == S.IN_PROGRESS and need2.outcome is None


def test_a_need_cannot_duplicate_itself(app):
    need, _ = make_need(S.OPEN)
    with pytest.raises(WorkflowError):
        transition(need, "mark_duplicate", _actor(ActorRole.ADMIN, need), duplicate_of=need)


def test_assigning_a_status_outside_the_workflow_fails(app):
    """Views and services never write `need.status = …`: the model refuses it."""
    need, _ = make_need(S.OPEN)
    with pytest.raises(RuntimeError, match="only through"):
        need.status = S.CLOSED
    assert need.status == S.OPEN


def test_no_module_outside_the_workflow_writes_a_need_status():
    """The same rule read from the source: no `<need>.status = …` outside it."""
    root = pathlib.Path(__file__).resolve().parents[2] / "portal"
    offenders = []
    for path in root.rglob("*.py"):
        if path.parts[-2:] == ("workflow", "services.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and "need" in ast.unparse(target.value).lower()
                ):
                    offenders.append(f"{path}:{node.lineno}")
    assert offenders == []
