"""Accounts: members, partner staff and admins (login and registration come with
the members issue; the user loader is here from the start)."""

from flask import Blueprint

from portal.extensions import db, login_manager

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str):
    from portal.auth.models import User

    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))
