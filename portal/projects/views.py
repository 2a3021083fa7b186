"""Public project pages, proposals, the partners' project actions and /admin/projects."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal.areas.forms import chose_next_level
from portal.areas.tree import choice_for, resolve
from portal.auth.decorators import admin_required
from portal.comments.services import thread_for
from portal.core.params import arg_int, bounded_int, bounded_text
from portal.extensions import db
from portal.forms import EmptyForm, submit_form
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.needs.services import new_idempotency_key
from portal.partners.models import ResourceKind
from portal.projects import services
from portal.projects.forms import (
    AchievedForm,
    CommitmentForm,
    DeclineForm,
    LinkNeedsForm,
    MilestoneForm,
    ProgressForm,
    ProjectForm,
    ProposalForm,
    ReviewNoteForm,
    StatusForm,
    UpdateDecisionForm,
    UpdateForm,
)
from portal.projects.models import (
    Milestone,
    ProgressMode,
    Project,
    ProjectStatus,
    ProposalState,
    ResourceCommitment,
    UpdateState,
)
from portal.voting.services import priorities_page

bp = Blueprint("projects", __name__)

SHOW = "projects/show.html"


def _viewer():
    return current_user if current_user.is_authenticated else None


# --- public pages --------------------------------------------------------------


@bp.get("/projects")
def index():
    chosen = request.args.get("status", "")
    chosen_status = ProjectStatus(chosen) if chosen in ProjectStatus._value2member_map_ else None
    area = resolve(request.args.getlist("area")).area
    page = services.projects_page(chosen_status, arg_int("before"), area)
    return render(
        "projects/index.html",
        "projects/_list.html",
        context={
            "page": page,
            "chosen_status": chosen_status,
            "statuses": list(ProjectStatus),
            "area": area,
            "area_choice": choice_for(area),
        },
    )


def _project_or_404(project_id: int) -> Project:
    project = services.project_for_page(project_id)
    if project is None:
        abort(404)
    return project


#: The partners' action forms, by action name (the form prefix).
ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "update": UpdateForm,
    "milestone": MilestoneForm,
    "progress": ProgressForm,
    "achieved": AchievedForm,
    "status": StatusForm,
    "commitment": CommitmentForm,
    "needs": LinkNeedsForm,
}


def _action_form(action: str, project: Project, *, bound: bool) -> FlaskForm:
    kwargs: dict = {"prefix": action}
    if not bound:
        kwargs["formdata"] = None
    form = ACTION_FORMS[action](**kwargs)
    if action == "commitment":
        organisations = services.partner_organisations(project)
        if not current_user.is_admin:
            organisations = [o for o in organisations if o.id == current_user.organisation_id]
        form.set_choices(
            organisations,
            [
                r
                for r in services.partner_resources(project)
                if r.organisation_id in {o.id for o in organisations}
            ],
            _("— none —"),
        )
    if not bound and "client_token" in form:
        form.client_token.data = new_idempotency_key()
    if not bound and action == "achieved":
        form.value.data = project.achieved_value
    if not bound and action == "progress":
        form.mode.data = project.progress_mode.value
        form.value.data = project.progress
        form.reason.data = project.progress_reason
    if not bound and action == "status":
        form.status.data = project.status.value
    return form


def _show_context(project: Project, posted: tuple[str, FlaskForm] | None = None, error=""):
    user = _viewer()

    can_update = project.can_update(user)
    forms: dict[str, FlaskForm] = {}
    if can_update:
        forms = {a: _action_form(a, project, bound=False) for a in ACTION_FORMS}
        if posted is not None:
            forms[posted[0]] = posted[1]
    return {
        "project": project,
        "today": services.local_today(),
        "needs": [link.need for link in project.need_links if link.need.is_listed],
        "partners": services.commitments_by_partner(project),
        "updates": services.project_updates(project, with_held=can_update),
        "following": services.is_following(project, user),
        "follow_form": EmptyForm(),
        "thread": thread_for(project=project, user=user),
        "can_update": can_update,
        "forms": forms,
        "button_form": EmptyForm(formdata=None),
        "action_error": error,
        "ProgressMode": ProgressMode,
    }


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    project = _project_or_404(project_id)
    return render(SHOW, context=_show_context(project))


@bp.post("/projects/<int:project_id>/follow")
@login_required
def follow(project_id: int):
    project = _project_or_404(project_id)
    if not EmptyForm().validate():
        abort(400)
    if request.form.get("action") == "remove":
        services.stop_following(project, current_user)
    else:
        services.follow_project(project, current_user)
    db.session.commit()
    if is_fragment_request():
        return render(
            "projects/_follow.html",
            context={
                "project": project,
                "following": services.is_following(project, current_user),
                "follow_form": EmptyForm(),
            },
        )
    return redirect_after_post(url_for("projects.show", project_id=project.id) + "#follow")


# --- partner actions -------------------------------------------------------------


def _act(project_id: int, action: str | None, do: Callable[[Project, FlaskForm], str]):
    """Only the lead and supporting partners' staff (and admins): others get 403
    before anything is read from the form. Bad input: 422 and nothing saved."""
    project = _project_or_404(project_id)
    if not project.can_update(current_user):
        abort(403)
    form = _action_form(action, project, bound=True) if action else EmptyForm()

    def apply():
        try:
            return do(project, form)
        except services.NotAllowed:
            db.session.rollback()
            abort(403)

    def again(form):
        error = form.form_errors[0] if form.form_errors else ""
        posted = (action, form) if action else None
        context = _show_context(_project_or_404(project_id), posted=posted, error=error)
        return render_invalid(SHOW, context=context)

    def done(message):
        flash(message, "success")
        return redirect_after_post(url_for("projects.show", project_id=project_id) + "#manage")

    return submit_form(form, apply, done=done, again=again)


@bp.post("/projects/<int:project_id>/updates")
@login_required
def post_update(project_id: int):
    def do(project, form):
        update = services.post_update(project, current_user, form.body.data, form.client_token.data)
        if update.state == UpdateState.HELD:
            return _(
                "Your update awaits moderation: it is published, and followers are told, "
                "once a moderator approves it."
            )
        return _("Your update is published; followers are told.")

    return _act(project_id, "update", do)


@bp.post("/projects/<int:project_id>/milestones")
@login_required
def add_milestone(project_id: int):
    def do(project, form):
        services.add_milestone(
            project, current_user, form.title.data, form.due_on.data, form.client_token.data
        )
        return _("The milestone is added.")

    return _act(project_id, "milestone", do)


@bp.post("/projects/<int:project_id>/milestones/<int:milestone_id>/done")
@login_required
def complete_milestone(project_id: int, milestone_id: int):
    def do(project, form):
        milestone = db.session.get(Milestone, milestone_id)
        if milestone is None or milestone.project_id != project.id:
            abort(404)
        services.complete_milestone(project, milestone, current_user)
        return _("The milestone is marked done.")

    return _act(project_id, None, do)


@bp.post("/projects/<int:project_id>/progress")
@login_required
def set_progress(project_id: int):
    def do(project, form):
        services.set_progress(
            project,
            current_user,
            ProgressMode(form.mode.data),
            form.value.data,
            form.reason.data or "",
        )
        return _("The progress is saved.")

    return _act(project_id, "progress", do)


@bp.post("/projects/<int:project_id>/achieved")
@login_required
def set_achieved(project_id: int):
    def do(project, form):
        services.set_achieved(project, current_user, form.value.data)
        return _("The achieved value is saved.")

    return _act(project_id, "achieved", do)


@bp.post("/projects/<int:project_id>/status")
@login_required
def change_status(project_id: int):
    def do(project, form):
        services.change_status(project, current_user, ProjectStatus(form.status.data))
        return _("The status is changed; followers are told.")

    return _act(project_id, "status", do)


@bp.post("/projects/<int:project_id>/commitments")
@login_required
def add_commitment(project_id: int):
    def do(project, form):
        services.add_commitment(
            project,
            current_user,
            services.CommitmentData(
                organisation_id=form.organisation.data,
                resource_id=form.resource.data,
                kind=ResourceKind(form.kind.data) if form.kind.data else None,
                description=form.description.data or "",
                quantity=form.quantity.data,
                amount=form.amount.data,
            ),
            form.client_token.data,
        )
        return _("The commitment is recorded.")

    return _act(project_id, "commitment", do)


@bp.post("/projects/<int:project_id>/commitments/<int:commitment_id>/delivered")
@login_required
def mark_delivered(project_id: int, commitment_id: int):
    def do(project, form):
        commitment = db.session.get(ResourceCommitment, commitment_id)
        if commitment is None or commitment.project_id != project.id:
            abort(404)
        services.mark_delivered(project, commitment, current_user)
        return _("The commitment is marked delivered.")

    return _act(project_id, None, do)


@bp.post("/projects/<int:project_id>/needs")
@login_required
def link_needs(project_id: int):
    def do(project, form):
        needs, missing = services.listed_needs_by_ref(form.refs())
        if missing:
            raise services.ProjectError(
                _("These references are not published needs: %(refs)s", refs=", ".join(missing))
            )
        added = services.link_more_needs(project, current_user, needs)
        return ngettext("%(num)d need linked.", "%(num)d needs linked.", len(added))

    return _act(project_id, "needs", do)


# --- proposals -------------------------------------------------------------------


def _proposal_form(*, bound: bool = True, obj=None) -> ProposalForm:
    form = ProposalForm(obj=obj) if bound else ProposalForm(formdata=None, obj=obj)
    form.set_partner_choices(services.active_organisations())
    return form


def _proposal_data(form: ProposalForm) -> services.ProposalData | None:
    """The form's data, or None after adding an error for unknown references."""
    needs, missing = services.listed_needs_by_ref(form.refs())
    if missing:
        form.need_refs.errors = [
            _(
                "These references are not published needs: %(refs)s",
                refs=", ".join(missing),
            )
        ]
        return None
    return services.ProposalData(
        title=form.title.data,
        background=form.background.data,
        goal=form.goal.data,
        expected_result=form.expected_result.data,
        target=form.target.data,
        target_value=form.target_value.data,
        resources_needed=form.resources_needed.data or "",
        partner_ids=form.suggested_partners.data or [],
        needs=needs,
    )


