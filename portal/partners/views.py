from __future__ import annotations

from flask import Blueprint

bp = Blueprint("partner", __name__, url_prefix="/partner")
