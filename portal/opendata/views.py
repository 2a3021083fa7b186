"""/data downloads, /feeds/… Atom feeds and /posters QR posters."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("opendata", __name__)
