"""What an admin may do on a need, from its queue row or its page: one table
(`OFFERS`) that the templates loop over, the form of each, built with ids of
its own per need, and the triage service each one calls."""

from __future__ import annotations

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.core.moves import Offer, default_offer
from portal.needs.models import Need
from portal.partners import cohandlers
from portal.triage import services
from portal.triage.forms import (
    ActionForm,
    AskInputForm,
    CategoryForm,
    CloseForm,
    DuplicateForm,
    NoteForm,
    RejectForm,
    RouteForm,
    SupportersForm,
    TitleForm,
    TransferForm,
)
from portal.workflow.services import MOVES, ActorRole


def _publish(need, form) -> str:
    partner = services.publish_need(need, current_user)
    if partner is not None:
        return _("Published and sent to %(partner)s.", partner=partner.name)
    return _("Published.")


def _route_notice(partner, due_at) -> str:
    if due_at is None:
        return _("Sent to %(partner)s.", partner=partner.name)
    return _("Sent to %(partner)s, due %(date)s.", partner=partner.name, date=format_date(due_at))


def _route(need, form) -> str:
    due_at = services.check_due_date(form.due_date.data)
    partner = form.chosen()
    services.route_need(
        need,
        current_user,
        partner,
        due_at=due_at,
        note=form.note.data or "",
        supporters=form.chosen_supporters() if "supporters" in form else [],
    )
    return _route_notice(partner, due_at)


def _transfer(need, form) -> str:
    due_at = services.check_due_date(form.due_date.data)
    partner = form.chosen()
    services.transfer_need(need, current_user, partner, reason=form.note.data, due_at=due_at)
    return _route_notice(partner, due_at)


def _merge(need, form) -> str:
    kept = services.need_by_ref(form.duplicate_of.data)
    services.merge_duplicate(need, kept, current_user)
    return _("Merged into %(ref)s.", ref=kept.ref)


def _reject(need, form) -> None:
    services.reject_need(need, current_user, form.reason.data)


def _close(need, form) -> None:
    services.close_unresolved(need, current_user, form.reason.data)


def _category(need, form) -> None:
    services.change_category(need, current_user, form.chosen())


def _title(need, form) -> None:
    services.correct_title(need, current_user, form.title.data)


def _note(need, form) -> None:
    services.add_note(need, current_user, form.text.data)


def _add_supporters(need, form) -> None:
    cohandlers.add_co_handlers(need, form.chosen_supporters(), current_user)


def _ask_input(need, form) -> None:
    cohandlers.ask_for_input(
        need, form.supporter.data, current_user, form.question.data, form.due_date.data
    )


#: Everything an admin may do on a need, in the page's order. The keys that are
#: workflow moves post to /admin/needs/<ref>/moves/<move> (their established
#: URLs); the others to their `endpoint`. `short` is the summary in a queue row.
OFFERS: dict[str, Offer] = {
    "publish": Offer(_l("Published."), _publish, _l("Publish"), form=ActionForm, tone="primary"),
    "route": Offer(
        _l("Sent."),
        _route,
        _l("Send to the partner"),
        summary=_l("Send to a partner"),
        form=RouteForm,
        tone="primary",
    ),
    "transfer": Offer(
        _l("Sent."),
        _transfer,
        _l("Send to another partner"),
        summary=_l("Send to another partner"),
        form=TransferForm,
        help=_l("The current partner stays answerable until the new one accepts."),
        tone="primary",
    ),
    "category": Offer(
        _l("Category changed."),
        _category,
        _l("Change the category"),
        summary=_l("Change the category"),
        form=CategoryForm,
        endpoint="triage.category",
    ),
    "title": Offer(
        _l("Title corrected."),
        _title,
        _l("Save the title"),
        summary=_l("Correct the title"),
        form=TitleForm,
        endpoint="triage.title",
    ),
    "mark_duplicate": Offer(
        _l("Merged."),
        _merge,
        _l("Merge into that need"),
        summary=_l("Mark as a duplicate"),
        form=DuplicateForm,
    ),
    "reject": Offer(
        _l("Rejected. The submitter sees the reason."),
        _reject,
        _l("Reject the need"),
        summary=_l("Reject"),
        form=RejectForm,
        tone="danger",
    ),
    "close_unresolved": Offer(
        _l("Closed without resolution."),
        _close,
        _l("Close the need"),
        summary=_l("Close without resolution"),
        form=CloseForm,
        tone="danger",
    ),
    "add_supporters": Offer(
        _l("The supporting partners were added."),
        _add_supporters,
        _l("Add them"),
        summary=_l("Add supporting partners"),
        form=SupportersForm,
        endpoint="triage.add_supporters",
    ),
    "ask_input": Offer(
        _l("The supporting partner was asked for its input."),
        _ask_input,
        _l("Ask for input"),
        summary=_l("Ask a supporting partner for input"),
        form=AskInputForm,
        endpoint="triage.ask_input",
    ),
    "note": Offer(
        _l("Internal note added."),
        _note,
        _l("Add the note"),
        summary=_l("Add an internal note"),
        form=NoteForm,
        endpoint="triage.note",
    ),
}

