"""The partner workspace: the inbox and one page per need, with one short form
per action allowed now. Every page is scoped to the staff member's own
organisation: another partner's need answers 404, whatever the URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.core.routes import add_move_routes
from portal.forms import EmptyForm, submit_form
from portal.htmx import is_fragment_request, render, render_invalid
from portal.models_base import utcnow
from portal.needs.models import Need
from portal.partners import workspace
from portal.partners.forms import (
    DeclineForm,
    DeclineTransferForm,
    ExtensionForm,
    NoteForm,
    ResolveForm,
    TransferForm,
    UpdateForm,
)
from portal.partners.models import OPEN_ASSIGNMENT_STATES
from portal.photos.services import (
    PhotoBatch,
    attach_photos,
    photos_for_need,
    receive_form_photos,
)
from portal.photos.views import accepts_photos

bp = Blueprint("partner", __name__, url_prefix="/partner")

partner_required = role_required(Role.PARTNER)

PAGE = "partners/need.html"
FRAGMENT = "partners/_workspace.html"

#: The form of each action that takes more than one click.
FORMS: dict[str, type[FlaskForm]] = {
    "decline": DeclineForm,
    "decline_transfer": DeclineTransferForm,
    "update": UpdateForm,
    "resolve": ResolveForm,
    "note": NoteForm,
    "extension": ExtensionForm,
    "transfer": TransferForm,
}

#: The actions whose form may carry "after" photos (public steps of the timeline).
PHOTO_ACTIONS = frozenset({"update", "resolve"})


@bp.get("/inbox")
@partner_required
def inbox():
    filters = workspace.InboxFilters.from_args(request.args)
    organisation_id = current_user.organisation_id
    metrics = None
    if not is_fragment_request():
        from portal.metrics.services import compute

        now = utcnow()
        metrics = compute(organisation_id=organisation_id, start=now - timedelta(days=90), end=now)
    return render(
        "partners/inbox.html",
        "partners/_inbox_list.html",
        context={
            "page": workspace.inbox_page(organisation_id, filters),
            "counts": workspace.inbox_counts(organisation_id),
            "filters": filters,
            "states": workspace.INBOX_STATES,
            "state_label": workspace.assignment_state_label,
            "metrics": metrics,
        },
    )


def _need_or_404(ref: str) -> Need:
    need = workspace.workspace_need(ref, current_user.organisation_id)
    if need is None:
        abort(404)
    return need


def _make_form(action: str, *, bound: bool) -> FlaskForm:
    """One action's form; `bound` reads the posted data, else an empty form."""
    kwargs: dict = {"prefix": action.replace("_", "-")}
    if not bound:
        kwargs["formdata"] = None
    if action == "extension":
        kwargs["today"] = workspace.local_today()
    form = FORMS[action](**kwargs)
    if action == "transfer":
        form.set_choices(workspace.transfer_choices(current_user), _("Choose a partner"))
    return form


def _context(
    need: Need,
    posted: tuple[str, FlaskForm] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    batch: PhotoBatch | None = None,
) -> dict:
    organisation_id = current_user.organisation_id
    assignment = workspace.latest_assignment(need, organisation_id)
    actions = workspace.available_actions(need, current_user)
    forms: dict[str, FlaskForm] = {
        action: _make_form(action, bound=False) for action in FORMS if action in actions
    }
    if posted is not None:
        forms[posted[0]] = posted[1]
    forms["button"] = EmptyForm(formdata=None)
    is_open = assignment is not None and assignment.state in OPEN_ASSIGNMENT_STATES
    pending = workspace.pending_request_kinds(assignment if is_open else None)
    errors = errors or {}
    shown = [a for a in actions if a not in pending]
    return {
        "need": need,
        "assignment": assignment,
        "due_at": workspace.due_now(assignment) if assignment else None,
        "overdue": assignment is not None and workspace.is_overdue(assignment),
        "proposed": is_open and need.assigned_organisation_id != organisation_id,
        "pending": pending,
        "contact": workspace.contact_email(need, current_user),
        "point": workspace.partner_point(need, current_user),
        "actions": actions,
        "forms": forms,
        "errors": errors,
        # An action that is no longer offered (e.g. a stale page) has no form
        # to show its error next to.
        "panel_errors": [message for action, message in errors.items() if action not in shown],
        "message": message,
        "events": workspace.partner_timeline(need, organisation_id),
        # Hidden ones too (marked): they may show what has to be repaired.
        "photos": photos_for_need(need, include_hidden=True),
        # The photos a form shown again with errors already received.
        "batches": {posted[0]: batch} if posted is not None and batch is not None else {},
        "state_label": workspace.assignment_state_label,
        "tomorrow": workspace.local_today() + timedelta(days=1),
    }


