"""Projects: proposals and their review, partners, linked needs, milestones,
progress, resource commitments, updates and followers. Services flush and
audit; the view commits once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from portal.areas.models import Area, subtree_ids
from portal.audit.services import record
from portal.auth.models import Role, User
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import UTCDateTime, commit_once, dialect_insert, insert_if_absent, utcnow
from portal.moderation.services import screen
from portal.needs.models import Need
from portal.notify.models import Follow
from portal.partners.models import Organisation, OrganisationResource, ResourceKind
from portal.projects.models import (
    Milestone,
    ProgressMode,
    Project,
    ProjectFollow,
    ProjectNeed,
    ProjectProposal,
    ProjectStatus,
    ProjectUpdate,
    ProposalState,
    ResourceCommitment,
    UpdateState,
)
from portal.projects.signals import project_news
from portal.projects.text import markdown_to_html
from portal.voting.models import PriorityRound, RoundItem, Support
from portal.workdays.services import local_today

PROJECTS_PER_PAGE = 20
#: Items of a closed round that prefill a new project.
ROUND_TOP_ITEMS = 3
UPDATES_SHOWN = 30


class ProjectError(DomainError):
    """An action that is not allowed now; the message is translated."""


class NotAllowed(Exception):
    """The acting user may not change this project (the view answers 403)."""


def projects_for_need(need: Need) -> list[Project]:
    """The projects carrying a need ("part of project X" on the need's page)."""
    stmt = (
        sa.select(Project)
        .join(ProjectNeed, ProjectNeed.project_id == Project.id)
        .where(ProjectNeed.need_id == need.id)
        .order_by(Project.id)
    )
    return list(db.session.scalars(stmt))


# --- reading ---------------------------------------------------------------


def active_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation).where(Organisation.is_active).order_by(Organisation.name_zh)
        )
    )


def listed_needs_by_ref(refs: list[str]) -> tuple[list[Need], list[str]]:
    """The public, listed needs with these references (in the given order) and
    the references that are not such a need."""
    if not refs:
        return [], []
    found = {
        n.ref: n
        for n in db.session.scalars(sa.select(Need).where(Need.ref.in_(refs), Need.is_listed))
    }
    return [found[r] for r in refs if r in found], [r for r in refs if r not in found]


@dataclass
class ProjectsPage:
    projects: list[Project]
    next_before: int | None


def projects_page(
    status: ProjectStatus | None, before: int | None, area: Area | None = None
) -> ProjectsPage:
    """Newest first, keyset-paginated on the id (index ix_projects_status_id),
    optionally in an area and everything under it (ix_projects_area_id)."""
    stmt = (
        sa.select(Project)
        .options(joinedload(Project.lead_organisation), joinedload(Project.area))
        .order_by(Project.id.desc())
        .limit(PROJECTS_PER_PAGE + 1)
    )
    if status is not None:
        stmt = stmt.where(Project.status == status)
    if area is not None:
        stmt = stmt.where(Project.area_id.in_(subtree_ids(area.path)))
    if before:
        stmt = stmt.where(Project.id < before)
    rows = list(db.session.scalars(stmt))
    projects = rows[:PROJECTS_PER_PAGE]
    has_more = len(rows) > PROJECTS_PER_PAGE
    return ProjectsPage(projects, projects[-1].id if has_more else None)


def project_for_page(project_id: int) -> Project | None:
    return db.session.scalar(
        sa.select(Project)
        .options(
            joinedload(Project.lead_organisation),
            joinedload(Project.area),
            selectinload(Project.supporting_organisations),
            selectinload(Project.need_links).joinedload(ProjectNeed.need),
            selectinload(Project.milestones),
            selectinload(Project.commitments).joinedload(ResourceCommitment.organisation),
            selectinload(Project.commitments).joinedload(ResourceCommitment.resource),
        )
        .where(Project.id == project_id)
    )


