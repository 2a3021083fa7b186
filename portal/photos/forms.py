from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.forms import clean_text


def photos_field(label=None) -> MultipleFileField:
    """Up to PHOTOS_PER_UPLOAD pictures from the camera or the gallery; what is
    in them is checked by portal.photos.services.receive_photos."""
    return MultipleFileField(
        label or _l("Photos (optional, up to 3)"),
        description=_l("JPEG, PNG, WebP or HEIC. Location and camera data are removed."),
        render_kw={"accept": "image/*", "multiple": True},
    )


class HidePhotoForm(FlaskForm):
    reason = StringField(
        _l("Why hide it?"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a reason (e.g. a face or a licence plate).")),
            Length(max=200, message=_l("At most %(max)d characters, please.")),
        ],
    )