#: What a queue row offers (the rest is on the need's page), and its shorter summaries.
ROW_OFFERS = ("publish", "route", "category", "title", "reject", "mark_duplicate")
ROW_SUMMARIES = {
    "route": _l("Route"),
    "category": _l("Category"),
    "title": _l("Title"),
    "mark_duplicate": _l("Duplicate"),
}


def is_admin_move(name: str) -> bool:
    move = MOVES.get(name)
    return move is not None and ActorRole.ADMIN in move.roles and name != "submit"


def offer(name: str) -> Offer | None:
    found = OFFERS.get(name)
    if found is None and is_admin_move(name):
        found = default_offer(
            MOVES[name], lambda need, move, text: services.make_move(need, current_user, move, text)
        )
    return found


def offered(need: Need, moves: list[str], origin: str, co_handlers=()) -> list[str]:
    """What the row or the page offers now, in the page's order: the allowed
    moves (publishing also offers routing at once), the corrections while the
    need is editable, the supporting partners while it is with the partners,
    and the internal note."""
    names = set(moves)
    if "publish" in names:
        names.add("route")
    if need.status.is_editable:
        names |= {"category", "title"}
    if need.status.is_with_partner:
        names.add("add_supporters")
        if co_handlers:
            names.add("ask_input")
    names.add("note")
    if origin == "row":
        names &= set(ROW_OFFERS)
    order = {name: i for i, name in enumerate(OFFERS)}
    return sorted(names, key=lambda n: order.get(n, len(order)))


def build_form(
    need: Need, name: str, origin: str, next_url: str, *, bound: bool, page: dict
) -> FlaskForm:
    """The offer's form for one need: bound to the post, or empty with the
    need's defaults. Every field's id names the row or page, the need and the
    action, so that one page holds the forms of fifty rows."""
    found = offer(name)
    kwargs: dict = {} if bound else {"formdata": None}
    if name in ("route", "transfer"):
        kwargs["organisations"] = page["organisations"]
        kwargs["suggested"] = page.get("suggestions", {}).get(need.id) if name == "route" else None
    elif name == "add_supporters":
        kwargs["organisations"] = page["organisations"]
    elif name == "ask_input":
        kwargs["co_handlers"] = page["co_handlers"]
    elif name == "category":
        kwargs["categories"] = page["categories"]
    form = found.form(**kwargs)
    if origin == "row" and "supporters" in form:
        del form["supporters"]  # named on the need's page, not in a queue row
    for field in form:
        if field.type != "CSRFTokenField":
            field.id = f"{origin}-{need.id}-{name}-{field.name}"
    if not bound:
        if "origin" in form:
            form.origin.data = origin
            form.next.data = next_url
        _defaults(need, name, form, page)
    if name == "mark_duplicate":
        form.duplicate_of.render_kw = {
            **form.duplicate_of.render_kw,
            "hx-get": url_for("triage.duplicates", ref=need.ref, origin=origin),
            "hx-trigger": "input changed delay:300ms, focus once",
            "hx-target": f"#{form.duplicate_of.id}-suggestions",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
            "aria-controls": f"{form.duplicate_of.id}-suggestions",
        }
    return form


def _defaults(need: Need, name: str, form: FlaskForm, page: dict) -> None:
    if name in ("route", "transfer"):
        if name == "route" and form.suggested is not None:
            form.organisation.data = form.suggested.id
        form.due_date.data = page["due_defaults"].get(need.category.resolution_sla_days)
    elif name == "category":
        form.category.data = need.category_id
    elif name == "title":
        form.title.data = need.title