@bp.get("/projects/proposals")
@login_required
def my_proposals():
    proposals = services.proposals_of(current_user)
    return render(
        "projects/proposals.html",
        context={
            "proposals": proposals,
            "projects": services.projects_of_proposals(proposals),
            "can_propose": services.can_propose(current_user),
            "editable": services.EDITABLE_STATES,
        },
    )


@bp.route("/projects/proposals/new", methods=["GET", "POST"])
@login_required
def new_proposal():
    if not services.can_propose(current_user):
        abort(403)
    form = _proposal_form()
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        refs = (bounded_text(v, 40) for v in request.args.getlist("need")[:50])
        form.need_refs.data = "\n".join(r for r in refs if r)
        return render("projects/proposal_form.html", context={"form": form, "proposal": None})
    data = _proposal_data(form) if form.validate() else None
    if data is None:
        return render_invalid(
            "projects/proposal_form.html", context={"form": form, "proposal": None}
        )
    try:
        services.commit_proposal(
            form.idempotency_key.data,
            lambda: services.submit_proposal(data, current_user, form.idempotency_key.data),
        )
    except services.ProjectError as error:
        db.session.rollback()
        form.suggested_partners.errors = [str(error)]
        return render_invalid(
            "projects/proposal_form.html", context={"form": form, "proposal": None}
        )
    flash(_("Your proposal is sent; the administrators will review it."), "success")
    return redirect_after_post(url_for("projects.my_proposals"))


