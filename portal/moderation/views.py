"""/admin/moderation/words: the sensitive-term list (add, remove, import)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.auth.decorators import admin_required
from portal.extensions import db
from portal.forms import EmptyForm
from portal.htmx import redirect_after_post, render, render_invalid
from portal.moderation import services
from portal.moderation.forms import ImportForm, TermForm
from portal.moderation.models import SensitiveTerm
from portal.moderation.services import IMPORT_MAX_BYTES, ModerationError

bp = Blueprint("moderation", __name__, url_prefix="/admin/moderation")


def _context(term_form=None, import_form=None) -> dict:
    q = " ".join(request.args.get("q", "").split())[:100]
    return {
        "page": services.terms_page(q, services.bounded_page(request.args.get("page"))),
        "q": q,
        "term_form": term_form or TermForm(formdata=None),
        "import_form": import_form or ImportForm(formdata=None),
        "max_kb": IMPORT_MAX_BYTES // 1024,
    }


def _refused(form, field: str, error: str):
    db.session.rollback()
    getattr(form, field).errors = [*getattr(form, field).errors, error]
    forms = {"term_form": form} if field == "term" else {"import_form": form}
    return render_invalid("moderation/words.html", context=_context(**forms))


@bp.get("/words")
@admin_required
def words():
    return render("moderation/words.html", context=_context())


@bp.post("/words")
@admin_required
def add_word():
    form = TermForm()
    if not form.validate():
        return render_invalid("moderation/words.html", context=_context(term_form=form))
    try:
        row = services.add_term(form.term.data, current_user)
    except ModerationError as error:
        return _refused(form, "term", str(error))
    db.session.commit()
    flash(
        _("“%(term)s” is on the list: texts with it wait for a moderator.", term=row.term),
        "success",
    )
    return redirect_after_post(url_for("moderation.words"))


@bp.post("/words/<int:term_id>/remove")
@admin_required
def remove_word(term_id: int):
    row = db.session.get(SensitiveTerm, term_id)
    if row is None:
        abort(404)
    if not EmptyForm().validate():
        abort(400)
    term = row.term
    services.remove_term(row, current_user)
    db.session.commit()
    flash(_("“%(term)s” is removed from the list.", term=term), "success")
    return redirect_after_post(url_for("moderation.words"))


@bp.post("/words/import")
@admin_required
def import_words():
    form = ImportForm()
    if not form.validate():
        return render_invalid("moderation/words.html", context=_context(import_form=form))
    upload = form.file.data
    data = upload.stream.read(IMPORT_MAX_BYTES + 1)
    try:
        result = services.import_terms(data, current_user, upload.filename or "")
    except ModerationError as error:
        return _refused(form, "file", str(error))
    db.session.commit()
    flash(
        ngettext("%(num)d term added.", "%(num)d terms added.", result.added)
        + " "
        + ngettext(
            "%(num)d line was already on the list or repeated.",
            "%(num)d lines were already on the list or repeated.",
            result.already,
        ),
        "success",
    )
    return redirect_after_post(url_for("moderation.words"))
