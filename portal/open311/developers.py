"""/developers: how to get a key and use the Open311 API."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("developers", __name__)
