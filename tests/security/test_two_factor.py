"""Staff two-factor sign-in and short staff sessions (issue 12, item 6): TOTP
set-up with a code computed from the secret shown on the page, login with a
code, no replay, single-use recovery codes, the grace period and then
enforcement, an admin's audited reset, idle and absolute expiry, and no
remember-me for staff."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth import two_factor as tfa
from portal.auth.models import LoginThrottle, RecoveryCode, Role, User
from portal.auth.sessions import AUTH_AT, PENDING, SEEN_AT
from portal.core.models import Setting
from portal.core.settings import STAFF_TWO_FACTOR_FROM
from portal.extensions import db, limiter
from portal.models_base import utcnow
from portal.workdays.services import local_today
from tests.conftest import csrf_token_from
from tests.factories import make_user
from tests.forms import form_for

PASSWORD = "Willow compass harbour 71"
BANNER = "Please set up two-factor sign-in for your staff account"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _staff(role: Role = Role.ADMIN) -> User:
    user = make_user(role, password=PASSWORD)
    db.session.commit()
    return user


def _with_two_factor(user: User) -> tuple[str, list[str]]:
    secret = pyotp.random_base32()
    codes = tfa.enable(user, secret, step=0)
    db.session.commit()
    return secret, codes


def _password_step(client, email: str, password: str = PASSWORD, **extra):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "password": password, **extra}
    return client.post("/auth/login?next=/admin/users", data=data)


def _code_step(client, code: str):
    page = client.get("/auth/two-factor")
    assert page.status_code == 200, page.headers.get("Location")
    return client.post(
        "/auth/two-factor",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "code": code},
    )


def _logged_in_as(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def _require_from(day) -> None:
    db.session.merge(Setting(key=STAFF_TWO_FACTOR_FROM, value=day.isoformat()))
    db.session.commit()


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# --- setting it up ---------------------------------------------------------------------


def test_staff_set_it_up_with_the_secret_on_the_page(client, login):
    admin = login(_staff())
    page = client.get("/auth/two-factor/setup")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert re.search(r'<img class="totp-qr" src="data:image/svg\+xml', html)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")

    form = form_for(html, "/auth/two-factor/setup")
    wrong = client.post(form["action"], data={**form["fields"], "code": "000000"})
    assert wrong.status_code == 422 and "This code does not match" in wrong.get_data(as_text=True)
    assert not _reload(admin).has_two_factor

    done = client.post(form["action"], data={**form["fields"], "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(set(codes)) == 10

    admin = _reload(admin)
    assert admin.has_two_factor and admin.totp_secret == secret
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes}
    assert len(_audit("user.two_factor_enable")) == 1
    # Shown once: the page now says it is on, with neither secret nor codes.
    me = client.get("/me").get_data(as_text=True)
    assert BANNER not in me and "Two-factor sign-in is on" in me
    again = client.get("/auth/two-factor/setup").get_data(as_text=True)
    assert "10 unused recovery codes are left" in again
    assert secret not in again.replace(" ", "") and codes[0] not in again


def test_members_are_not_offered_two_factor(client, login):
    login(make_user(password=PASSWORD))
    db.session.commit()
    assert client.get("/auth/two-factor/setup").status_code == 403
    assert BANNER not in client.get("/me").get_data(as_text=True)


# --- logging in with it ------------------------------------------------------------------


def test_the_password_alone_does_not_log_staff_in(client):
    staff = _staff(Role.PARTNER)
    secret, _codes = _with_two_factor(staff)

    response = _password_step(client, staff.email)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/auth/two-factor")
    assert _logged_in_as(client) is None
    assert client.get("/me").status_code == 302  # nobody is logged in yet

    done = _code_step(client, pyotp.TOTP(secret).now())
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/users")
    assert _logged_in_as(client) == staff.get_id()


def test_a_wrong_code_is_refused_and_counted(client):
    staff = _staff()
    _with_two_factor(staff)
    _password_step(client, staff.email)
    response = _code_step(client, "123456")
    assert response.status_code == 422
    assert "This code is wrong or was used already" in response.get_data(as_text=True)
    assert _logged_in_as(client) is None
    assert db.session.scalar(sa.select(LoginThrottle.failures)) == 1


def test_a_used_code_cannot_be_replayed(app, client):
    staff = _staff()
    secret, _codes = _with_two_factor(staff)
    code = pyotp.TOTP(secret).now()
    _password_step(client, staff.email)
    assert _code_step(client, code).status_code == 303

    eavesdropper = app.test_client()
    eavesdropper.set_cookie("locale", "en")
    _password_step(eavesdropper, staff.email)
    replay = _code_step(eavesdropper, code)
    assert replay.status_code == 422 and _logged_in_as(eavesdropper) is None


def test_a_recovery_code_works_once_and_only_once(app, client):
    staff = _staff()
    _secret, codes = _with_two_factor(staff)
    _password_step(client, staff.email)
    response = _code_step(client, codes[3].upper().replace("-", " "))
    assert response.status_code == 303 and _logged_in_as(client) == staff.get_id()
    assert "You used a recovery code; 9 are left." in client.get("/me").get_data(as_text=True)
    assert len(_audit("user.recovery_code_use")) == 1

    again = app.test_client()
    _password_step(again, staff.email)
    assert _code_step(again, codes[3]).status_code == 422
    assert _logged_in_as(again) is None
    assert tfa.recovery_codes_left(_reload(staff)) == 9


def test_the_pending_login_expires(client):
    staff = _staff()
    secret, _codes = _with_two_factor(staff)
    _password_step(client, staff.email)
    page = client.get("/auth/two-factor").get_data(as_text=True)
    with client.session_transaction() as session:
        pending = dict(session[PENDING])
        pending["at"] -= 6 * 60
        session[PENDING] = pending
    response = client.post(
        "/auth/two-factor",
        data={"csrf_token": csrf_token_from(page), "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/login")
    assert _logged_in_as(client) is None
    assert "Your login took too long" in client.get("/auth/login").get_data(as_text=True)


RATE_LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.mark.parametrize("app_config", [RATE_LIMITED])
def test_the_code_step_is_rate_limited_per_address(client, app_config):
    limiter.reset()
    staff = _staff()
    _with_two_factor(staff)
    _password_step(client, staff.email)
    codes = [_code_step(client, "123456").status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]
    limiter.reset()


@pytest.mark.parametrize("app_config", [{"LOGIN_ACCOUNT_MAX_FAILURES": 3}])
def test_wrong_codes_lock_the_account_like_wrong_passwords(client, app_config):
    staff = _staff()
    secret, _codes = _with_two_factor(staff)
    _password_step(client, staff.email)
    answers = [_code_step(client, "123456") for _ in range(3)]
    assert "Too many failed logins" in answers[-1].get_data(as_text=True)
    # The pending login is over, and the lock holds for the password step too.
    assert client.get("/auth/two-factor").status_code == 302
    response = _password_step(client, staff.email)
    assert "Too many failed logins" in response.get_data(as_text=True)
    assert _logged_in_as(client) is None


# --- the grace period, then enforcement ----------------------------------------------------


def test_during_the_grace_period_staff_log_in_and_are_asked_to_set_it_up(client):
    staff = _staff(Role.PARTNER)
    for required_from in (None, local_today() + timedelta(days=1)):
        if required_from:
            _require_from(required_from)
        response = _password_step(client, staff.email)
        assert response.status_code == 303 and response.headers["Location"].endswith("/admin/users")
        assert _logged_in_as(client) == staff.get_id()
        assert BANNER in client.get("/me").get_data(as_text=True)
        client.post("/auth/logout", data={"csrf_token": csrf_token_from(client.get("/me").text)})
        staff = _reload(staff)


def test_after_the_grace_period_login_leads_to_the_set_up(client):
    staff = _staff(Role.PARTNER)
    _require_from(local_today())
    response = _password_step(client, staff.email)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    assert _logged_in_as(client) is None

    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    assert "Staff accounts need a second factor: set it up now" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    form = form_for(page, "/auth/two-factor/setup")
    done = client.post(form["action"], data={**form["fields"], "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and 'href="/admin/users"' in done.get_data(as_text=True)
    assert _logged_in_as(client) == _reload(staff).get_id()
    assert _reload(staff).has_two_factor


def test_without_a_date_staff_get_a_default_grace_period_from_their_account(client):
    staff = _staff(Role.PARTNER)
    fresh = _password_step(client, staff.email)
    assert fresh.headers["Location"].endswith("/admin/users")  # still within the grace
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client.get("/me").text)})
    staff = _reload(staff)
    staff.created_at = utcnow() - timedelta(days=15)  # STAFF_TWO_FACTOR_GRACE_DAYS is 14
    db.session.commit()
    old = _password_step(client, staff.email)
    assert old.headers["Location"].endswith("/auth/two-factor/setup")
    assert _logged_in_as(client) is None


def test_members_never_need_it(client):
    member = make_user(password=PASSWORD)
    db.session.commit()
    _require_from(local_today() - timedelta(days=30))
    response = _password_step(client, member.email)
    assert response.status_code == 303 and _logged_in_as(client) == member.get_id()


def test_an_admin_sets_the_date_on_the_settings_page(client, login):
    admin = login(_staff())
    page = client.get("/admin/settings/two-factor").get_data(as_text=True)
    assert "0 of 1 active staff accounts have set it up." in page
    form = form_for(page, "/admin/settings/two-factor")
    day = local_today() + timedelta(days=14)
    response = client.post(form["action"], data={**form["fields"], "required_from": str(day)})
    assert response.status_code == 303
    assert tfa.required_from() == day
    rows = _audit("setting.change")
    assert len(rows) == 1 and rows[0].actor_id == admin.id
    bad = client.post(form["action"], data={**form["fields"], "required_from": "soon"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)


# --- an admin's reset ------------------------------------------------------------------------


def test_an_admin_resets_a_lost_second_factor(app, client, login):
    staff = _staff(Role.PARTNER)
    _with_two_factor(staff)
    staff_client = app.test_client()
    with staff_client.session_transaction() as session:
        from portal.auth.sessions import stamp

        session["_user_id"] = staff.get_id()
        stamp(session)
    assert staff_client.get("/me").status_code == 200

    admin = login(_staff())
    page = client.get("/admin/users").get_data(as_text=True)
    form = form_for(page, f"/admin/users/{staff.id}/two-factor")
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 303

    staff = _reload(staff)
    assert not staff.has_two_factor and staff.totp_secret == ""
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
    rows = _audit("user.two_factor_reset")
    assert [(r.actor_id, r.object_id) for r in rows] == [(admin.id, str(staff.id))]
    assert staff_client.get("/me").status_code == 302  # logged out everywhere
    # Not required for staff yet, but they had it: they set it up again at login.
    response = _password_step(app.test_client(), staff.email)
    assert response.headers["Location"].endswith("/auth/two-factor/setup")


def test_an_admin_cannot_reset_their_own(client, login):
    admin = login(_staff())
    _with_two_factor(admin)
    token = csrf_token_from(client.get("/admin/users").get_data(as_text=True))
    response = client.post(f"/admin/users/{admin.id}/two-factor", data={"csrf_token": token})
    assert response.status_code == 422
    assert _reload(admin).has_two_factor


@pytest.mark.parametrize("role", [Role.PARTNER, Role.MEMBER])
def test_only_admins_reset_it(client, login, role):
    victim = _staff(Role.PARTNER)
    _with_two_factor(victim)
    login(make_user(role))
    db.session.commit()
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    response = client.post(f"/admin/users/{victim.id}/two-factor", data={"csrf_token": token})
    assert response.status_code == 403
    assert _reload(victim).has_two_factor and _audit("user.two_factor_reset") == []


def test_the_reset_needs_the_form_token(client, login):
    victim = _staff(Role.PARTNER)
    _with_two_factor(victim)
    login(_staff())
    response = client.post(f"/admin/users/{victim.id}/two-factor")
    assert response.status_code == 400 and _reload(victim).has_two_factor


# --- how long staff sessions last -------------------------------------------------------------


def _set_times(client, *, auth_ago: int, seen_ago: int) -> None:
    now = int(time.time())
    with client.session_transaction() as session:
        session[AUTH_AT] = now - auth_ago
        session[SEEN_AT] = now - seen_ago


def test_an_idle_staff_session_ends(client, login):
    login(_staff())
    _set_times(client, auth_ago=3 * 3600, seen_ago=119 * 60)
    assert client.get("/admin/users").status_code == 200  # still within the idle time
    _set_times(client, auth_ago=3 * 3600, seen_ago=121 * 60)
    response = client.get("/admin/users?q=li")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login?next=/admin/users?q%3Dli")
    assert _logged_in_as(client) is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were logged out after 120 minutes without activity" in page


def test_a_staff_session_ends_after_twelve_hours_however_busy(client, login):
    login(_staff(Role.PARTNER))
    _set_times(client, auth_ago=12 * 3600 + 60, seen_ago=30)
    response = client.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert "at most 12 hours" in client.get("/auth/login").get_data(as_text=True)


def test_activity_keeps_a_staff_session_going(client, login):
    login(_staff())
    _set_times(client, auth_ago=3600, seen_ago=100 * 60)
    assert client.get("/me").status_code == 200
    with client.session_transaction() as session:
        assert int(time.time()) - session[SEEN_AT] < 60


def test_a_staff_session_without_a_login_time_ends(client):
    staff = _staff()
    with client.session_transaction() as session:
        session["_user_id"] = staff.get_id()
    assert client.get("/me").status_code == 302


def test_member_sessions_keep_their_long_life(client, login):
    login(make_user())
    db.session.commit()
    _set_times(client, auth_ago=5 * 24 * 3600, seen_ago=3 * 24 * 3600)
    assert client.get("/me").status_code == 200


def test_htmx_requests_of_an_ended_session_load_the_login_page(client, login):
    login(_staff())
    _set_times(client, auth_ago=60, seen_ago=3 * 3600)
    response = client.get("/admin/users?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "/auth/login?next=" in response.headers["HX-Redirect"]


# --- remember-me is for members ------------------------------------------------------------------


def _remember_cookie_set(response) -> bool:
    return any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_remember_me_is_ignored_for_staff(client):
    staff = _staff()
    response = _password_step(client, staff.email, remember="y")
    assert response.status_code == 303 and _logged_in_as(client) == staff.get_id()
    assert not _remember_cookie_set(response)


def test_remember_me_is_ignored_for_staff_with_two_factor(client):
    staff = _staff()
    secret, _codes = _with_two_factor(staff)
    _password_step(client, staff.email, remember="y")
    response = _code_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 303 and not _remember_cookie_set(response)


def test_remember_me_still_works_for_members(client):
    member = make_user(password=PASSWORD)
    db.session.commit()
    response = _password_step(client, member.email, remember="y")
    assert response.status_code == 303 and _remember_cookie_set(response)


def test_the_login_page_says_remember_me_is_for_members(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "For members only: staff accounts are never kept logged in." in page
