"""Extra questions of a category (Open311 service attributes): /admin/categories/<id>/questions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("questions", __name__)
