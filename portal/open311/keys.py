"""/admin/api-keys: issue, name, rate-limit and revoke Open311 API keys."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("apikeys", __name__)
