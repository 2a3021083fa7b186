"""Form helpers shared by every area."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str | None:
    """Normalise newlines and drop control characters (PostgreSQL refuses NUL)."""
    if value is None:
        return None
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", value).strip()


class EmptyForm(FlaskForm):
    """Just the CSRF token, for button-only POSTs."""
