"""Who may open a page: anonymous visitors go to the login page, accounts of
the wrong role get 403."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.auth.models import Role
from portal.extensions import login_manager


def role_required(*roles: Role):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def verified_required(view):
    """Supporting and voting need a confirmed e-mail address."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_verified:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


admin_required = role_required(Role.ADMIN)


def member_required(view):
    """Supporting and voting: a member with a confirmed address. Staff act for
    their organisation, not as voters, and get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role != Role.MEMBER or not current_user.is_verified:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def partner_admin_required(view):
    """A partner's own admin pages: staff who manage their organisation
    (`User.manages_organisation`); other staff and every other role get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_partner_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
