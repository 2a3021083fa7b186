"""The extra questions a category asks (Open311 service attributes): asking
them, checking the answers, storing them, and managing them as an admin.

The web form, the staff intake and the Open311 API all check answers with
`validate_answers`, so the three channels accept exactly the same input."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.categories.models import Category, CategoryQuestion, NeedAnswer, QuestionKind
from portal.domain import DomainError
from portal.extensions import db
from portal.needs.models import Need
from portal.partners.models import pick_language

CODE = re.compile(r"^[a-z0-9_]{1,40}$")
TEXT_MAX = 1000
NUMBER_MAX = 40
CHOICES_MAX = 50
LIST_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
#: A category asks a handful of questions; the admin list is still bounded.
QUESTIONS_MAX = 200


class QuestionError(DomainError):
    """A rule of the category questions refused the change."""


# --- asking and answering -----------------------------------------------------------


def active_questions(category_ids: list[int]) -> dict[int, list[CategoryQuestion]]:
    """The active questions of these categories, by category, in their order (one query)."""
    ids = sorted({int(i) for i in category_ids if i})
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(CategoryQuestion)
        .where(CategoryQuestion.category_id.in_(ids), CategoryQuestion.is_active.is_(True))
        .order_by(CategoryQuestion.category_id, CategoryQuestion.position, CategoryQuestion.id)
    )
    grouped: dict[int, list[CategoryQuestion]] = {}
    for question in rows:
        grouped.setdefault(question.category_id, []).append(question)
    return grouped


def choice_keys(question: CategoryQuestion) -> list[str]:
    return [str(choice.get("key", "")) for choice in question.choices or []]


def choice_name(question: CategoryQuestion, key: str) -> str:
    """A choice's name in the reader's language (the key if the choice is gone)."""
    for choice in question.choices or []:
        if choice.get("key") == key:
            return pick_language(choice.get("name_zh", ""), choice.get("name_en", "")) or key
    return key


def _is_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and len(value) <= NUMBER_MAX


def _answer_error(question: CategoryQuestion, values: list[str]) -> str | None:
    if not values:
        return _("Please answer this question.") if question.required else None
    if question.kind != QuestionKind.MULTIPLE and len(values) > 1:
        return _("Please give one answer only.")
    if question.kind == QuestionKind.TEXT and len(values[0]) > TEXT_MAX:
        return _("At most %(max)d characters, please.", max=TEXT_MAX)
    if question.kind == QuestionKind.NUMBER and not _is_number(values[0]):
        return _("Please give a number.")
    if question.kind in LIST_KINDS:
        keys = choice_keys(question)
        if any(value not in keys for value in values):
            return _("Please pick one of the offered answers.")
    return None


def validate_answers(
    questions: list[CategoryQuestion], raw: dict[str, list[str]]
) -> tuple[dict[int, list[str]], dict[str, str]]:
    """Check the raw values (by question code) against the questions. Returns
    the answers by question id and the translated errors by question code;
    values of codes not asked are ignored."""
    answers: dict[int, list[str]] = {}
    errors: dict[str, str] = {}
    for question in questions:
        values = []
        for value in raw.get(question.code) or []:
            value = (value or "").replace("\r\n", "\n").replace("\x00", "").strip()
            if value and value not in values:
                values.append(value)
        error = _answer_error(question, values)
        if error:
            errors[question.code] = error
        elif values:
            answers[question.id] = values
    return answers, errors


def save_answers(need: Need, answers: dict[int, list[str]]) -> None:
    """One row per value, in the caller's transaction (with the need itself)."""
    db.session.add_all(
        NeedAnswer(need_id=need.id, question_id=question_id, value=value)
        for question_id, values in answers.items()
        for value in values
    )
    db.session.flush()


def answers_for(need: Need) -> list[tuple[CategoryQuestion, list[str]]]:
    """The answers of a need, question by question, choices named in the reader's
    language. For admins and the assigned partner: never on a public page."""
    rows = db.session.execute(
        sa.select(CategoryQuestion, NeedAnswer.value)
        .join(NeedAnswer, NeedAnswer.question_id == CategoryQuestion.id)
        .where(NeedAnswer.need_id == need.id)
        .order_by(CategoryQuestion.position, CategoryQuestion.id, NeedAnswer.id)
    )
    grouped: dict[int, tuple[CategoryQuestion, list[str]]] = {}
    for question, value in rows:
        shown = choice_name(question, value) if question.kind in LIST_KINDS else value
        grouped.setdefault(question.id, (question, []))[1].append(shown)
    return list(grouped.values())


def raw_answers(form, questions: list[CategoryQuestion]) -> dict[str, list[str]]:
    """The values a web form posted for these questions (`attribute[code]`, as in Open311)."""
    return {q.code: form.getlist(f"attribute[{q.code}]") for q in questions}


@dataclass
class AskedQuestions:
    """The questions a web form asks for its chosen category, with what was typed.
    `switched` is set when the category changed since the questions were shown
    (without JavaScript): the person must see and answer the new ones first."""

    category_id: int
    questions: list[CategoryQuestion]
    values: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    answers: dict[int, list[str]] = field(default_factory=dict)
    switched: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.switched


def ask_questions(category_id: int | None, formdata=None, *, check: bool = True) -> AskedQuestions:
    """The questions of the chosen category; with `formdata` (a POST), the posted
    answers checked. The form says in `questions_for` which category its
    questions belonged to."""
    category_id = category_id or 0
    questions = active_questions([category_id]).get(category_id, []) if category_id else []
    asked = AskedQuestions(category_id, questions)
    if formdata is None:
        return asked
    asked.values = raw_answers(formdata, questions)
    if not check:
        return asked
    if questions and formdata.get("questions_for") != str(category_id):
        asked.switched = True
        return asked
    asked.answers, asked.errors = validate_answers(questions, asked.values)
    return asked


