from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.forms import clean_text

COMMENT_MAX = 2000
REASON_MAX = 300  # CommentReport.reason is a String(300)
MODERATION_REASON_MAX = 1000


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        id="comment-body",
        description=_l("Plain text; links are kept. Be kind: comments are public."),
        filters=[clean_text],
        validators=[
            DataRequired(message=_l("Please write your comment.")),
            Length(max=COMMENT_MAX, message=_l("The comment must be at most %(max)d characters.")),
        ],
    )
    # One token per rendered form: the same form sent twice makes one comment.
    client_token = HiddenField(
        validators=[
            DataRequired(message=_l("The form has expired. Please send it again.")),
            Regexp(
                r"^[A-Za-z0-9_-]{16,64}$", message=_l("The form has expired. Please send it again.")
            ),
        ]
    )


class ReportForm(FlaskForm):
    reason = StringField(
        _l("Why? (optional)"),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=_l("The reason must be at most %(max)d characters.")),
        ],
    )


class HideForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for hiding"),
        filters=[clean_text],
        validators=[
            DataRequired(message=_l("Please give the reason for hiding this comment.")),
            Length(
                max=MODERATION_REASON_MAX,
                message=_l("The reason must be at most %(max)d characters."),
            ),
        ],
    )


class RestoreForm(FlaskForm):
    reason = TextAreaField(
        _l("Note (optional)"),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(
                max=MODERATION_REASON_MAX,
                message=_l("The reason must be at most %(max)d characters."),
            ),
        ],
    )
