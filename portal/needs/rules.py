"""What a submitted need may contain, for every channel.

The web form (`NeedForm`), staff intake (`IntakeForm`) and the Open311 parser
(`portal.open311.services.parse_request`) all check against these rules, and
read them when they check (never copy a number), so a limit changed here
changes every channel, the forms' `maxlength` attributes included. Each
channel keeps its own wording and error format; the answers to a category's
questions are checked by `portal.categories.questions.validate_answers`, the
same function for all three.

The columns bound how far a limit may grow without a migration: title and
place 200 characters, e-mail 254, name 100, phone 40.

A position (latitude and longitude in degrees, WGS 84) is optional on every
channel, but goes in pairs: `position_problem()` says what is wrong with one,
and each channel words the answer in its own way.

One difference is kept on purpose: an Open311 description has no minimum
length, since a client's title is derived from it and falls back to the
service's name (`derive_title`); the web form asks for ten characters."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from portal.categories.models import Category
from portal.needs.models import Channel


@dataclass
class TextLimits:
    """How long a text may be, in characters; `min` 0 means no minimum."""

    min: int
    max: int

    def too_short(self, value: str) -> bool:
        return len(value) < self.min

    def too_long(self, value: str) -> bool:
        return len(value) > self.max


TITLE = TextLimits(min=4, max=120)
DESCRIPTION = TextLimits(min=10, max=4000)
PLACE = TextLimits(min=0, max=200)
EMAIL = TextLimits(min=0, max=254)
NAME = TextLimits(min=0, max=100)
PHONE = TextLimits(min=0, max=40)


@dataclass
class Range:
    """The values a number may take, bounds included."""

    min: float
    max: float

    def holds(self, value: float) -> bool:
        return math.isfinite(value) and self.min <= value <= self.max


LATITUDE = Range(min=-90.0, max=90.0)
LONGITUDE = Range(min=-180.0, max=180.0)


class PositionProblem(enum.StrEnum):
    LATITUDE = "latitude"  # not a latitude
    LONGITUDE = "longitude"  # not a longitude
    HALF = "half"  # one of the two without the other


def position_problem(lat: float | None, lon: float | None) -> PositionProblem | None:
    """What is wrong with a position (None: nothing, or no position at all)."""
    if lat is not None and not LATITUDE.holds(lat):
        return PositionProblem.LATITUDE
    if lon is not None and not LONGITUDE.holds(lon):
        return PositionProblem.LONGITUDE
    if (lat is None) != (lon is None):
        return PositionProblem.HALF
    return None


PHONE_CHARACTERS = re.compile(r"^[0-9+\-() ]*$")

#: Channels staff enter needs through, for someone who phoned or came in (web
#: and API are the public's own).
STAFF_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.STAFF)


def email_is_valid(value: str) -> bool:
    """A well-formed address (no DNS look-up: a submission must not wait on it)."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def phone_is_valid(value: str) -> bool:
    """Digits, spaces and + - ( ): what people write a phone number with."""
    return PHONE_CHARACTERS.match(value) is not None


def category_accepts_needs():
    """The condition a category meets to receive new needs: the web form's
    choices and Open311's services are these categories."""
    return Category.is_active.is_(True)
