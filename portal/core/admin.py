"""The settings page (/admin/settings): routing on publish, escalation and
content safety; the settings themselves are in portal/core/settings.py."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.decorators import admin_required
from portal.core import settings
from portal.core.forms import SettingsForm
from portal.extensions import db
from portal.forms import show_domain_error
from portal.htmx import redirect_after_post, render, render_invalid

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")


@bp.route("", methods=["GET", "POST"])
@admin_required
def index():
    if request.method == "POST":
        form = SettingsForm()
        if not form.validate():
            return render_invalid(
                "core/settings.html", "core/_settings_form.html", context={"form": form}
            )
        try:
            changed = settings.save_settings(
                bool(form.route_on_publish.data),
                form.escalate_after_days.data,
                current_user,
                comment_premoderation=bool(form.comment_premoderation.data),
                links_per_text=form.links_per_text.data,
                links_min_contributions=form.links_min_contributions.data,
            )
        except settings.SettingsError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return render_invalid(
                "core/settings.html", "core/_settings_form.html", context={"form": form}
            )
        db.session.commit()
        flash(_("The settings are saved.") if changed else _("Nothing changed."), "success")
        return redirect_after_post(url_for("settings.index"))
    form = SettingsForm(formdata=None, data=settings.current_settings())
    return render("core/settings.html", context={"form": form})
