"""Public project pages, proposals, the partners' project actions and /admin/projects."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("projects", __name__)