def project_updates(
    project: Project, limit: int = UPDATES_SHOWN, *, with_held: bool = False
) -> list[ProjectUpdate]:
    """The published updates, newest first; `with_held` adds those waiting for
    a moderator (for the project's own partners, who see them marked)."""
    states = [UpdateState.PUBLISHED, UpdateState.HELD] if with_held else [UpdateState.PUBLISHED]
    return list(
        db.session.scalars(
            sa.select(ProjectUpdate)
            .options(joinedload(ProjectUpdate.organisation))
            .where(ProjectUpdate.project_id == project.id, ProjectUpdate.state.in_(states))
            .order_by(ProjectUpdate.id.desc())
            .limit(limit)
        )
    )


def partner_organisations(project: Project) -> list[Organisation]:
    return [project.lead_organisation, *project.supporting_organisations]


def partner_resources(project: Project) -> list[OrganisationResource]:
    """What the project's partners offer to the shared pool (one query)."""
    return list(
        db.session.scalars(
            sa.select(OrganisationResource)
            .where(OrganisationResource.organisation_id.in_(project.partner_ids()))
            .order_by(OrganisationResource.organisation_id, OrganisationResource.id)
        )
    )


@dataclass
class PartnerCommitments:
    organisation: Organisation
    role: str  # "lead" or "supporting"
    commitments: list[ResourceCommitment] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(1 for c in self.commitments if c.delivered_at is not None)


def commitments_by_partner(project: Project) -> list[PartnerCommitments]:
    """Committed versus delivered, per partner (lead first)."""
    rows = [PartnerCommitments(project.lead_organisation, "lead")]
    rows += [PartnerCommitments(o, "supporting") for o in project.supporting_organisations]
    by_id = {row.organisation.id: row for row in rows}
    for commitment in project.commitments:
        row = by_id.get(commitment.organisation_id)
        if row is None:  # a former partner keeps what it committed on the record
            row = by_id[commitment.organisation_id] = PartnerCommitments(
                commitment.organisation, "former"
            )
            rows.append(row)
        row.commitments.append(commitment)
    return rows


def is_following(project: Project, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            sa.select(ProjectFollow.id).where(
                ProjectFollow.project_id == project.id,
                ProjectFollow.user_id == user.id,
                ProjectFollow.stopped_at.is_(None),
            )
        )
        is not None
    )


# --- proposals ---------------------------------------------------------------


@dataclass
class ProposalData:
    title: str
    background: str
    goal: str
    expected_result: str
    target: str
    target_value: int | None
    resources_needed: str
    partner_ids: list[int]
    needs: list[Need]


def can_propose(user) -> bool:
    """Partner staff and members with a confirmed e-mail address (admins too)."""
    if user is None or not user.is_authenticated:
        return False
    return user.role == Role.PARTNER or user.is_verified


def _organisations(ids: Iterable[int]) -> list[Organisation]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    orgs = list(
        db.session.scalars(
            sa.select(Organisation).where(Organisation.id.in_(ids), Organisation.is_active)
        )
    )
    if len(orgs) != len(ids):
        raise ProjectError(_("Please choose active partners only."))
    return sorted(orgs, key=lambda o: ids.index(o.id))


def _fill_proposal(proposal: ProjectProposal, data: ProposalData) -> None:
    for name in ("title", "background", "goal", "expected_result", "target", "target_value"):
        setattr(proposal, name, getattr(data, name))
    proposal.resources_needed = data.resources_needed or ""
    proposal.suggested_partners = _organisations(data.partner_ids)
    proposal.needs = list(data.needs)


def submit_proposal(data: ProposalData, user: User, idempotency_key: str) -> ProjectProposal:
    if not can_propose(user):
        raise NotAllowed
    proposal = ProjectProposal(
        proposer_id=user.id,
        organisation_id=user.organisation_id,
        idempotency_key=idempotency_key,
        state=ProposalState.PENDING,
    )
    _fill_proposal(proposal, data)
    db.session.add(proposal)
    db.session.flush()
    record(user, "project_proposal.submit", proposal, after={"title": proposal.title})
    return proposal


