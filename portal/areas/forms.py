"""The cascading choice of an area (a field any form can carry) and the forms
of the admin pages."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal.areas import services, tree
from portal.areas.models import CODE, CODE_MAX, NAME_MAX
from portal.core.params import bounded_int
from portal.forms import FiniteDecimalField, clean_text

#: The name every select of the cascading choice carries (and the query
#: parameter of the filters and of /areas/choices).
FIELD_NAME = "area"
#: What the empty choice of a level means: in a form, "no more precise than the
#: level above"; in a filter, "all of it".
FORM, FILTER = "form", "filter"


class AreaLevels:
    """The widget: one select per level (templates/areas/_levels.html), so
    `{{ field(form.area) }}` of the form macros draws it with its label, help
    and errors."""

    def __call__(self, field: AreaField, **attrs) -> Markup:
        return Markup(  # noqa: S704 — a template of ours, autoescaped
            render_template(
                "areas/_levels.html",
                choice=field.choice,
                mode=FORM,
                choose_button=True,
                attrs=attrs,
            )
        )


class AreaField(Field):
    """An area chosen level by level. The browser sends one value per level,
    all named `area`; the deepest unbroken chain wins (`tree.resolve`).
    `data` is the Area or None; `choice` what the selects show."""

    widget = AreaLevels()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unknown = False
        self._choice: tree.AreaChoice | None = None

    def process_formdata(self, valuelist):
        found = tree.resolve(valuelist)
        self.data, self.unknown = found.area, found.unknown

    def pre_validate(self, form):
        if self.unknown:
            raise ValidationError(_l("Please choose an area from the list."))

    @property
    def choice(self) -> tree.AreaChoice:
        if self._choice is None or self._choice.chosen is not self.data:
            self._choice = tree.choice_for(self.data)
        return self._choice

    def _value(self) -> str:
        return self.data.code if self.data is not None else ""


def area_field(label=None, description=None) -> AreaField:
    return AreaField(
        label or _l("Area (optional)"),
        description=description
        or _l("Choose the district, then the street or community if you know it."),
    )


def chose_next_level() -> bool:
    """The "Choose" button of the cascading choice was pressed (without
    JavaScript): show the form again with the next level, save nothing."""
    return bool(request.form.get("area_choose"))


class ServedAreaForm(FlaskForm):
    """An area a partner organisation serves (its admin page)."""

    area = area_field(
        _l("Add an area it serves"), _l("The organisation serves it and all under it.")
    )


class NeedAreaForm(FlaskForm):
    """An admin sets the area of a need."""

    area = area_field(_l("Area"), _l("Required before the need is sent to a partner."))


def _number(label, low: int, high: int) -> FiniteDecimalField:
    return FiniteDecimalField(
        label,
        places=None,
        validators=[
            Optional(),
            NumberRange(min=low, max=high, message=_l("Between %(min)s and %(max)s.")),
        ],
        invalid_message=_l("Please give a number, e.g. 31.2304."),
    )


class AreaForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("Unique, e.g. the statistical code 310101: letters, digits, . - and _."),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a code.")),
            Length(max=CODE_MAX, message=_l("At most %(max)d characters, please.")),
            Regexp(CODE, message=_l("Only letters, digits, . - and _ please.")),
        ],
    )
    parent_code = StringField(
        _l("Parent area's code"),
        description=_l("Empty for a top-level area (e.g. the city)."),
        filters=[clean_text],
        validators=[Optional(), Length(max=CODE_MAX)],
    )
    name_zh = StringField(
        _l("Name (Chinese)"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give the Chinese name.")),
            Length(max=NAME_MAX, message=_l("At most %(max)d characters, please.")),
        ],
    )
    name_en = StringField(
        _l("Name (English)"),
        filters=[clean_text],
        validators=[Length(max=NAME_MAX, message=_l("At most %(max)d characters, please."))],
    )
    lat = _number(_l("Latitude of the centre (optional)"), -90, 90)
    lon = _number(_l("Longitude of the centre (optional)"), -180, 180)
    position = StringField(
        _l("Position among its siblings"),
        description=_l("Smaller numbers come first; then the code."),
        default="0",
        filters=[clean_text],
        validators=[
            Optional(),
            Regexp(r"^[0-9]{1,5}$", message=_l("A whole number between 0 and 10000, please.")),
        ],
    )

    def validate_lon(self, field):
        if (self.lat.data is None) != (field.data is None):
            raise ValidationError(_l("Give both the latitude and the longitude, or neither."))

    def values(self) -> services.AreaValues:
        return services.AreaValues(
            code=self.code.data,
            name_zh=self.name_zh.data,
            name_en=self.name_en.data or "",
            lat=float(self.lat.data) if self.lat.data is not None else None,
            lon=float(self.lon.data) if self.lon.data is not None else None,
            position=bounded_int(self.position.data, 0, 99_999, 0),
        )


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "Columns: code, parent_code, name_zh, and optionally name_en, lat, lon, position. "
            "UTF-8 or GB18030 (as Excel saves it)."
        ),
        validators=[FileRequired(_l("Please choose a file."))],
    )
