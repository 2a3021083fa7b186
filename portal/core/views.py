from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request

from portal.core import bp
from portal.core.services import database_is_reachable
from portal.i18n import LOCALE_COOKIE
from portal.needs.services import latest_public_needs

ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def home():
    return render_template("core/home.html", needs=latest_public_needs(6))


@bp.get("/privacy")
def privacy():
    return render_template(
        "core/privacy.html", version=current_app.config["PRIVACY_NOTICE_VERSION"]
    )


@bp.get("/healthz")
def healthz():
    if database_is_reachable():
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "error", "database": "unreachable"}, 503


def _safe_next(target: str | None) -> str:
    """Only paths on this site, so the switch cannot be used as an open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.post("/locale")
def set_locale():
    locale = request.form.get("locale", "")
    response = redirect(_safe_next(request.form.get("next")), code=303)
    if locale in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response