@bp.route("/projects/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_proposal(proposal_id: int):
    proposal = services.own_proposal(proposal_id, current_user)
    if proposal is None or proposal.state not in services.EDITABLE_STATES:
        abort(404)
    if request.method == "GET":
        form = _proposal_form(bound=False, obj=proposal)
        form.suggested_partners.data = [o.id for o in proposal.suggested_partners]
        form.need_refs.data = "\n".join(n.ref for n in proposal.needs)
        return render("projects/proposal_form.html", context={"form": form, "proposal": proposal})
    form = _proposal_form()
    form.idempotency_key.data = new_idempotency_key()  # unused: the proposal keeps its key
    data = _proposal_data(form) if form.validate() else None
    if data is None:
        return render_invalid(
            "projects/proposal_form.html", context={"form": form, "proposal": proposal}
        )
    try:
        services.edit_proposal(proposal, data, current_user)
        db.session.commit()
    except services.ProjectError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect_after_post(url_for("projects.my_proposals"))
    flash(_("Your proposal is sent again for review."), "success")
    return redirect_after_post(url_for("projects.my_proposals"))


# --- admin -------------------------------------------------------------------------


@bp.get("/admin/projects")
@admin_required
def admin_index():
    page = services.projects_page(None, None)
    return render(
        "projects/admin_index.html",
        context={
            "proposals": services.review_queue(),
            "projects": page.projects,
            "ProposalState": ProposalState,
        },
    )


def _project_form(*, bound: bool = True) -> ProjectForm:
    form = ProjectForm() if bound else ProjectForm(formdata=None)
    form.set_partner_choices(services.active_organisations(), _("Choose a partner"))
    return form


def _project_data(form: ProjectForm) -> services.ProjectData | None:
    needs, missing = services.listed_needs_by_ref(form.refs())
    if missing:
        form.need_refs.errors = [
            _("These references are not published needs: %(refs)s", refs=", ".join(missing))
        ]
        return None
    return services.ProjectData(
        title=form.title.data,
        background=form.background.data or "",
        goal=form.goal.data,
        expected_result=form.expected_result.data or "",
        target=form.target.data,
        target_value=form.target_value.data,
        budget=form.budget.data,
        lead_id=form.lead.data,
        supporter_ids=form.supporters.data or [],
        needs=needs,
        area_id=form.area.data.id if form.area.data is not None else None,
    )


def _proposal_or_404(proposal_id: int):
    proposal = services.proposal_for_review(proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def _review_page(proposal, *, status: int = 200, **forms):
    """The review page; on a form error, the posted form replaces the empty one."""
    context = {
        "proposal": proposal,
        "approve_form": forms.get("approve_form") or _prefilled_from_proposal(proposal),
        "changes_form": forms.get("changes_form") or ReviewNoteForm(formdata=None),
        "decline_form": forms.get("decline_form") or DeclineForm(formdata=None),
        "error": forms.get("error", ""),
        "project": (
            services.projects_of_proposals([proposal]).get(proposal.id)
            if proposal.state == ProposalState.APPROVED
            else None
        ),
    }
    if status != 200:
        return render_invalid("projects/admin_proposal.html", context=context)
    return render("projects/admin_proposal.html", context=context)


def _prefilled_from_proposal(proposal) -> ProjectForm:
    form = _project_form(bound=False)
    for name in ("title", "background", "goal", "expected_result", "target", "target_value"):
        getattr(form, name).data = getattr(proposal, name)
    partners = [o.id for o in proposal.suggested_partners]
    form.lead.data = proposal.organisation_id or (partners[0] if partners else None)
    form.supporters.data = [i for i in partners if i != form.lead.data]
    form.need_refs.data = "\n".join(n.ref for n in proposal.needs if n.is_listed)
    form.idempotency_key.data = new_idempotency_key()
    return form


@bp.get("/admin/projects/proposals/<int:proposal_id>")
@admin_required
def admin_proposal(proposal_id: int):
    return _review_page(_proposal_or_404(proposal_id))


@bp.post("/admin/projects/proposals/<int:proposal_id>/approve")
@admin_required
def approve_proposal(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    form = _project_form()
    if chose_next_level():  # without JavaScript: the area's next level, nothing saved
        return _review_page(proposal, approve_form=form)
    data = _project_data(form) if form.validate() else None
    if data is None:
        return _review_page(proposal, status=422, approve_form=form)
    key = form.idempotency_key.data
    try:
        project = services.commit_project(
            key, lambda: services.approve_proposal(proposal, current_user, data, key)
        )
    except services.ProjectError as error:
        db.session.rollback()
        return _review_page(
            _proposal_or_404(proposal_id), status=422, approve_form=form, error=str(error)
        )
    flash(_("The proposal is approved and the project is created."), "success")
    return redirect_after_post(url_for("projects.show", project_id=project.id))


@bp.post("/admin/projects/proposals/<int:proposal_id>/changes")
@admin_required
def request_changes(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    form = ReviewNoteForm()
    if not form.validate():
        return _review_page(proposal, status=422, changes_form=form)
    try:
        services.request_changes(proposal, current_user, form.note.data)
        db.session.commit()
    except services.ProjectError as error:
        db.session.rollback()
        return _review_page(_proposal_or_404(proposal_id), status=422, error=str(error))
    flash(_("The proposer is asked for changes."), "success")
    return redirect_after_post(url_for("projects.admin_index"))


@bp.post("/admin/projects/proposals/<int:proposal_id>/decline")
@admin_required
def decline_proposal(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    form = DeclineForm()
    if not form.validate():
        return _review_page(proposal, status=422, decline_form=form)
    try:
        services.decline_proposal(proposal, current_user, form.reason.data)
        db.session.commit()
    except services.ProjectError as error:
        db.session.rollback()
        return _review_page(_proposal_or_404(proposal_id), status=422, error=str(error))
    flash(_("The proposal is declined; the proposer sees your reason."), "success")
    return redirect_after_post(url_for("projects.admin_index"))


def _new_page(form: ProjectForm, *, status: int = 200, error: str = ""):
    context = {
        "form": form,
        "rounds": services.closed_rounds(),
        "priorities": priorities_page(None, 1).needs[:10],
        "error": error,
    }
    if status != 200:
        return render_invalid("projects/admin_new.html", context=context)
    return render("projects/admin_new.html", context=context)


@bp.route("/admin/projects/new", methods=["GET", "POST"])
@admin_required
def admin_new():
    if request.method == "GET":
        form = _project_form(bound=False)
        form.idempotency_key.data = new_idempotency_key()
        refs = [r for r in (bounded_text(v, 40) for v in request.args.getlist("need")) if r][:50]
        if request.args.get("round"):
            round_ = services.closed_round(arg_int("round", default=0))
            if round_ is None:
                return _new_page(form, error=_("Choose a priority round that has ended."))
            needs = services.round_top_needs(round_)
            refs = [n.ref for n in needs]
            form.round_id.data = str(round_.id)
            form.title.data = needs[0].title if needs else round_.title
        elif refs:
            needs, _missing = services.listed_needs_by_ref(refs)
            form.title.data = needs[0].title if needs else ""
        form.need_refs.data = "\n".join(refs)
        return _new_page(form)
    form = _project_form()
    if chose_next_level():  # without JavaScript: the area's next level, nothing saved
        return _new_page(form)
    data = _project_data(form) if form.validate() else None
    if data is None:
        return _new_page(form, status=422)
    round_id = bounded_int(form.round_id.data)
    round_ = services.closed_round(round_id) if round_id else None
    key = form.idempotency_key.data
    try:
        project = services.commit_project(
            key,
            lambda: services.create_project(data, current_user, round_=round_, idempotency_key=key),
        )
    except services.ProjectError as error:
        db.session.rollback()
        return _new_page(form, status=422, error=str(error))
    flash(_("The project is created."), "success")
    return redirect_after_post(url_for("projects.show", project_id=project.id))


# --- moderation of held updates (listed on /admin/moderation) -------------------------


def _decide_update(update_id: int, decide, notice: str):
    update = services.held_update(update_id)
    if update is None:
        abort(404)
    form = UpdateDecisionForm()
    target = url_for("comments.moderation") + "#held-updates"
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400)
        flash(form.reason.errors[0], "error")
        return redirect_after_post(target)
    try:
        decide(update, current_user, form.reason.data or "")
    except services.ProjectError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect_after_post(target)
    db.session.commit()
    flash(notice, "success")
    return redirect_after_post(target)


@bp.post("/admin/moderation/updates/<int:update_id>/approve")
@admin_required
def approve_update(update_id: int):
    return _decide_update(
        update_id, services.approve_update, _("The update is published; followers are told.")
    )


@bp.post("/admin/moderation/updates/<int:update_id>/reject")
@admin_required
def reject_update(update_id: int):
    return _decide_update(
        update_id, services.reject_update, _("The update is rejected: it stays hidden.")
    )
