from __future__ import annotations

from flask import Blueprint

bp = Blueprint("triage", __name__)
