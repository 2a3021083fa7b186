"""/transparency: the dashboard."""

from __future__ import annotations

from flask import Blueprint, request

from portal.areas.tree import choice_for
from portal.htmx import render
from portal.transparency import services

bp = Blueprint("transparency", __name__)


@bp.get("/transparency")
def dashboard():
    """One URL for the page and, for the filter form's htmx call, its results.
    A bad filter shows its error and the default period, category or area
    instead."""
    categories = services.active_categories()
    filters = services.Filters.from_args(request.args, {c.id for c in categories})
    board = services.dashboard(filters, categories)
    return render(
        "transparency/dashboard.html",
        "transparency/_results.html",
        context={
            "board": board,
            "filters": filters,
            "categories": categories,
            "area_choice": choice_for(filters.area),
        },
    )
