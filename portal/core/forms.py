"""The form of the settings page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.forms import WholeNumberField


class SettingsForm(FlaskForm):
    route_on_publish = BooleanField(
        _l("Route a need to its category's default partner as soon as it is published")
    )
    escalate_after_days = WholeNumberField(
        _l("Escalate to admins after this many working days past the due date"),
        validators=[
            InputRequired(_l("Please give a number of days.")),
            NumberRange(min=1, max=30, message=_l("Between %(min)s and %(max)s days.")),
        ],
    )
    # Content safety (portal.moderation). The numbers may be left out: they then stay.
    comment_premoderation = BooleanField(
        _l("Pre-moderation: hold every comment until a moderator approves it")
    )
    links_per_text = WholeNumberField(
        _l("Links allowed in one comment, need or project update (more are held for moderation)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=20, message=_l("Between %(min)s and %(max)s.")),
        ],
    )
    links_min_contributions = WholeNumberField(
        _l(
            "Published comments and needs a member needs before posting links "
            "(until then any link is held; 0: no such rule)"
        ),
        validators=[
            Optional(),
            NumberRange(min=0, max=100, message=_l("Between %(min)s and %(max)s.")),
        ],
    )
