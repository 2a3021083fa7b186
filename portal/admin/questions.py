"""Extra questions of a category (Open311 service attributes): /admin/categories/<id>/questions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.admin.question_forms import QuestionForm
from portal.admin.services import get_category
from portal.auth.decorators import admin_required
from portal.core.params import arg_int
from portal.extensions import db
from portal.forms import EmptyForm, require_token
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.open311 import questions as services
from portal.open311.models import CategoryQuestion, QuestionKind

bp = Blueprint("questions", __name__, url_prefix="/admin/categories/<int:category_id>/questions")

PAGE = "admin/questions.html"
FRAGMENT = "admin/_questions.html"
#: The edit form sits on the page beside the new-question form: its own field ids.
EDIT_PREFIX = "edit"

# Admins and the assigned partner see a need's answers: templates call need_answers(need).
bp.add_app_template_global(services.answers_for, "need_answers")


def _category_or_404(category_id: int):
    category = get_category(category_id)
    if category is None:
        abort(404)
    return category


def _question_or_404(category, question_id: int) -> CategoryQuestion:
    question = services.get_question(category, question_id)
    if question is None:
        abort(404)
    return question


def _edit_form(question: CategoryQuestion) -> QuestionForm:
    data = {
        "prompt_zh": question.prompt_zh,
        "prompt_en": question.prompt_en,
        "help_zh": question.help_zh,
        "help_en": question.help_en,
        "required": question.required,
        "choices": services.format_choices(question.choices),
    }
    return QuestionForm(
        formdata=None, data=data, editing=True, fixed_kind=question.kind, prefix=EDIT_PREFIX
    )


def _context(category, **overrides) -> dict:
    questions = services.category_questions(category)
    edit_id = overrides.pop("edit_id", None)
    edit_form = overrides.pop("edit_form", None)
    if edit_id is not None and edit_form is None:
        question = next((q for q in questions if q.id == edit_id), None)
        edit_form = _edit_form(question) if question is not None else None
        edit_id = question.id if question is not None else None
    context = {
        "category": category,
        "questions": questions,
        "new_form": QuestionForm(formdata=None, data={"kind": QuestionKind.TEXT.value}),
        "edit_id": edit_id,
        "edit_form": edit_form,
        "button_form": EmptyForm(formdata=None),
        "notice": None,
        "kinds": list(QuestionKind),
    }
    context.update(overrides)
    return context


def _done(category, message: str):
    """htmx swaps the fresh section in place; a plain request goes back to the page."""
    if is_fragment_request():
        return render(FRAGMENT, context=_context(category, notice=message))
    flash(message, "success")
    return redirect_after_post(url_for("questions.index", category_id=category.id))


@bp.get("")
@admin_required
def index(category_id: int):
    category = _category_or_404(category_id)
    return render(PAGE, FRAGMENT, context=_context(category, edit_id=arg_int("edit")))


@bp.post("")
@admin_required
def create(category_id: int):
    category = _category_or_404(category_id)
    form = QuestionForm()
    if not form.validate():
        return render_invalid(PAGE, FRAGMENT, context=_context(category, new_form=form))
    try:
        question = services.create_question(
            category, form.code.data, form.chosen_kind, form.values(), current_user
        )
        db.session.commit()
    except (services.QuestionError, IntegrityError) as error:
        db.session.rollback()
        if isinstance(error, IntegrityError):
            error = services.QuestionError(
                _("Another question of this category already uses this code."), "code"
            )
        field = getattr(form, error.field or "code")
        field.errors = [*field.errors, str(error)]
        return render_invalid(PAGE, FRAGMENT, context=_context(category, new_form=form))
    return _done(category, _("The question “%(code)s” is added.", code=question.code))


@bp.post("/<int:question_id>")
@admin_required
def update(category_id: int, question_id: int):
    category = _category_or_404(category_id)
    question = _question_or_404(category, question_id)
    form = QuestionForm(editing=True, fixed_kind=question.kind, prefix=EDIT_PREFIX)
    if not form.validate():
        return render_invalid(
            PAGE, FRAGMENT, context=_context(category, edit_id=question.id, edit_form=form)
        )
    try:
        changed = services.update_question(question, form.values(), current_user)
    except services.QuestionError as error:
        db.session.rollback()
        field = getattr(form, error.field or "prompt_zh")
        field.errors = [*field.errors, str(error)]
        return render_invalid(
            PAGE, FRAGMENT, context=_context(category, edit_id=question.id, edit_form=form)
        )
    db.session.commit()
    return _done(category, _("The question is saved.") if changed else _("Nothing changed."))


@bp.post("/<int:question_id>/active")
@admin_required
def set_active(category_id: int, question_id: int):
    category = _category_or_404(category_id)
    question = _question_or_404(category, question_id)
    require_token()
    active = request.form.get("active") == "1"
    services.set_question_active(question, active, current_user)
    db.session.commit()
    if active:
        return _done(category, _("The question “%(code)s” is asked again.", code=question.code))
    return _done(category, _("The question “%(code)s” is no longer asked.", code=question.code))


@bp.post("/<int:question_id>/move")
@admin_required
def move(category_id: int, question_id: int):
    category = _category_or_404(category_id)
    question = _question_or_404(category, question_id)
    require_token()
    moved = services.move_question(question, request.form.get("direction") == "up", current_user)
    db.session.commit()
    return _done(category, _("The order is saved.") if moved else _("Nothing changed."))