def commit_proposal(key: str, create) -> ProjectProposal:
    # A proposal already approved by the other submit of the same form also means it won.
    return commit_once(ProjectProposal, key, create, lost_race=(ProjectError,))


def commit_project(key: str, create) -> Project:
    return commit_once(Project, key, create, lost_race=(ProjectError,))


def own_proposal(proposal_id: int, user) -> ProjectProposal | None:
    return db.session.scalar(
        sa.select(ProjectProposal)
        .options(
            selectinload(ProjectProposal.needs), selectinload(ProjectProposal.suggested_partners)
        )
        .where(ProjectProposal.id == proposal_id, ProjectProposal.proposer_id == user.id)
    )


def proposals_of(user, limit: int = 50) -> list[ProjectProposal]:
    return list(
        db.session.scalars(
            sa.select(ProjectProposal)
            .where(ProjectProposal.proposer_id == user.id)
            .order_by(ProjectProposal.id.desc())
            .limit(limit)
        )
    )


def projects_of_proposals(proposals: list[ProjectProposal]) -> dict[int, Project]:
    ids = [p.id for p in proposals if p.state == ProposalState.APPROVED]
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Project).where(Project.proposal_id.in_(ids)))
    return {p.proposal_id: p for p in rows}


EDITABLE_STATES = (ProposalState.PENDING, ProposalState.CHANGES_REQUESTED)


def edit_proposal(proposal: ProjectProposal, data: ProposalData, user: User) -> None:
    """The proposer edits a proposal under review, or answers a request for
    changes: it goes back to the admins (resubmitted)."""
    if proposal.proposer_id != user.id:
        raise NotAllowed
    before = proposal.state
    _move_proposal(proposal, EDITABLE_STATES, ProposalState.PENDING)
    _fill_proposal(proposal, data)
    db.session.flush()
    action = (
        "project_proposal.resubmit"
        if before == ProposalState.CHANGES_REQUESTED
        else "project_proposal.edit"
    )
    record(user, action, proposal, before={"state": before}, after={"state": proposal.state})


def review_queue(limit: int = 100) -> list[ProjectProposal]:
    """Proposals awaiting review first (oldest first), then the others (newest)."""
    waiting = sa.case((ProjectProposal.state == ProposalState.PENDING, 0), else_=1)
    return list(
        db.session.scalars(
            sa.select(ProjectProposal)
            .options(joinedload(ProjectProposal.proposer))
            .order_by(
                waiting,
                sa.case(
                    (ProjectProposal.state == ProposalState.PENDING, ProjectProposal.id),
                    else_=-ProjectProposal.id,
                ),
            )
            .limit(limit)
        )
    )


def proposal_for_review(proposal_id: int) -> ProjectProposal | None:
    return db.session.scalar(
        sa.select(ProjectProposal)
        .options(
            joinedload(ProjectProposal.proposer),
            joinedload(ProjectProposal.organisation),
            selectinload(ProjectProposal.needs),
            selectinload(ProjectProposal.suggested_partners),
        )
        .where(ProjectProposal.id == proposal_id)
    )


