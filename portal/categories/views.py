"""The admin pages of the categories (/admin/categories) and of their extra
questions, the Open311 service attributes (/admin/categories/<id>/questions)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.decorators import admin_required
from portal.categories import questions
from portal.categories.forms import CategoryForm, QuestionForm
from portal.categories.models import Category, CategoryQuestion, QuestionKind
from portal.categories.services import (
    CategoryError,
    all_categories,
    create_category,
    get_category,
    update_category,
)
from portal.core.params import arg_int
from portal.extensions import db
from portal.forms import EmptyForm, require_token, show_domain_error
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.partners.admin_services import all_organisations

bp = Blueprint("categories", __name__, url_prefix="/admin/categories")

# Admins and the assigned partner see a need's answers: templates call need_answers(need).
bp.add_app_template_global(questions.answers_for, "need_answers")


def _category_or_404(category_id: int) -> Category:
    category = get_category(category_id)
    if category is None:
        abort(404)
    return category


# --- categories ------------------------------------------------------------------


@bp.get("")
@admin_required
def index():
    return render("categories/index.html", context={"categories": all_categories()})


def _category_values(form: CategoryForm) -> dict:
    return {
        "code": form.code.data,
        "name_zh": form.name_zh.data,
        "name_en": form.name_en.data or "",
        "description_zh": form.description_zh.data or "",
        "description_en": form.description_en.data or "",
        "response_sla_days": form.response_sla_days.data,
        "resolution_sla_days": form.resolution_sla_days.data,
        "default_partner_id": form.default_partner.data or None,
        "is_active": bool(form.is_active.data),
        "position": form.position.data,
    }


def _category_form_data(category: Category) -> dict:
    return {
        "code": category.code,
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "description_zh": category.description_zh,
        "description_en": category.description_en,
        "response_sla_days": category.response_sla_days,
        "resolution_sla_days": category.resolution_sla_days,
        "default_partner": category.default_partner_id or 0,
        "is_active": category.is_active,
        "position": category.position,
    }


def _save_category(category: Category | None, form: CategoryForm):
    """Validate and save; the form again when the input is refused, else back to the list."""

    def invalid():
        return render_invalid(
            "categories/category_form.html",
            "categories/_category_form.html",
            context={"form": form, "category": category},
        )

    if not form.validate():
        return invalid()
    try:
        if category is None:
            category = create_category(_category_values(form), current_user)
            message = _("The category “%(name)s” is created.", name=category.name)
        elif update_category(category, _category_values(form), current_user):
            message = _("The category is saved.")
        else:
            message = _("Nothing changed.")
        db.session.commit()
    except (CategoryError, IntegrityError) as error:
        db.session.rollback()
        if not isinstance(error, CategoryError):
            error = CategoryError(_("Another category already uses this code."), "code")
        show_domain_error(form, error)
        return invalid()
    flash(message, "success")
    return redirect_after_post(url_for("categories.index"))


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = CategoryForm(partners=all_organisations())
    if request.method == "POST":
        return _save_category(None, form)
    return render("categories/category_form.html", context={"form": form, "category": None})


@bp.route("/<int:category_id>", methods=["GET", "POST"])
@admin_required
def edit(category_id: int):
    category = _category_or_404(category_id)
    partners = all_organisations()
    if request.method == "POST":
        return _save_category(category, CategoryForm(partners=partners))
    form = CategoryForm(formdata=None, data=_category_form_data(category), partners=partners)
    return render("categories/category_form.html", context={"form": form, "category": category})


# --- the extra questions of a category ---------------------------------------------

QUESTIONS_PAGE = "categories/questions.html"
QUESTIONS_FRAGMENT = "categories/_questions.html"
#: The edit form sits on the page beside the new-question form: its own field ids.
EDIT_PREFIX = "edit"


def _question_or_404(category: Category, question_id: int) -> CategoryQuestion:
    question = questions.get_question(category, question_id)
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
        "choices": questions.format_choices(question.choices),
    }
    return QuestionForm(
        formdata=None, data=data, editing=True, fixed_kind=question.kind, prefix=EDIT_PREFIX
    )


def _questions_context(category: Category, **overrides) -> dict:
    asked = questions.category_questions(category)
    edit_id = overrides.pop("edit_id", None)
    edit_form = overrides.pop("edit_form", None)
    if edit_id is not None and edit_form is None:
        question = next((q for q in asked if q.id == edit_id), None)
        edit_form = _edit_form(question) if question is not None else None
        edit_id = question.id if question is not None else None
    context = {
        "category": category,
        "questions": asked,
        "new_form": QuestionForm(formdata=None, data={"kind": QuestionKind.TEXT.value}),
        "edit_id": edit_id,
        "edit_form": edit_form,
        "button_form": EmptyForm(formdata=None),
        "notice": None,
        "kinds": list(QuestionKind),
    }
    context.update(overrides)
    return context


def _questions_invalid(category: Category, **overrides):
    return render_invalid(
        QUESTIONS_PAGE, QUESTIONS_FRAGMENT, context=_questions_context(category, **overrides)
    )


def _questions_saved(category: Category, message: str):
    """htmx swaps the fresh section in place; a plain request goes back to the page."""
    if is_fragment_request():
        return render(QUESTIONS_FRAGMENT, context=_questions_context(category, notice=message))
    flash(message, "success")
    return redirect_after_post(url_for("categories.questions", category_id=category.id))


@bp.get("/<int:category_id>/questions", endpoint="questions")
@admin_required
def questions_page(category_id: int):
    category = _category_or_404(category_id)
    return render(
        QUESTIONS_PAGE,
        QUESTIONS_FRAGMENT,
        context=_questions_context(category, edit_id=arg_int("edit")),
    )


@bp.post("/<int:category_id>/questions")
@admin_required
def create_question(category_id: int):
    category = _category_or_404(category_id)
    form = QuestionForm()
    if not form.validate():
        return _questions_invalid(category, new_form=form)
    try:
        question = questions.create_question(
            category, form.code.data, form.chosen_kind, form.values(), current_user
        )
        db.session.commit()
    except (questions.QuestionError, IntegrityError) as error:
        db.session.rollback()
        if isinstance(error, IntegrityError):
            error = questions.QuestionError(
                _("Another question of this category already uses this code."), "code"
            )
        field = getattr(form, error.field or "code")
        field.errors = [*field.errors, str(error)]
        return _questions_invalid(category, new_form=form)
    return _questions_saved(category, _("The question “%(code)s” is added.", code=question.code))


@bp.post("/<int:category_id>/questions/<int:question_id>")
@admin_required
def update_question(category_id: int, question_id: int):
    category = _category_or_404(category_id)
    question = _question_or_404(category, question_id)
    form = QuestionForm(editing=True, fixed_kind=question.kind, prefix=EDIT_PREFIX)
    if not form.validate():
        return _questions_invalid(category, edit_id=question.id, edit_form=form)
    try:
        changed = questions.update_question(question, form.values(), current_user)
    except questions.QuestionError as error:
        db.session.rollback()
        field = getattr(form, error.field or "prompt_zh")
        field.errors = [*field.errors, str(error)]
        return _questions_invalid(category, edit_id=question.id, edit_form=form)
    db.session.commit()
    message = _("The question is saved.") if changed else _("Nothing changed.")
    return _questions_saved(category, message)


@bp.post("/<int:category_id>/questions/<int:question_id>/active")
@admin_required
def set_question_active(category_id: int, question_id: int):
    category = _category_or_404(category_id)
    question = _question_or_404(category, question_id)
    require_token()
    active = request.form.get("active") == "1"
    questions.set_question_active(question, active, current_user)
    db.session.commit()
    if active:
        message = _("The question “%(code)s” is asked again.", code=question.code)
    else:
        message = _("The question “%(code)s” is no longer asked.", code=question.code)
    return _questions_saved(category, message)


@bp.post("/<int:category_id>/questions/<int:question_id>/move")
@admin_required
def move_question(category_id: int, question_id: int):
    category = _category_or_404(category_id)
    question = _question_or_404(category, question_id)
    require_token()
    moved = questions.move_question(question, request.form.get("direction") == "up", current_user)
    db.session.commit()
    return _questions_saved(category, _("The order is saved.") if moved else _("Nothing changed."))
