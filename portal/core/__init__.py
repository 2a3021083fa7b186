"""Pages that belong to no single area: home, health, privacy, language."""

from flask import Blueprint

bp = Blueprint("core", __name__)

from portal.core import views  # noqa: E402, F401


@bp.app_context_processor
def template_context() -> dict:
    from portal.i18n import current_locale_code

    return {"current_locale": current_locale_code()}


@bp.app_template_global()
def move_label(move: str) -> str:
    """The translated name of a workflow move, for timelines and e-mails."""
    from portal.workflow.services import MOVE_LABELS

    label = MOVE_LABELS.get(move)
    return str(label) if label is not None else move
