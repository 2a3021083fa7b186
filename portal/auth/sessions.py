"""How long a login lasts (issue 12, item 6).

Staff sessions end after STAFF_IDLE_MINUTES without a request and
STAFF_SESSION_HOURS after the login, and staff get no remember-me cookie:
a forgotten browser at a service counter must not keep a partner's inbox or the
triage queue open for weeks. Members keep the long sessions and remember-me.

Both times live in the signed session cookie (`auth_at`, `seen_at`, in seconds
since the epoch), so checking them costs no database query and the check
writes nothing to the database. A staff session without them (made before
this rule, or restored from an old remember-me cookie) has an unknown age and
is ended.

Between the right password and the second factor the session holds only a
pending login (`two_factor_pending`: the account, its session version, when,
where to go next), never the logged-in user; it expires after
TWO_FACTOR_PENDING_MINUTES.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_logged_in

from portal.auth.models import User
from portal.core.views import safe_next
from portal.extensions import db
from portal.htmx import is_fragment_request, redirect_after_post

AUTH_AT = "auth_at"
SEEN_AT = "seen_at"
PENDING = "two_factor_pending"
#: seen_at is rewritten at most this often, so the cookie does not change on
#: every request.
_SEEN_RESOLUTION = 60


def stamp(target=None, now: int | None = None) -> None:
    """Record the login time (kept if there is one: a password change re-logs
    the session in without extending it) and the last request."""
    target = session if target is None else target
    now = int(time.time()) if now is None else now
    target.setdefault(AUTH_AT, now)
    target[SEEN_AT] = now


@user_logged_in.connect
def _on_login(_app, user: User, **_extra) -> None:
    """Every login_user() stamps the session; staff never get remember-me,
    whoever called it and whatever the checkbox said."""
    stamp()
    if user.is_staff:
        session.pop("_remember", None)
        session.pop("_remember_seconds", None)


def _ended_because(now: int) -> str | None:
    config = current_app.config
    auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
    if not isinstance(auth_at, int) or not isinstance(seen_at, int):
        return _("Your session has ended. Please log in again.")
    if now - auth_at > config["STAFF_SESSION_HOURS"] * 3600:
        return _(
            "Staff sessions last at most %(hours)d hours. Please log in again.",
            hours=config["STAFF_SESSION_HOURS"],
        )
    if now - seen_at > config["STAFF_IDLE_MINUTES"] * 60:
        return _(
            "You were logged out after %(minutes)d minutes without activity. Please log in again.",
            minutes=config["STAFF_IDLE_MINUTES"],
        )
    return None


def check_staff_session():
    """A before_request hook: end a staff session that is too old or idle, and
    send its owner to log in again, coming back where they were."""
    if request.endpoint == "static":
        return None
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if "_user_id" not in session and remember_cookie not in request.cookies:
        return None
    if not current_user.is_authenticated or not current_user.is_staff:
        return None
    now = int(time.time())
    reason = _ended_because(now)
    if reason is None:
        if now - session[SEEN_AT] >= _SEEN_RESOLUTION:
            session[SEEN_AT] = now
        return None
    session.clear()
    logout_user()  # after clear(): keeps its order to delete a remember-me cookie
    flash(reason, "info")
    return _to_login()


def _to_login():
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:  # the form is lost; come back to the page it was on
        back = urlsplit(request.referrer or "").path
    location = url_for("auth.login", next=safe_next(back, default="") or None)
    if is_fragment_request():
        return redirect_after_post(location)  # htmx: a full page load of the login
    return redirect(location)


# --- the pending second factor ------------------------------------------------------


@dataclass
class Pending:
    user: User
    next_url: str
    set_up: bool  # True: must set up two-factor sign-in; False: must type a code


def start_pending(user: User, next_url: str, *, set_up: bool) -> None:
    """Replace the session by a pending login: nothing from before carries over,
    and nobody is logged in until the second factor."""
    session.clear()
    session[PENDING] = {
        "user": user.get_id(),
        "at": int(time.time()),
        "next": next_url,
        "set_up": set_up,
    }


def pending() -> Pending | None:
    """The pending login, if it is recent and its account unchanged since (the
    id includes the session version, raised by a new password or a reset)."""
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    limit = current_app.config["TWO_FACTOR_PENDING_MINUTES"] * 60
    at = data.get("at")
    if not isinstance(at, int) or int(time.time()) - at > limit:
        session.pop(PENDING, None)
        return None
    account, _sep, version = str(data.get("user", "")).partition(":")
    user = db.session.get(User, int(account)) if account.isdigit() else None
    if user is None or not user.active or str(user.session_version) != version:
        session.pop(PENDING, None)
        return None
    next_url = str(data.get("next") or "/")
    return Pending(user=user, next_url=next_url, set_up=bool(data.get("set_up")))


def clear_pending() -> None:
    session.pop(PENDING, None)
