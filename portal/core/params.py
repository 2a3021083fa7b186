"""Reading numbers from requests, bounded, in one place.

Query strings, form fields and URL segments are typed by strangers. Two
habits gave 500s: `value.isdigit()` then `int(value)` ("²".isdigit() is true,
int("²") raises), and ids of any size reaching the database (PostgreSQL
refuses an `integer` above 2³¹−1 with NumericValueOutOfRange, SQLite one above
2⁶³−1 with OverflowError). Every number a view or form reads goes through
`bounded_int` (or a WTForms field with a range); `int` path segments through
`BoundedIntConverter`.

Bodies that are not forms are refused here too (415): Flask-WTF would read a
JSON body as the form, with numbers and lists where the fields expect text.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import abort, request
from werkzeug.routing import IntegerConverter, UnicodeConverter

#: The largest value of an `integer` column (PostgreSQL), hence of every id.
INT_MAX = 2**31 - 1
#: ASCII digits only: `str.isdigit()` and `int()` also accept other scripts' digits.
_INTEGER = re.compile(r"-?[0-9]+")
#: A decimal number as a form or query string carries it (no exponent).
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?|-?\.[0-9]+")
#: Longer than any coordinate a device writes (about 17 significant digits).
_MAX_DECIMAL_LENGTH = 24
#: More digits than any bound needs; longer numbers are out of range (and int()
#: refuses strings over 4300 digits).
_MAX_DIGITS = 18

#: Control characters: never part of a search or a code (and PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Path segments (references, tokens, codes) are short; a longer one is no page.
SEGMENT_MAX = 256

#: Days typed into forms and filters: every real record lies between, and a time
#: zone or a period of months added to them is still a valid datetime (near
#: year 1 or 9999 Python raises OverflowError).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: The bodies a form (and an Open311 client, per GeoReport v2) sends.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bounded_int(
    value: object,
    minimum: int = 1,
    maximum: int = INT_MAX,
    default: int | None = None,
    *,
    clamp: bool = False,
) -> int | None:
    """`value` (a string of ASCII digits, optionally signed) as an int between
    `minimum` and `maximum`; `default` for anything else (missing, empty, "²",
    "1e309", 10**30, a list). With `clamp`, a number out of range gives the
    nearest bound instead (pages: ?page=999999 shows the last one allowed)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return default
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            return default
        digits = text.lstrip("-")
        if len(digits) > _MAX_DIGITS:
            number = (-1 if text.startswith("-") else 1) * 10**_MAX_DIGITS
        else:
            number = int(text)
    else:
        number = value
    if minimum <= number <= maximum:
        return number
    if clamp:
        return min(max(number, minimum), maximum)
    return default


def arg_int(
    name: str,
    minimum: int = 1,
    maximum: int = INT_MAX,
    default: int | None = None,
    *,
    clamp: bool = False,
) -> int | None:
    """The query parameter `name`, through `bounded_int`."""
    return bounded_int(request.args.get(name), minimum, maximum, default, clamp=clamp)


def form_int(
    name: str,
    minimum: int = 1,
    maximum: int = INT_MAX,
    default: int | None = None,
    *,
    clamp: bool = False,
) -> int | None:
    """The form field `name`, through `bounded_int`."""
    return bounded_int(request.form.get(name), minimum, maximum, default, clamp=clamp)


def bounded_float(value: object, minimum: float, maximum: float) -> float | None:
    """`value` (a decimal number in ASCII: digits, one point, a sign) as a float
    between `minimum` and `maximum`, else None: "NaN", "inf", "1e309", "１" and
    numbers of any length Python would take are refused."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > _MAX_DECIMAL_LENGTH or not _DECIMAL.fullmatch(text):
        return None
    number = float(text)
    return number if minimum <= number <= maximum else None


def page_number(value: object, last: int) -> int:
    """A page number from 1 to `last` (1 when it is not a number)."""
    return bounded_int(value, 1, last, 1, clamp=True) or 1


def coerce_id(value: object) -> int:
    """WTForms `coerce` for a select of records: the id, or 0 ("none chosen")
    for anything that is not one, which the form's own check then reports."""
    return bounded_int(value, 0, INT_MAX, 0) or 0


def optional_id(value: object) -> int | None:
    """WTForms `coerce` for a select whose "none" choice has the value "": the
    id, or None (which matches that choice) for anything that is not one."""
    return bounded_int(value, 0, INT_MAX)


def bounded_date(
    value: object, earliest: date = EARLIEST_DAY, latest: date = LATEST_DAY
) -> date | None:
    """`value` (YYYY-MM-DD, a date or a datetime) as a day between `earliest` and
    `latest`, else None."""
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_DAY.fullmatch(text):
            return None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return None
    return value if earliest <= value <= latest else None


def bounded_text(value: object, max_length: int) -> str:
    """One line of text (a search, a filter, a code): control characters and runs
    of whitespace become one space, trimmed to `max_length` characters; "" for
    anything but a string."""
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:max_length]


def arg_text(name: str, max_length: int) -> str:
    """The query parameter `name`, through `bounded_text`."""
    return bounded_text(request.args.get(name), max_length)


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in URLs: ASCII digits, at most INT_MAX, else 404 (Werkzeug's
    converter takes any size, and `\\d` matches digits of every script)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BoundedStringConverter(UnicodeConverter):
    """`<name>` in URLs (references, tokens, codes): no control characters and at
    most SEGMENT_MAX characters, else 404, so a NUL never reaches a query."""

    def __init__(self, map, minlength=1, maxlength=SEGMENT_MAX, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


def refuse_unknown_content_types() -> None:
    """A request body that is not a form answers 415 before any view, CSRF check
    or form reads it. A POST without a body (a button) is fine."""
    if request.method not in _WITH_BODY:
        return
    mimetype = request.mimetype
    if mimetype in FORM_TYPES or (not mimetype and not request.content_length):
        return
    abort(415)


def init_app(app) -> None:
    """Before any blueprint adds its rules: the bounded `int` converter, and the
    415 check first of all request hooks (before Flask-WTF's CSRF check, so a
    JSON body is told it is not a form rather than that the form expired)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = BoundedStringConverter
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unknown_content_types)