@bp.get("/needs/<ref>")
@partner_required
def need(ref: str):
    return render(PAGE, FRAGMENT, context=_context(_need_or_404(ref)))


def _act(ref: str, action: str, do: Callable[..., str]):
    """Parse the action's form (and its photos), call the service, commit once;
    then the fragment (htmx) or a 303 back to the page. Bad input: 422 (413 for
    a too large photo) and nothing saved; the photos accepted so far wait for
    the corrected form. `do(need, form)`, or `do(need, form, photos)` for the
    actions that take photos."""
    need = _need_or_404(ref)
    form = _make_form(action, bound=True) if action in FORMS else EmptyForm()
    valid = form.validate()
    if not valid and action not in FORMS:
        abort(400)
    photos = receive_form_photos(form) if action in PHOTO_ACTIONS else None
    input_ok = valid and (photos is None or photos.ok)

    def again(form):
        posted = (action, form) if action in FORMS else None
        if not input_ok:  # the photos accepted so far wait for the corrected form
            if photos is not None:
                photos.keep()
            status = photos.error_status if photos is not None and not photos.ok else 422
            context = _context(need, posted=posted, batch=photos)
            return render_invalid(PAGE, FRAGMENT, context=context, error_status=status)
        # The service refused: no photo row; the staged files go at the end of the request.
        errors = {action: form.form_errors[0]} if form.form_errors else None
        return render_invalid(PAGE, FRAGMENT, context=_context(need, posted=posted, errors=errors))

    def done(message):
        if is_fragment_request():
            return render(PAGE, FRAGMENT, context=_context(need, message=message))
        flash(message, "success")
        return redirect(url_for("partner.need", ref=ref), code=303)

    return submit_form(
        form,
        lambda: do(need, form) if photos is None else do(need, form, photos),
        done=done,
        again=again,
        valid=input_ok,
    )


#: The workflow moves made from the workspace: the form field that carries the
#: move's text (a reason, the answer), and what the person is told once it is made.
#: A move of the workflow's table that partners make needs a row here and, if it
#: takes text, a form in FORMS; its URL is /partner/needs/<ref>/moves/<move>.
PARTNER_MOVES: dict[str, tuple[str | None, object]] = {
    "accept": (None, _l("You accepted this need. The submitter has been told.")),
    "decline": ("reason", _l("You declined this need; it went back to the administrators.")),
    "decline_transfer": (
        "reason",
        _l("You declined the transfer; the first partner stays answerable."),
    ),
    "start": (None, _l("Work has started. The submitter has been told.")),
    "resolve": ("text", _l("Your answer is published; the submitter is asked for feedback.")),
}


@accepts_photos
@partner_required
def move(ref: str, move: str):
    """Every workflow move of the workspace, through one view: the table above
    says what each one reads from its form (and resolving takes photos)."""
    if move not in PARTNER_MOVES:
        abort(404)
    text_field, told = PARTNER_MOVES[move]

    def do(need, form, photos=None):
        text = form[text_field].data if text_field else ""
        event = workspace.make_move(need, current_user, move, text)
        if photos is not None:
            attach_photos(need, photos, uploader=current_user, event=event)
        return str(told)

    return _act(ref, move, do)


add_move_routes(
    bp,
    "/needs/<ref>",
    move,
    {
        "accept": "accept",
        "decline": "decline",
        "decline_transfer": "decline-transfer",
        "start": "start",
        "resolve": "resolve",
    },
)


@bp.post("/needs/<ref>/updates")
@accepts_photos
@partner_required
def update(ref: str):
    def do(need, form, photos):
        event = workspace.post_update(need, current_user, form.text.data)
        attach_photos(need, photos, uploader=current_user, event=event)
        return _("Your progress update is published.")

    return _act(ref, "update", do)


@bp.post("/needs/<ref>/notes")
@partner_required
def note(ref: str):
    def do(need, form):
        workspace.add_note(need, current_user, form.text.data)
        return _("Your internal note is saved.")

    return _act(ref, "note", do)


@bp.post("/needs/<ref>/extension")
@partner_required
def extension(ref: str):
    def do(need, form):
        workspace.ask_for_more_time(need, current_user, form.new_due.data, form.reason.data)
        return _("Your request for more time was sent to the administrators.")

    return _act(ref, "extension", do)


@bp.post("/needs/<ref>/transfer")
@partner_required
def transfer(ref: str):
    def do(need, form):
        workspace.ask_for_transfer(need, current_user, form.organisation.data, form.reason.data)
        return _("Your transfer request was sent to the administrators.")

    return _act(ref, "transfer", do)
