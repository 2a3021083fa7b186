"""Posting and reporting comments; /admin/moderation."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal.auth.decorators import admin_required, verified_required
from portal.comments import services
from portal.comments.forms import CommentForm, HideForm, ReportForm, RestoreForm
from portal.comments.models import REPORTS_TO_HIDE, Comment, CommentState
from portal.comments.services import CommentError, ReportOutcome
from portal.core.params import arg_int
from portal.extensions import db, limiter
from portal.htmx import is_fragment_request, render, render_invalid
from portal.needs import services as needs_services
from portal.needs.models import Need
from portal.projects.models import Project
from portal.projects.services import held_updates

bp = Blueprint("comments", __name__)


@bp.app_template_filter("linkify")
def linkify_filter(text: str | None):
    """Comment text: escaped, with its http(s) links made (rel=nofollow ugc noopener)."""
    return services.linkify(text)


@bp.app_template_global()
def comment_target_url(need: Need | None = None, project: Project | None = None) -> str:
    """The page a comment lives on."""
    if need is not None:
        return url_for("needs.show", ref=need.ref)
    if project is not None:
        return url_for("projects.show", project_id=project.id)
    return url_for("core.home")


def _comment_limit() -> str:
    return current_app.config.get("COMMENT_RATE_LIMIT", "10 per minute")


def _commenter() -> str:
    """Count per account: many phones share one address behind carrier NAT."""
    if current_user.is_authenticated:
        return f"commenter:{current_user.id}"
    return get_remote_address()


def _viewer():
    return current_user if current_user.is_authenticated else None


def _listed_need_or_404(ref: str) -> Need:
    need = needs_services.listed_need(ref)
    if need is None:
        abort(404)
    return need


def _project_or_404(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    return project


# --- threads ------------------------------------------------------------------


def _thread_page(*, need: Need | None = None, project: Project | None = None):
    """The comments alone, on their own page: older comments (`?before=`) and
    the answer to a comment form sent without JavaScript."""
    thread = services.thread_for(
        need=need, project=project, user=_viewer(), before=arg_int("before")
    )
    return render("comments/page.html", "comments/_thread.html", context={"thread": thread})


@bp.get("/needs/<ref>/comments")
def need_comments(ref: str):
    return _thread_page(need=_listed_need_or_404(ref))


@bp.get("/projects/<int:project_id>/comments")
def project_comments(project_id: int):
    return _thread_page(project=_project_or_404(project_id))


def _post(*, need: Need | None = None, project: Project | None = None):
    form = CommentForm()
    if not form.validate():
        thread = services.thread_for(need=need, project=project, user=current_user, form=form)
        return render_invalid(
            "comments/page.html", "comments/_thread.html", context={"thread": thread}
        )
    try:
        comment, _created = services.post_comment(
            current_user,
            form.body.data,
            form.client_token.data,
            need=need,
            project=project,
        )
    except CommentError as error:
        db.session.rollback()
        form.body.errors = [*form.body.errors, str(error)]
        thread = services.thread_for(need=need, project=project, user=current_user, form=form)
        return render_invalid(
            "comments/page.html", "comments/_thread.html", context={"thread": thread}
        )
    db.session.commit()
    notice = (
        _("Your comment awaits moderation. Only you can see it until a moderator approves it.")
        if comment.state == CommentState.HELD
        else _("Your comment is posted.")
    )
    if is_fragment_request():
        thread = services.thread_for(need=need, project=project, user=current_user)
        thread.notice = notice
        return render("comments/_thread.html", context={"thread": thread})
    flash(notice, "success")
    return redirect(comment_target_url(need, project) + f"#comment-{comment.id}", code=303)


@bp.post("/needs/<ref>/comments")
@limiter.limit(_comment_limit, key_func=_commenter)
@verified_required
def comment_on_need(ref: str):
    return _post(need=_listed_need_or_404(ref))


@bp.post("/projects/<int:project_id>/comments")
@limiter.limit(_comment_limit, key_func=_commenter)
@verified_required
def comment_on_project(project_id: int):
    return _post(project=_project_or_404(project_id))


# --- reports ------------------------------------------------------------------


def _report_message(outcome: ReportOutcome) -> tuple[str, str]:
    """(flash category, message) for what a report did."""
    if outcome == ReportOutcome.HELD:
        return "success", _("Thank you. The comment is hidden until a moderator looks at it.")
    if outcome == ReportOutcome.ALREADY_REPORTED:
        return "info", _("You already reported this comment.")
    return "success", _("Thank you. A moderator will look at it.")


def _target_of(comment: Comment) -> tuple[Need | None, Project | None]:
    if comment.need_id is not None:
        return db.session.get(Need, comment.need_id), None
    return None, db.session.get(Project, comment.project_id)


@bp.post("/comments/<int:comment_id>/report")
@verified_required
def report(comment_id: int):
    comment = services.public_comment(comment_id)
    if comment is None:
        abort(404)
    need, project = _target_of(comment)
    form = ReportForm()
    category, message = "error", ""
    outcome = None
    if form.validate():
        try:
            outcome = services.report_comment(comment, current_user, form.reason.data or "")
            db.session.commit()
            category, message = _report_message(outcome)
        except CommentError as error:
            db.session.rollback()
            message = str(error)
    else:
        message = next(iter(form.errors.values()))[0]

    if is_fragment_request():
        thread = services.Thread(
            comments=[comment],
            reported_ids=services.reported_by(current_user, [comment]),
            need=need,
            project=project,
            viewer=current_user,
            report_form=form if outcome is None else ReportForm(formdata=None),
        )
        return render(
            "comments/_comment.html",
            context={
                "comment": comment,
                "thread": thread,
                "notice": message,
                "notice_category": category,
                "gone": comment.state != CommentState.VISIBLE
                and comment.author_id != current_user.id,
            },
        )
    flash(message, category)
    anchor = "#comments" if comment.state != CommentState.VISIBLE else f"#comment-{comment.id}"
    return redirect(comment_target_url(need, project) + anchor, code=303)


# --- moderation ---------------------------------------------------------------


def _moderation_page(status: int = 200, errors: dict | None = None, typed: dict | None = None):
    page = services.moderation_queue(services.bounded_page(request.values.get("page")))
    return render(
        "comments/moderation.html",
        context={
            "page": page,
            "held_updates": held_updates() if page.page == 1 else [],
            "reports_to_hide": REPORTS_TO_HIDE,
            "errors": errors or {},
            "typed": typed or {},
            "notices": {},
        },
        status=status,
    )


@bp.get("/admin/moderation")
@admin_required
def moderation():
    return _moderation_page()


def _comment_or_404(comment_id: int) -> Comment:
    comment = services.get_comment(comment_id)
    if comment is None:
        abort(404)
    return comment


def _decided(comment: Comment, notice: str):
    """The moderation row alone for htmx; back to the list otherwise."""
    if is_fragment_request():
        return render(
            "comments/_moderation_row.html",
            context={
                "item": services.moderation_items([comment])[0],
                "page": None,
                "errors": {},
                "typed": {},
                "notices": {comment.id: notice},
            },
        )
    flash(notice, "success")
    page = services.bounded_page(request.form.get("page"))
    return redirect(url_for("comments.moderation", page=page if page > 1 else None), code=303)


def _refused(comment: Comment, action: str, form):
    """The reason was missing or too long: the row (htmx, 200) or the page (422)
    with the error and what was typed."""
    errors = {comment.id: {action: form.reason.errors[0]}}
    typed = {comment.id: {action: request.form.get("reason", "")}}
    if is_fragment_request():
        return render(
            "comments/_moderation_row.html",
            context={
                "item": services.moderation_items([comment])[0],
                "page": None,
                "errors": errors,
                "typed": typed,
                "notices": {},
            },
        )
    return _moderation_page(status=422, errors=errors, typed=typed)


@bp.post("/admin/moderation/<int:comment_id>/hide")
@admin_required
def hide(comment_id: int):
    """Hide a published comment (reason required) or reject a held one."""
    comment = _comment_or_404(comment_id)
    rejecting = comment.awaits_approval
    form = RestoreForm() if rejecting else HideForm()
    if not form.validate():
        return _refused(comment, "hide", form)
    services.hide_comment(comment, current_user, form.reason.data or "")
    db.session.commit()
    if rejecting:
        return _decided(comment, _("The comment is rejected: it stays hidden."))
    return _decided(comment, _("The comment is hidden."))


@bp.post("/admin/moderation/<int:comment_id>/restore")
@admin_required
def restore(comment_id: int):
    """Show a hidden comment again, or approve and publish a held one."""
    comment = _comment_or_404(comment_id)
    approving = comment.awaits_approval
    form = RestoreForm()
    if not form.validate():
        return _refused(comment, "restore", form)
    services.restore_comment(comment, current_user, form.reason.data or "")
    db.session.commit()
    if approving:
        return _decided(comment, _("The comment is approved and published."))
    return _decided(comment, _("The comment is shown again."))
