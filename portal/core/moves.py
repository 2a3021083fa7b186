"""What the workspaces share to offer the workflow's moves: how one move is
shown and handled (`Offer`), the offer of a move no workspace describes
(`default_offer`), and the routes of the one view per workspace."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import EmptyForm, clean_text


@dataclass(frozen=True)
class Offer:
    """One thing a person may do on a need from a workspace page: a workflow
    move or a step that does not move the status (a note, an update).

    The page loops over the offers allowed now and shows each the same way:
    a one-click button when `summary` is None, else a folding form with the
    form's fields, `help` under them and `button` to send it."""

    #: What the person is told once it is done; `apply` may return its own text.
    told: object
    #: `apply(need, form, photos)` calls the service and returns the text to tell.
    apply: Callable
    button: object
    summary: object | None = None
    #: Builds the (bound) form; None: just the CSRF token.
    form: Callable[..., FlaskForm] | None = None
    help: object | None = None
    #: "primary", "danger" or "": the button's look.
    tone: str = ""
    #: The form also takes photos (multipart).
    photos: bool = False
    #: The endpoint of a step that is not a move (moves post to the move view).
    endpoint: str | None = None


class TextForm(FlaskForm):
    """The form of a move that takes a text and that no workspace describes."""

    text = TextAreaField(
        _l("Reason"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a reason or an answer.")),
            Length(max=2000, message=_l("At most %(max)d characters, please.")),
        ],
        render_kw={"rows": 3, "maxlength": 2000},
    )


def default_offer(move, make: Callable[[object, str, str], object]) -> Offer:
    """How a move of the workflow's table is offered when the workspace does
    not describe it: its timeline label on the button, and a text field when
    the move requires one. `make(need, move_name, text)` makes the move."""

    def apply(need, form, photos=None):
        make(need, move.name, form.text.data if move.needs_text else "")

    return Offer(
        told=_l("Done: %(what)s.", what=move.label),
        apply=apply,
        button=move.label,
        summary=move.label if move.needs_text else None,
        form=TextForm if move.needs_text else EmptyForm,
    )


def add_move_routes(
    bp: Blueprint, prefix: str, view: Callable, established: Mapping[str, str]
) -> None:
    """One view for every workflow move of a workspace, reached at
    `<prefix>/moves/<move>` and at each move's established URL (`{move: path}`).
    The established URLs stay what the pages post to (url_for builds them), and
    the generic URL of those moves answers a 308 to them, keeping method and form."""
    bp.add_url_rule(f"{prefix}/moves/<move>", view_func=view, methods=["POST"])
    for move, path in established.items():
        bp.add_url_rule(
            f"{prefix}/{path}", view_func=view, methods=["POST"], defaults={"move": move}
        )
