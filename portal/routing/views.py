"""/admin/routing: the ordered routing rules."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.areas.forms import chose_next_level
from portal.auth.decorators import admin_required
from portal.categories.services import all_categories
from portal.extensions import db
from portal.forms import require_token, submit_form
from portal.htmx import redirect_after_post, render, render_invalid
from portal.partners.admin_services import all_organisations
from portal.routing import services
from portal.routing.forms import RuleForm

bp = Blueprint("routing", __name__, url_prefix="/admin/routing")

PAGE = "routing/index.html"


def _form(bound: bool) -> RuleForm:
    kwargs = {} if bound else {"formdata": None}
    return RuleForm(categories=all_categories(), organisations=all_organisations(), **kwargs)


def _context(form: RuleForm) -> dict:
    return {"rules": services.rules(), "form": form}


@bp.get("")
@admin_required
def index():
    return render(PAGE, context=_context(_form(bound=False)))


@bp.post("")
@admin_required
def add():
    form = _form(bound=True)
    if chose_next_level():  # without JavaScript: the next level of the area, nothing saved
        form.validate()
        form.organisation.errors = form.category.errors = []
        return render(PAGE, context=_context(form))

    def apply():
        category, area, organisation = form.chosen()
        services.add_rule(category, area, organisation, current_user)
        return _("The rule is added.")

    def done(message):
        flash(message, "success")
        return redirect_after_post(url_for("routing.index"))

    return submit_form(
        form,
        apply,
        done=done,
        again=lambda form: render_invalid(PAGE, context=_context(form)),
    )


def _rule_or_404(rule_id: int):
    rule = services.get_rule(rule_id)
    if rule is None:
        abort(404)
    return rule


@bp.post("/<int:rule_id>/remove")
@admin_required
def remove(rule_id: int):
    require_token()
    rule = _rule_or_404(rule_id)
    services.remove_rule(rule, current_user)
    db.session.commit()
    flash(_("The rule is removed."), "success")
    return redirect_after_post(url_for("routing.index"))


@bp.post("/<int:rule_id>/move")
@admin_required
def move(rule_id: int):
    require_token()
    rule = _rule_or_404(rule_id)
    services.move_rule(rule, request.form.get("direction") == "up", current_user)
    db.session.commit()
    return redirect_after_post(url_for("routing.index"))
