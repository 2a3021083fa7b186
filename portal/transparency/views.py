"""/transparency: the dashboard."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("transparency", __name__)
