"""/partners and /partners/<id>: the public directory and a page per partner."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("directory", __name__)