def _move_proposal(
    proposal: ProjectProposal, from_states: Iterable[ProposalState], to: ProposalState, **values
) -> None:
    """A conditional UPDATE: two admins (or two clicks) cannot both decide."""
    moved = db.session.execute(
        sa.update(ProjectProposal)
        .where(ProjectProposal.id == proposal.id, ProjectProposal.state.in_(list(from_states)))
        .values(state=to, updated_at=utcnow(), **values)
        .returning(ProjectProposal.id)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        raise ProjectError(_("This proposal was already reviewed; the page shows its state now."))
    db.session.refresh(proposal)


def request_changes(proposal: ProjectProposal, admin: User, note: str) -> None:
    _move_proposal(
        proposal,
        [ProposalState.PENDING],
        ProposalState.CHANGES_REQUESTED,
        review_note=note,
        reviewed_by_id=admin.id,
        reviewed_at=utcnow(),
    )
    record(admin, "project_proposal.request_changes", proposal, after={"note": note})


def decline_proposal(proposal: ProjectProposal, admin: User, reason: str) -> None:
    _move_proposal(
        proposal,
        [ProposalState.PENDING, ProposalState.CHANGES_REQUESTED],
        ProposalState.DECLINED,
        review_note=reason,
        reviewed_by_id=admin.id,
        reviewed_at=utcnow(),
    )
    record(admin, "project_proposal.decline", proposal, after={"reason": reason})


# --- creating projects ---------------------------------------------------------


@dataclass
class ProjectData:
    title: str
    background: str
    goal: str
    expected_result: str
    target: str
    target_value: int | None
    budget: Decimal | None
    lead_id: int
    supporter_ids: list[int]
    needs: list[Need]
    area_id: int | None = None


def approve_proposal(
    proposal: ProjectProposal, admin: User, data: ProjectData, idempotency_key: str | None = None
) -> Project:
    _move_proposal(
        proposal,
        [ProposalState.PENDING],
        ProposalState.APPROVED,
        reviewed_by_id=admin.id,
        reviewed_at=utcnow(),
    )
    record(admin, "project_proposal.approve", proposal)
    return create_project(data, admin, proposal=proposal, idempotency_key=idempotency_key)


def create_project(
    data: ProjectData,
    admin: User,
    *,
    proposal: ProjectProposal | None = None,
    round_: PriorityRound | None = None,
    idempotency_key: str | None = None,
) -> Project:
    lead = _organisations([data.lead_id])[0]
    supporters = [o for o in _organisations(data.supporter_ids) if o.id != lead.id]
    project = Project(
        title=data.title,
        background=data.background or "",
        goal=data.goal,
        expected_result=data.expected_result or "",
        target=data.target,
        target_value=data.target_value,
        budget=data.budget,
        lead_organisation=lead,
        supporting_organisations=supporters,
        area_id=data.area_id,
        proposal_id=proposal.id if proposal else None,
        round_id=round_.id if round_ else None,
        created_by_id=admin.id,
        idempotency_key=idempotency_key,
        status=ProjectStatus.PLANNED,
        progress_mode=ProgressMode.MILESTONES,
        progress=0,
        follower_count=0,
    )
    db.session.add(project)
    db.session.flush()
    record(
        admin,
        "project.create",
        project,
        after={
            "title": project.title,
            "lead": lead.id,
            "supporting": ",".join(str(o.id) for o in supporters),
            "area": data.area_id,
            "proposal": proposal.id if proposal else None,
            "round": round_.id if round_ else None,
        },
    )
    link_needs(project, data.needs, admin)
    return project


def link_needs(project: Project, needs: list[Need], actor: User) -> list[Need]:
    """Link public listed needs; the people who asked for, supported or
    followed them follow the project (unless they stopped following it)."""
    for need in needs:
        if not need.is_listed:
            raise ProjectError(_("Only published needs can be linked: %(ref)s", ref=need.ref))
    added = [
        need
        for need in needs
        if insert_if_absent(
            ProjectNeed, project_id=project.id, need_id=need.id, created_at=utcnow()
        )
    ]
    if added:
        db.session.expire(project, ["need_links"])
        follow_from_needs(project, [n.id for n in added])
        record(
            actor,
            "project.link_needs",
            project,
            after={"needs": ",".join(n.ref for n in added)},
        )
    return added


def follow_from_needs(project: Project, need_ids: list[int]) -> int:
    """One INSERT … SELECT … ON CONFLICT DO NOTHING: submitters (accounts),
    supporters and followers of these needs follow the project. A row that
    exists (even stopped) is left alone, so stopping sticks. The count moves
    by exactly the rows inserted."""
    if not need_ids:
        return 0
    people = sa.union(
        sa.select(Need.submitter_id.label("user_id")).where(
            Need.id.in_(need_ids), Need.submitter_id.is_not(None)
        ),
        sa.select(Support.user_id).where(Support.need_id.in_(need_ids)),
        sa.select(Follow.user_id).where(Follow.need_id.in_(need_ids)),
    ).subquery()
    select = (
        sa.select(
            people.c.user_id,
            sa.literal(project.id, sa.Integer),
            sa.literal(True, sa.Boolean),
            sa.literal(utcnow(), UTCDateTime()),
        )
        .select_from(people)
        .join(User, User.id == people.c.user_id)
        .where(User.active)  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    )
    insert = dialect_insert(ProjectFollow).from_select(
        ["user_id", "project_id", "automatic", "created_at"], select
    )
    inserted = len(
        db.session.execute(insert.on_conflict_do_nothing().returning(ProjectFollow.id)).all()
    )
    if inserted:
        _add_followers(project, inserted)
    return inserted


def _add_followers(project: Project, delta: int) -> None:
    db.session.execute(
        sa.update(Project)
        .where(Project.id == project.id)
        .values(follower_count=Project.follower_count + delta)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(project, ["follower_count"])


def follow_project(project: Project, user: User) -> bool:
    """Follow (or follow again after stopping); False when already following."""
    if insert_if_absent(
        ProjectFollow, user_id=user.id, project_id=project.id, automatic=False, created_at=utcnow()
    ):
        _add_followers(project, 1)
        return True
    again = db.session.execute(
        sa.update(ProjectFollow)
        .where(
            ProjectFollow.user_id == user.id,
            ProjectFollow.project_id == project.id,
            ProjectFollow.stopped_at.is_not(None),
        )
        .values(stopped_at=None)
        .returning(ProjectFollow.id)
        .execution_options(synchronize_session=False)
    ).first()
    if again is None:
        return False
    _add_followers(project, 1)
    return True


def stop_following(project: Project, user: User) -> bool:
    stopped = db.session.execute(
        sa.update(ProjectFollow)
        .where(
            ProjectFollow.user_id == user.id,
            ProjectFollow.project_id == project.id,
            ProjectFollow.stopped_at.is_(None),
        )
        .values(stopped_at=utcnow())
        .returning(ProjectFollow.id)
        .execution_options(synchronize_session=False)
    ).first()
    if stopped is None:
        return False
    _add_followers(project, -1)
    return True


# --- prefilling a new project ----------------------------------------------------


def closed_rounds(limit: int = 20) -> list[PriorityRound]:
    return list(
        db.session.scalars(
            sa.select(PriorityRound)
            .where(PriorityRound.ends_at <= utcnow())
            .order_by(PriorityRound.ends_at.desc())
            .limit(limit)
        )
    )


def closed_round(round_id: int) -> PriorityRound | None:
    round_ = db.session.get(PriorityRound, round_id)
    return round_ if round_ is not None and round_.has_ended() else None


def round_top_needs(round_: PriorityRound, limit: int = ROUND_TOP_ITEMS) -> list[Need]:
    """The most voted listed needs of a closed round."""
    return list(
        db.session.scalars(
            sa.select(Need)
            .join(RoundItem, RoundItem.need_id == Need.id)
            .where(RoundItem.round_id == round_.id, Need.is_listed)
            .order_by(RoundItem.vote_count.desc(), RoundItem.position, RoundItem.id)
            .limit(limit)
        )
    )


# --- partner actions ---------------------------------------------------------------


def _check(project: Project, user) -> None:
    if not project.can_update(user):
        raise NotAllowed


def _insert_once(model, **values):
    """INSERT … ON CONFLICT DO NOTHING a milestone, commitment or update of a
    project; with the form's client token, the unique (project_id,
    client_token) makes a second submit of the same form find the first row:
    (row, False), and the caller neither audits nor notifies again."""
    insert = dialect_insert(model).values(**values)
    if values.get("client_token"):
        insert = insert.on_conflict_do_nothing()
    new_id = db.session.execute(insert.returning(model.id)).scalar()
    if new_id is not None:
        return db.session.get(model, new_id), True
    existing = db.session.scalar(
        sa.select(model).where(
            model.project_id == values["project_id"],
            model.client_token == values["client_token"],
        )
    )
    if existing is None:  # cannot happen: the conflict was on this very key
        raise ProjectError(_("Please send the form again."))
    return existing, False


def post_update(
    project: Project, user: User, markdown: str, client_token: str | None = None
) -> ProjectUpdate:
    _check(project, user)
    html = markdown_to_html(markdown)
    if not html:
        raise ProjectError(_("Please write something."))
    screening = screen(markdown, user)
    update, created = _insert_once(
        ProjectUpdate,
        project_id=project.id,
        organisation_id=user.organisation_id,
        author_id=user.id,
        body_markdown=markdown,
        body_html=html,
        client_token=client_token,
        state=UpdateState.HELD if screening.held else UpdateState.PUBLISHED,
        held_for=screening.reasons(),
        moderation_reason="",
        created_at=utcnow(),
    )
    if not created:
        return update
    record(
        user,
        "project.update",
        project,
        after={"update": update.id, "state": update.state.value},
    )
    if update.state == UpdateState.PUBLISHED:
        project_news.send(project, kind="update", text=markdown)
    return update


# --- moderation of held updates --------------------------------------------------

HELD_UPDATES_SHOWN = 50


def held_updates(limit: int = HELD_UPDATES_SHOWN) -> list[tuple[ProjectUpdate, Project]]:
    """Updates waiting for a moderator, oldest first, with their projects: one query."""
    rows = db.session.execute(
        sa.select(ProjectUpdate, Project)
        .join(Project, Project.id == ProjectUpdate.project_id)
        .options(joinedload(ProjectUpdate.organisation))
        .where(ProjectUpdate.state == UpdateState.HELD)
        .order_by(ProjectUpdate.id)
        .limit(limit)
    )
    return [(update, project) for update, project in rows]


def held_update(update_id: int) -> ProjectUpdate | None:
    update = db.session.get(ProjectUpdate, update_id)
    return update if update is not None and update.state == UpdateState.HELD else None


def _decide_update(
    update: ProjectUpdate, admin: User, state: UpdateState, reason: str, action: str
) -> Project:
    """One decision on a held update, made once: the conditional UPDATE lets
    only the first of two moderators deciding at the same moment through."""
    decided = db.session.execute(
        sa.update(ProjectUpdate)
        .where(ProjectUpdate.id == update.id, ProjectUpdate.state == UpdateState.HELD)
        .values(
            state=state,
            moderated_at=utcnow(),
            moderated_by_id=admin.id,
            moderation_reason=reason,
        )
        .returning(ProjectUpdate.id)
        .execution_options(synchronize_session=False)
    ).first()
    if decided is None:
        raise ProjectError(_("A moderator already decided on this update."))
    db.session.refresh(update)
    project = db.session.get(Project, update.project_id)
    record(
        admin,
        action,
        project,
        before={"update": update.id, "state": UpdateState.HELD.value},
        after={"update": update.id, "state": state.value, "reason": reason},
    )
    return project


def approve_update(update: ProjectUpdate, admin: User, note: str = "") -> None:
    """Publish a held update; its followers hear of it now."""
    project = _decide_update(update, admin, UpdateState.PUBLISHED, note, "project.update_approve")
    project_news.send(project, kind="update", text=update.body_markdown)


def reject_update(update: ProjectUpdate, admin: User, reason: str = "") -> None:
    """Keep a held update from the public; the text stays in the database."""
    _decide_update(update, admin, UpdateState.REJECTED, reason, "project.update_reject")


def add_milestone(
    project: Project, user: User, title: str, due_on: date, client_token: str | None = None
) -> Milestone:
    _check(project, user)
    position = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Milestone.position), 0)).where(
            Milestone.project_id == project.id
        )
    )
    milestone, created = _insert_once(
        Milestone,
        project_id=project.id,
        title=title,
        due_on=due_on,
        position=(position or 0) + 1,
        client_token=client_token,
        created_at=utcnow(),
    )
    if not created:
        return milestone
    record(user, "project.milestone_add", project, after={"title": title, "due_on": due_on})
    _refresh_progress(project)
    return milestone


