"""Needs: submitting, listing, reading and tracking them."""

from flask import Blueprint

bp = Blueprint("needs", __name__)

from portal.needs import views  # noqa: E402, F401
