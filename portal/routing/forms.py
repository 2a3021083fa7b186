from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from portal.areas.forms import area_field
from portal.core.params import coerce_id, optional_id


class RuleForm(FlaskForm):
    """A new routing rule: category (or any), area (or anywhere), organisation."""

    category = SelectField(
        _l("Category"),
        coerce=optional_id,
        validate_choice=False,
        description=_l("Leave “any category” to route every category of the area."),
    )
    area = area_field(
        _l("Area (and everything under it)"),
        _l("Leave it empty to route the category everywhere."),
    )
    organisation = SelectField(_l("Send to"), coerce=coerce_id, validate_choice=False)

    def __init__(self, *args, categories=(), organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("Any category"))] + [(c.id, c.name) for c in categories]
        self.organisation.choices = [(0, _l("Choose a partner…"))] + [
            (o.id, o.name) for o in organisations if o.is_active
        ]
        self._categories = {c.id: c for c in categories}
        self._organisations = {o.id: o for o in organisations if o.is_active}

    def validate_category(self, field):
        if field.data is not None and field.data not in self._categories:
            raise ValidationError(_l("Please choose a category."))

    def validate_organisation(self, field):
        if field.data not in self._organisations:
            raise ValidationError(_l("Choose an active partner organisation."))

    def chosen(self):
        return (
            self._categories.get(self.category.data),
            self.area.data,
            self._organisations.get(self.organisation.data),
        )
