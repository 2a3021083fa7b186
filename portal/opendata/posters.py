"""Printable QR posters: a code that opens the need form with the category
(and optionally the place) already chosen, for notice boards and counters.

The QR code encodes the absolute address built from PUBLIC_BASE_URL, never
the host that happened to serve the poster page (a poster printed from an
internal address must still work on the street)."""

from __future__ import annotations

import io

import segno
import sqlalchemy as sa
from flask_babel import gettext as _

from portal.categories.models import Category
from portal.extensions import db
from portal.forms import clean_text
from portal.notify.services import public_url

#: A place longer than this makes the code too dense to scan from a poster.
PLACE_MAX = 80


class PosterError(ValueError):
    """Bad poster input; the message is translated."""


def active_category(code: str) -> Category | None:
    if not code or len(code) > 40:
        return None
    return db.session.scalar(sa.select(Category).where(Category.code == code, Category.is_active))


def clean_place(value: str | None) -> str:
    place = " ".join((clean_text(value) or "").split())
    if len(place) > PLACE_MAX:
        raise PosterError(
            _("The place must be at most %(max)d characters on a poster.", max=PLACE_MAX)
        )
    return place


def form_url(category: Category, place: str = "") -> str:
    """What the QR code opens: the need form with the category preselected."""
    values = {"category": category.code}
    if place:
        values["place"] = place
    return public_url("needs.new", **values)


def make_qr(url: str) -> segno.QRCode:
    # Error level M (raised when the data leaves room): survives a scuffed poster.
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, inline: bool) -> str:
    """The code as SVG: for the page (no XML declaration or namespace needed)
    or as a file of its own."""
    qr = make_qr(url)
    options = {"scale": 8, "border": 4, "title": _("QR code"), "svgclass": "poster-qr"}
    if inline:
        return qr.svg_inline(omitsize=True, **options)  # a viewBox: CSS sets the size
    out = io.BytesIO()
    qr.save(out, kind="svg", xmldecl=True, **options)
    return out.getvalue().decode("utf-8")