# --- managing the questions (admins) ------------------------------------------------


def parse_choices(text: str) -> list[dict]:
    """Lines of `key | 中文名 | English name` as stored choices; QuestionError if wrong."""
    choices: list[dict] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > 3:
            raise QuestionError(
                _("Line %(n)d: write “key | 中文名 | English name”.", n=number), "choices"
            )
        key, name_zh, name_en = (parts + ["", ""])[:3]
        if not CODE.match(key):
            raise QuestionError(
                _(
                    "Line %(n)d: the key may use lower-case letters, digits and _ (at most 40).",
                    n=number,
                ),
                "choices",
            )
        if not (name_zh or name_en):
            raise QuestionError(_("Line %(n)d: please give a name.", n=number), "choices")
        if len(name_zh) > 100 or len(name_en) > 100:
            raise QuestionError(
                _("Line %(n)d: names have at most 100 characters.", n=number), "choices"
            )
        if any(choice["key"] == key for choice in choices):
            raise QuestionError(
                _("Line %(n)d: the key “%(key)s” is used twice.", n=number, key=key), "choices"
            )
        choices.append({"key": key, "name_zh": name_zh, "name_en": name_en})
    if len(choices) > CHOICES_MAX:
        raise QuestionError(_("At most %(max)d answers, please.", max=CHOICES_MAX), "choices")
    return choices


def format_choices(choices: list[dict]) -> str:
    return "\n".join(
        " | ".join([c.get("key", ""), c.get("name_zh", ""), c.get("name_en", "")]).rstrip(" |")
        for c in choices or []
    )


def category_questions(category: Category) -> list[CategoryQuestion]:
    """Every question of a category, active or not, in order (one query)."""
    return list(
        db.session.scalars(
            sa.select(CategoryQuestion)
            .where(CategoryQuestion.category_id == category.id)
            .order_by(CategoryQuestion.position, CategoryQuestion.id)
            .limit(QUESTIONS_MAX)
        )
    )


def get_question(category: Category, question_id: int) -> CategoryQuestion | None:
    question = db.session.get(CategoryQuestion, question_id)
    if question is None or question.category_id != category.id:
        return None
    return question


def _check_values(kind: QuestionKind, values: dict) -> dict:
    values = dict(values)
    if kind in LIST_KINDS:
        if not values.get("choices"):
            raise QuestionError(_("Please give the possible answers, one per line."), "choices")
    else:
        values["choices"] = []
    return values


def _audit_values(question: CategoryQuestion) -> dict:
    return {
        "category_id": question.category_id,
        "code": question.code,
        "kind": question.kind.value,
        "prompt_zh": question.prompt_zh,
        "prompt_en": question.prompt_en,
        "required": question.required,
        "choices": format_choices(question.choices),
        "position": question.position,
        "is_active": question.is_active,
    }


def create_question(
    category: Category, code: str, kind: QuestionKind, values: dict, admin
) -> CategoryQuestion:
    """Add a question at the end. A code already used in the category is refused
    by the database's unique constraint (the caller turns it into a message)."""
    if not CODE.match(code or ""):
        raise QuestionError(_("Only lower-case letters, digits and _ please (at most 40)."), "code")
    values = _check_values(kind, values)
    last = db.session.scalar(
        sa.select(sa.func.max(CategoryQuestion.position)).where(
            CategoryQuestion.category_id == category.id
        )
    )
    question = CategoryQuestion(
        category_id=category.id,
        code=code,
        kind=kind,
        position=(last + 1) if last is not None else 0,
        is_active=True,
        **values,
    )
    db.session.add(question)
    db.session.flush()
    record(admin, "category_question.create", question, after=_audit_values(question))
    return question


def update_question(question: CategoryQuestion, values: dict, admin) -> bool:
    """Change the wording, help, required flag and choices. The code and the kind
    stay as created: answers and API clients rely on them."""
    values = _check_values(question.kind, values)
    before = _audit_values(question)
    for key, value in values.items():
        setattr(question, key, value)
    after = _audit_values(question)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return False
    db.session.flush()
    record(
        admin,
        "category_question.update",
        question,
        before={k: before[k] for k in changed},
        after=changed,
    )
    return True


def set_question_active(question: CategoryQuestion, active: bool, admin) -> bool:
    if question.is_active == active:
        return False
    question.is_active = active
    db.session.flush()
    record(
        admin,
        "category_question.activate" if active else "category_question.deactivate",
        question,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return True


def move_question(question: CategoryQuestion, up: bool, admin) -> bool:
    """Swap with the neighbour above or below; positions are renumbered 0…n-1 so
    ties left by older data cannot block a move."""
    siblings = list(
        db.session.scalars(
            sa.select(CategoryQuestion)
            .where(CategoryQuestion.category_id == question.category_id)
            .order_by(CategoryQuestion.position, CategoryQuestion.id)
            .with_for_update()
        )
    )
    index = next(i for i, q in enumerate(siblings) if q.id == question.id)
    target = index - 1 if up else index + 1
    if not 0 <= target < len(siblings):
        return False
    before = question.position
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
    db.session.flush()
    record(
        admin,
        "category_question.move",
        question,
        before={"position": before},
        after={"position": question.position},
    )
    return True