def complete_milestone(
    project: Project, milestone: Milestone, user: User, done_on: date | None = None
) -> None:
    _check(project, user)
    if milestone.project_id != project.id:
        raise NotAllowed
    done_on = done_on or local_today()
    done = db.session.execute(
        sa.update(Milestone)
        .where(Milestone.id == milestone.id, Milestone.done_on.is_(None))
        .values(done_on=done_on, done_by_id=user.id)
        .returning(Milestone.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is None:
        raise ProjectError(_("This milestone is already done."))
    db.session.refresh(milestone)
    record(
        user,
        "project.milestone_done",
        project,
        after={"milestone": milestone.id, "done_on": done_on, "late": milestone.is_late(done_on)},
    )
    _refresh_progress(project)
    project_news.send(project, kind="milestone", text=milestone.title)


def _refresh_progress(project: Project) -> None:
    """In milestone mode, progress = done ÷ all, stored for lists."""
    if project.progress_mode != ProgressMode.MILESTONES:
        return
    total, done = db.session.execute(
        sa.select(sa.func.count(Milestone.id), sa.func.count(Milestone.done_on)).where(
            Milestone.project_id == project.id
        )
    ).one()
    project.progress = round(100 * done / total) if total else 0
    db.session.expire(project, ["milestones"])
    db.session.flush()


def set_progress(
    project: Project, user: User, mode: ProgressMode, value: int | None, reason: str
) -> None:
    _check(project, user)
    before = {"mode": project.progress_mode, "progress": project.progress}
    if mode == ProgressMode.MANUAL:
        if value is None or not 0 <= value <= 100:
            raise ProjectError(_("Please give a progress between 0 and 100."))
        if not reason:
            raise ProjectError(_("Please say why the progress is set by hand."))
        project.progress_mode = ProgressMode.MANUAL
        project.progress = value
        project.progress_reason = reason
    else:
        project.progress_mode = ProgressMode.MILESTONES
        project.progress_reason = ""
        _refresh_progress(project)
    db.session.flush()
    record(
        user,
        "project.progress",
        project,
        before=before,
        after={"mode": project.progress_mode, "progress": project.progress, "reason": reason},
    )


def set_achieved(project: Project, user: User, value: int) -> bool:
    """Record how much of the measurable target is reached ("X of N"). A
    conditional UPDATE: sending the same value again changes, audits and
    notifies nothing (False)."""
    _check(project, user)
    if project.target_value is None:
        raise ProjectError(_("This project has no target number to count towards."))
    if value < 0:
        raise ProjectError(_("Please give a whole number of 0 or more."))
    before = project.achieved_value
    changed = db.session.execute(
        sa.update(Project)
        .where(
            Project.id == project.id,
            sa.or_(Project.achieved_value.is_(None), Project.achieved_value != value),
        )
        .values(achieved_value=value, updated_at=utcnow())
        .returning(Project.id)
        .execution_options(synchronize_session=False)
    ).first()
    if changed is None:
        return False
    db.session.refresh(project, ["achieved_value"])
    record(
        user, "project.achieved", project, before={"achieved": before}, after={"achieved": value}
    )
    project_news.send(project, kind="achieved", text=f"{value} / {project.target_value}")
    return True


#: Allowed status changes (a small table, like the need workflow's).
STATUS_MOVES = {
    ProjectStatus.PLANNED: {ProjectStatus.IN_PROGRESS, ProjectStatus.PAUSED},
    ProjectStatus.IN_PROGRESS: {ProjectStatus.PAUSED, ProjectStatus.COMPLETED},
    ProjectStatus.PAUSED: {ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED},
    ProjectStatus.COMPLETED: {ProjectStatus.IN_PROGRESS},
}


def change_status(project: Project, user: User, status: ProjectStatus) -> None:
    _check(project, user)
    before = project.status
    if status not in STATUS_MOVES[before]:
        raise ProjectError(
            _(
                "A project cannot go from “%(from)s” to “%(to)s”.",
                **{"from": before.label, "to": status.label},
            )
        )
    moved = db.session.execute(
        sa.update(Project)
        .where(Project.id == project.id, Project.status == before)
        .values(status=status, updated_at=utcnow())
        .returning(Project.id)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        raise ProjectError(_("Someone changed this project meanwhile; please look again."))
    db.session.refresh(project, ["status"])
    now = utcnow()
    if status == ProjectStatus.IN_PROGRESS and project.started_at is None:
        project.started_at = now
    if status == ProjectStatus.COMPLETED:
        project.completed_at = now
    elif before == ProjectStatus.COMPLETED:
        project.completed_at = None
    db.session.flush()
    record(user, "project.status", project, before={"status": before}, after={"status": status})
    project_news.send(project, kind="status", text="")


@dataclass
class CommitmentData:
    organisation_id: int
    resource_id: int | None
    kind: ResourceKind | None
    description: str
    quantity: int | None
    amount: Decimal | None


def add_commitment(
    project: Project, user: User, data: CommitmentData, client_token: str | None = None
) -> ResourceCommitment:
    """A partner commits something; staff commit for their own organisation,
    admins for any partner of the project."""
    _check(project, user)
    if data.organisation_id not in project.partner_ids():
        raise ProjectError(_("Only the lead and supporting partners commit resources."))
    if not user.is_admin and data.organisation_id != user.organisation_id:
        raise ProjectError(_("You can commit resources of your own organisation only."))
    resource = None
    if data.resource_id:
        resource = db.session.get(OrganisationResource, data.resource_id)
        if resource is None or resource.organisation_id != data.organisation_id:
            raise ProjectError(_("This resource is not offered by that partner."))
    kind = resource.kind if resource is not None else data.kind
    description = data.description or (resource.description if resource is not None else "")
    if kind is None or not description:
        raise ProjectError(_("Pick an offered resource, or give a kind and a description."))
    commitment, created = _insert_once(
        ResourceCommitment,
        project_id=project.id,
        organisation_id=data.organisation_id,
        resource_id=resource.id if resource is not None else None,
        kind=kind,
        description=description[:300],
        quantity=data.quantity,
        amount=data.amount,
        committed_by_id=user.id,
        client_token=client_token,
        created_at=utcnow(),
    )
    if not created:
        return commitment
    record(
        user,
        "project.commitment_add",
        project,
        after={
            "commitment": commitment.id,
            "organisation": data.organisation_id,
            "kind": kind,
            "description": commitment.description,
            "quantity": data.quantity,
            "amount": data.amount,
        },
    )
    db.session.expire(project, ["commitments"])
    return commitment


def mark_delivered(project: Project, commitment: ResourceCommitment, user: User) -> None:
    _check(project, user)
    if commitment.project_id != project.id:
        raise NotAllowed
    if not user.is_admin and commitment.organisation_id != user.organisation_id:
        raise ProjectError(_("Only the partner who committed it marks it delivered."))
    done = db.session.execute(
        sa.update(ResourceCommitment)
        .where(ResourceCommitment.id == commitment.id, ResourceCommitment.delivered_at.is_(None))
        .values(delivered_at=utcnow(), delivered_by_id=user.id)
        .returning(ResourceCommitment.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is None:
        raise ProjectError(_("This commitment is already delivered."))
    db.session.refresh(commitment)
    record(user, "project.commitment_delivered", project, after={"commitment": commitment.id})


def link_more_needs(project: Project, user: User, needs: list[Need]) -> list[Need]:
    _check(project, user)
    return link_needs(project, needs, user)
