"""Serving photos to those who may see them, and hiding them from the public."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.decorators import admin_required
from portal.extensions import db, talisman
from portal.forms import EmptyForm
from portal.htmx import redirect_after_post
from portal.photos import services, storage
from portal.photos.forms import HidePhotoForm
from portal.photos.processing import megabytes

bp = Blueprint("photos", __name__)
bp.teardown_app_request(services.discard_unused_staging)
bp.add_app_template_global(megabytes, "megabytes")

#: An image answer may not run or load anything, whatever a browser thinks it is.
IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
YEAR = 365 * 24 * 3600


@bp.app_errorhandler(services.PhotoStorageError)
def _photos_not_stored(error):
    """The commit was abandoned (see services._publish_before_commit): say so."""
    db.session.rollback()
    page = render_template(
        "errors.html",
        code=503,
        title=_("Photos not stored"),
        message=services.PHOTOS_NOT_SAVED,
    )
    return page, 503, {"Retry-After": "60"}


def accepts_photos(view):
    """Mark a view whose form may carry photos: its requests may be as large
    as PHOTO_REQUEST_MAX_BYTES (read before CSRF checks parse the form)."""
    view.accepts_photos = True
    return view


@bp.app_url_value_preprocessor
def _allow_photo_uploads(endpoint: str | None, values) -> None:
    """Runs before every before_request hook (CSRF protection reads the form)."""
    view = current_app.view_functions.get(endpoint or "")
    if getattr(view, "accepts_photos", False):
        request.max_content_length = current_app.config["PHOTO_REQUEST_MAX_BYTES"]


@bp.get("/photos/<key>/<any(display, thumb):size>.jpg")
@talisman(content_security_policy=IMAGE_CSP)
def serve(key: str, size: str):
    photo = services.photo_by_key(key)
    if photo is None or not services.may_view(photo, current_user):
        abort(404)
    try:  # small files (a display size at most): read whole, no handle left open
        data = storage.final_path(photo.key, size).read_bytes()
    except FileNotFoundError:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype="image/jpeg",
        conditional=True,
        etag=f"{photo.key}-{size}",
        last_modified=photo.created_at,
        max_age=YEAR,
    )
    # The files never change (a new photo gets a new key). Private: a shared cache
    # must not keep serving a photo an administrator has since hidden.
    response.headers["Cache-Control"] = f"private, max-age={YEAR}, immutable"
    response.headers["Content-Disposition"] = "inline"
    return response


def _photo_or_404(key: str):
    photo = services.photo_by_key(key)
    if photo is None:
        abort(404)
    return photo


def _back(photo) -> str:
    return url_for("triage.need", ref=photo.need.ref) + "#photos" if photo.need.ref else "/"


@bp.post("/admin/photos/<key>/hide")
@admin_required
def hide(key: str):
    photo = _photo_or_404(key)
    form = HidePhotoForm()
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "error")
        return redirect_after_post(_back(photo))
    services.hide_photo(photo, current_user, form.reason.data)
    db.session.commit()
    flash(_("The photo is hidden from the public."), "success")
    return redirect_after_post(_back(photo))


@bp.post("/admin/photos/<key>/show")
@admin_required
def show(key: str):
    photo = _photo_or_404(key)
    if not EmptyForm().validate():
        abort(400)
    services.show_photo(photo, current_user)
    db.session.commit()
    flash(_("The photo is public again."), "success")
    return redirect_after_post(_back(photo))
