"""/admin/api-keys: issue, name, rate-limit and revoke Open311 API keys."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.decorators import admin_required
from portal.extensions import db
from portal.forms import EmptyForm
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.open311 import apikeys
from portal.open311.forms import ApiKeyIssueForm

bp = Blueprint("apikeys", __name__, url_prefix="/admin/api-keys")


def _no_store(response):
    """Pages that may hold a raw key (or follow one in history) are never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _fresh_form() -> ApiKeyIssueForm:
    form = ApiKeyIssueForm(formdata=None)
    form.idempotency_key.data = secrets.token_hex(16)
    return form


def _already_issued(api_key):
    """A second submit of the same form: the key exists and its value was shown once."""
    flash(
        _(
            "This form was already sent: the key “%(name)s” (%(prefix)s…) was issued then, "
            "and its value was shown once.",
            name=api_key.name,
            prefix=api_key.prefix,
        ),
        "info",
    )
    return _no_store(redirect_after_post(url_for("apikeys.index")))


def _context(**overrides) -> dict:
    context = {
        "keys": apikeys.all_keys(),
        "form": _fresh_form(),
        "button_form": EmptyForm(formdata=None),
        "new_key": None,
        "raw_key": None,
    }
    context.update(overrides)
    return context


@bp.get("")
@admin_required
def index():
    return _no_store(render("open311/api_keys.html", "open311/_api_keys.html", context=_context()))


@bp.post("")
@admin_required
def issue():
    form = ApiKeyIssueForm()
    if not form.validate():
        return _no_store(
            render_invalid(
                "open311/api_keys.html", "open311/_api_keys.html", context=_context(form=form)
            )
        )
    earlier = apikeys.key_issued_by_form(form.idempotency_key.data)
    if earlier is not None:
        return _already_issued(earlier)
    try:
        api_key, raw_key = apikeys.issue_key(
            form.name.data, form.rate_limit.data, current_user, form.idempotency_key.data
        )
        db.session.commit()
    except IntegrityError:  # the same form, sent twice at the same moment
        db.session.rollback()
        return _already_issued(apikeys.key_issued_by_form(form.idempotency_key.data))
    except apikeys.ApiKeyError as error:
        getattr(form, error.field or "name").errors = [str(error)]
        return _no_store(
            render_invalid(
                "open311/api_keys.html", "open311/_api_keys.html", context=_context(form=form)
            )
        )
    # Shown in this response only: never redirected to, flashed or stored.
    return _no_store(
        render(
            "open311/api_keys.html",
            "open311/_api_keys.html",
            context=_context(new_key=api_key, raw_key=raw_key),
        )
    )


@bp.post("/<int:key_id>/revoke")
@admin_required
def revoke(key_id: int):
    api_key = apikeys.get_key(key_id)
    if api_key is None:
        abort(404)
    if not EmptyForm().validate():
        abort(400)
    if request.form.get("confirm") != "yes":
        # Without JavaScript (no confirm dialog) the admin confirms on a page of its own.
        return _no_store(
            render(
                "open311/api_key_revoke.html",
                context={"api_key": api_key, "button_form": EmptyForm()},
            )
        )
    changed = apikeys.revoke_key(api_key, current_user)
    db.session.commit()
    message = (
        _("The key “%(name)s” is revoked.", name=api_key.name)
        if changed
        else _("This key was already revoked.")
    )
    if is_fragment_request():
        return render(
            "open311/_api_key_row.html",
            context={
                "api_key": api_key,
                "button_form": EmptyForm(formdata=None),
                "notice": message,
            },
        )
    flash(message, "success")
    return redirect_after_post(url_for("apikeys.index"))
