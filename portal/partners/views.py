"""The partner workspace: the inbox and one page per need, with one short form
per action allowed now. Every page is scoped to the staff member's own
organisation and those under it: another partner's need (a parent's or a
sibling's too) answers 404, whatever the URL."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.core.moves import Offer, add_move_routes, default_offer
from portal.forms import EmptyForm, submit_form
from portal.htmx import is_fragment_request, render, render_invalid
from portal.metrics.services import compute
from portal.models_base import utcnow
from portal.needs.models import Need
from portal.partners import cohandlers, hierarchy, workspace
from portal.partners.forms import (
    AskInputForm,
    DeclineForm,
    DeclineTransferForm,
    ExtensionForm,
    InputForm,
    NoteForm,
    ReassignForm,
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
from portal.workflow.services import MOVES

bp = Blueprint("partner", __name__, url_prefix="/partner")

partner_required = role_required(Role.PARTNER)

PAGE = "partners/need.html"
FRAGMENT = "partners/_workspace.html"


@bp.get("/inbox")
@partner_required
def inbox():
    filters = workspace.InboxFilters.from_args(request.args)
    organisation = current_user.organisation
    organisation_id = organisation.id
    page_only = {}
    if not is_fragment_request():  # the list alone is the fragment
        now = utcnow()
        start = now - timedelta(days=90)
        page_only = {
            "metrics": compute(organisation_id=organisation_id, start=start, end=now),
            "supported": cohandlers.supported_needs(organisation_id, now),
            "support_figures": cohandlers.support_figures(organisation_id, start, now),
            # The choice of the organisations under this one, if it has any.
            "scopes": (
                workspace.INBOX_SCOPES if hierarchy.has_organisations_below(organisation) else {}
            ),
        }
    return render(
        "partners/inbox.html",
        "partners/_inbox_list.html",
        context={
            "page": workspace.inbox_page(organisation, filters),
            "counts": workspace.inbox_counts(organisation_id),
            "filters": filters,
            "states": workspace.INBOX_STATES,
            "state_label": workspace.assignment_state_label,
            "metrics": None,
            **page_only,
        },
    )


def _need_or_404(ref: str) -> Need:
    need = workspace.workspace_need(ref, current_user.organisation_id)
    if need is None:
        abort(404)
    return need


def _make_form(action: str, need: Need, *, bound: bool) -> FlaskForm:
    """One offer's form; `bound` reads the posted data, else an empty form."""
    kwargs: dict = {"prefix": action.replace("_", "-")}
    if not bound:
        kwargs["formdata"] = None
    if action == "extension":
        kwargs["today"] = workspace.local_today()
    elif action == "ask_input":
        kwargs["co_handlers"] = cohandlers.co_handlers_of(need)
    form = (_offer(action).form or EmptyForm)(**kwargs)
    if action == "transfer":
        form.set_choices(workspace.transfer_choices(current_user), _("Choose a partner"))
    elif action == "reassign":
        form.set_choices(
            workspace.reassign_choices(need, current_user), _("Choose an organisation")
        )
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
    co_handlers = cohandlers.co_handlers_of(need)
    supporting = next((c for c in co_handlers if c.organisation_id == organisation_id), None)
    lead = need.assigned_organisation
    is_open = assignment is not None and assignment.state in OPEN_ASSIGNMENT_STATES
    # Read from above: an organisation under this one handles the need (and
    # this one's own assignment, if any, has ended, e.g. it was reassigned).
    overseen = None
    if (
        supporting is None
        and not is_open
        and (assignment is None or (lead is not None and lead.is_below(organisation_id)))
    ):
        overseen = workspace.oversight(need, organisation_id, co_handlers)
    handled = overseen.assignment if overseen is not None else assignment
    pending = workspace.pending_request_kinds(assignment if is_open else None)
    shown = _in_page_order(
        a for a in workspace.available_actions(need, current_user) if a not in pending
    )
    forms: dict[str, FlaskForm] = {
        action: _make_form(action, need, bound=False) for action in shown
    }
    if posted is not None:
        forms[posted[0]] = posted[1]
    errors = errors or {}
    return {
        "need": need,
        # Its own assignment, or (read from above) that of the organisation handling it.
        "assignment": handled,
        "due_at": workspace.due_now(handled) if handled else None,
        "overdue": handled is not None and workspace.is_overdue(handled),
        "proposed": is_open and need.assigned_organisation_id != organisation_id,
        "pending": pending,
        "contact": workspace.contact_email(need, current_user),
        "point": workspace.partner_point(need, current_user),
        "actions": shown,
        "offers": {action: _offer(action) for action in shown},
        "forms": forms,
        "errors": errors,
        # An action that is no longer offered (e.g. a stale page) has no form
        # to show its error next to.
        "panel_errors": [message for action, message in errors.items() if action not in shown],
        "message": message,
        "events": workspace.partner_timeline(need, organisation_id),
        "co_handlers": co_handlers,
        "supporting": supporting,
        "oversight": overseen,
        # The category's answers: for the lead and the organisations above it.
        "reads_answers": lead is not None and lead.is_within(organisation_id),
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


def _act(ref: str, action: str):
    """Parse the offer's form (and its photos), call its service, commit once;
    then the fragment (htmx) or a 303 back to the page. Bad input: 422 (413 for
    a too large photo) and nothing saved; the photos accepted so far wait for
    the corrected form."""
    need = _need_or_404(ref)
    offer = _offer(action)
    form = _make_form(action, need, bound=True)
    valid = form.validate()
    if not valid and offer.form is None:
        abort(400)
    photos = receive_form_photos(form) if offer.photos else None
    input_ok = valid and (photos is None or photos.ok)

    def again(form):
        posted = (action, form) if offer.form is not None else None
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

    def apply():
        told = offer.apply(need, form, photos)
        return str(told or offer.told)

    return submit_form(
        form,
        apply,
        done=done,
        again=again,
        valid=input_ok,
    )


def _move(name: str, text_field: str | None = None):
    """A workflow move's apply: its text from `text_field`, photos on its event."""

    def apply(need, form, photos=None):
        text = form[text_field].data if text_field else ""
        event = workspace.make_move(need, current_user, name, text)
        if photos is not None:
            attach_photos(need, photos, uploader=current_user, event=event)

    return apply


def _update(need, form, photos):
    event = workspace.post_update(need, current_user, form.text.data)
    attach_photos(need, photos, uploader=current_user, event=event)


#: Everything a partner may do from a need's page, in the page's order: each
#: workflow move the workspace describes and the steps that do not move the
#: status. A move of the workflow's table that partners make and that is not
#: described here is offered by `default_offer` (its label, a text field if it
#: needs one); its URL is /partner/needs/<ref>/moves/<move>.
OFFERS: dict[str, Offer] = {
    "accept": Offer(
        _l("You accepted this need. The submitter has been told."),
        _move("accept"),
        _l("Accept this need"),
        tone="primary",
    ),
    "start": Offer(
        _l("Work has started. The submitter has been told."),
        _move("start"),
        _l("Start work"),
        tone="primary",
    ),
    "resolve": Offer(
        _l("Your answer is published; the submitter is asked for feedback."),
        _move("resolve", "text"),
        _l("Publish the answer"),
        summary=_l("Resolve with an answer"),
        form=ResolveForm,
        tone="primary",
        photos=True,
    ),
    "update": Offer(
        _l("Your progress update is published."),
        _update,
        _l("Publish the update"),
        summary=_l("Post a progress update"),
        form=UpdateForm,
        photos=True,
        endpoint="partner.update",
    ),
    "note": Offer(
        _l("Your internal note is saved."),
        lambda need, form, photos: workspace.add_note(need, current_user, form.text.data),
        _l("Save the note"),
        summary=_l("Write an internal note"),
        form=NoteForm,
        endpoint="partner.note",
    ),
    "extension": Offer(
        _l("Your request for more time was sent to the administrators."),
        lambda need, form, photos: workspace.ask_for_more_time(
            need, current_user, form.new_due.data, form.reason.data
        ),
        _l("Send the request"),
        summary=_l("Ask for more time"),
        form=ExtensionForm,
        endpoint="partner.extension",
    ),
    "transfer": Offer(
        _l("Your transfer request was sent to the administrators."),
        lambda need, form, photos: workspace.ask_for_transfer(
            need, current_user, form.organisation.data, form.reason.data
        ),
        _l("Send the request"),
        summary=_l("Ask for a transfer to another partner"),
        form=TransferForm,
        help=_l(
            "An administrator confirms it. Your organisation stays answerable until "
            "the other one accepts."
        ),
        endpoint="partner.transfer",
    ),
    "input": Offer(
        _l("Your input is sent to the lead partner and the administrators."),
        lambda need, form, photos: cohandlers.give_input(need, current_user, form.text.data),
        _l("Send your input"),
        summary=_l("Give your input"),
        form=InputForm,
        tone="primary",
        endpoint="partner.give_input",
    ),
    "ask_input": Offer(
        _l("The supporting partner was asked for its input."),
        lambda need, form, photos: cohandlers.ask_for_input(
            need, form.supporter.data, current_user, form.question.data, form.due_date.data
        ),
        _l("Ask for input"),
        summary=_l("Ask a supporting partner for input"),
        form=AskInputForm,
        endpoint="partner.ask_input",
    ),
    "reassign": Offer(
        _l("The need is reassigned; the organisation you chose has it in its inbox."),
        lambda need, form, photos: workspace.reassign(
            need, current_user, form.organisation.data, form.reason.data
        ),
        _l("Reassign"),
        summary=_l("Reassign within your organisations"),
        form=ReassignForm,
        help=_l(
            "The organisation you choose gets the need with new deadlines and answers it; "
            "the one that had it no longer does."
        ),
    ),
    "decline": Offer(
        _l("You declined this need; it went back to the administrators."),
        _move("decline", "reason"),
        _l("Decline this need"),
        summary=_l("Decline"),
        form=DeclineForm,
        help=_l("The need goes back to the administrators, with your reason in its history."),
    ),
    "decline_transfer": Offer(
        _l("You declined the transfer; the first partner stays answerable."),
        _move("decline_transfer", "reason"),
        _l("Decline the transfer"),
        summary=_l("Decline the transfer"),
        form=DeclineTransferForm,
    ),
}


def _offer(action: str) -> Offer:
    offer = OFFERS.get(action)
    if offer is None and workspace.is_partner_move(action):
        offer = default_offer(
            MOVES[action],
            lambda need, name, text: workspace.make_move(need, current_user, name, text),
        )
    if offer is None:
        abort(404)
    return offer


def _in_page_order(actions) -> list[str]:
    order = {name: i for i, name in enumerate(OFFERS)}
    return sorted(actions, key=lambda a: order.get(a, len(order)))


@accepts_photos
@partner_required
def move(ref: str, move: str):
    """Every workflow move of the workspace, through one view."""
    if not workspace.is_partner_move(move):
        abort(404)
    return _act(ref, move)


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
    return _act(ref, "update")


@bp.post("/needs/<ref>/input")
@partner_required
def give_input(ref: str):
    return _act(ref, "input")


@bp.post("/needs/<ref>/input-requests")
@partner_required
def ask_input(ref: str):
    return _act(ref, "ask_input")


@bp.post("/needs/<ref>/notes")
@partner_required
def note(ref: str):
    return _act(ref, "note")


@bp.post("/needs/<ref>/extension")
@partner_required
def extension(ref: str):
    return _act(ref, "extension")


@bp.post("/needs/<ref>/transfer")
@partner_required
def transfer(ref: str):
    return _act(ref, "transfer")
