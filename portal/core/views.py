from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request

from portal.core.formatting import FORMATTERS, fmt_rate
from portal.core.maps import map_settings
from portal.core.services import database_is_reachable
from portal.i18n import LOCALE_COOKIE, current_locale_code
from portal.needs.services import latest_public_needs
from portal.workflow.services import label_of

bp = Blueprint("core", __name__)
bp.add_app_template_global(map_settings, "map_settings")


@bp.app_context_processor
def template_context() -> dict:
    return {"current_locale": current_locale_code(), "url_endpoints": _endpoints()}


@bp.record_once
def _formatters(state) -> None:
    """fmt_rate, fmt_number, fmt_days: globals, so imported macros see them too."""
    state.app.jinja_env.globals.update(FORMATTERS)


def _endpoints() -> frozenset[str]:
    cached = current_app.extensions.get("portal_endpoints")
    if cached is None:
        cached = frozenset(rule.endpoint for rule in current_app.url_map.iter_rules())
        current_app.extensions["portal_endpoints"] = cached
    return cached


@bp.app_template_global()
def move_label(move: str) -> str:
    """The translated name of a workflow move, for timelines and e-mails."""
    label = label_of(move)
    return str(label) if label is not None else move


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    return fmt_rate(value)


ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def home():
    return render_template("core/home.html", needs=latest_public_needs(6))


#: Every privacy notice ever in force, oldest first; each one's text is
#: templates/core/privacy/<version>.html and stays readable, since consents
#: name the version they were given to (PRIVACY_NOTICE_VERSION is the last).
PRIVACY_NOTICE_VERSIONS = ("2026-11", "2026-12")


@bp.get("/privacy")
def privacy():
    current = current_app.config["PRIVACY_NOTICE_VERSION"]
    version = request.args.get("version") or current
    if version not in PRIVACY_NOTICE_VERSIONS:
        abort(404)
    return render_template(
        "core/privacy.html", version=version, current=current, versions=PRIVACY_NOTICE_VERSIONS
    )


@bp.get("/healthz")
def healthz():
    if database_is_reachable():
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "error", "database": "unreachable"}, 503


#: Longer `next` targets are not links this site made.
NEXT_MAX = 2000
#: Whitespace and control characters: urlsplit() ignores some (so "/\r\n…" looks
#: like a path), and a CR or LF in the Location header would be a 500.
_NOT_IN_A_PATH = re.compile(r"[\x00-\x20\x7f]")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only paths on this site, so a `next` parameter is never an open redirect
    nor a header of its own."""
    if not target or not isinstance(target, str):
        return default
    if len(target) > NEXT_MAX or _NOT_IN_A_PATH.search(target):
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


@bp.post("/locale")
def set_locale():
    locale = request.form.get("locale", "")
    response = redirect(safe_next(request.form.get("next")), code=303)
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
