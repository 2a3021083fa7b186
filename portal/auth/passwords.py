"""Password rules: long enough, not a well-known password, never truncated.

Hashing is Werkzeug's scrypt, which reads the whole password (unlike bcrypt's
72 bytes), so long and non-ASCII passwords are used in full.
The list of 20 000 common passwords is the one Django ships (compiled by Royce
Williams), lowercased."""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1024  # bounds the hashing work per request
_LIST = Path(__file__).with_name("common-passwords.txt.gz")
_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(_LIST, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def is_common(password: str) -> bool:
    """A listed password, or one padded with digits and symbols (password1234!)."""
    lowered = password.lower()
    if lowered in common_passwords():
        return True
    core = _EDGES.sub("", lowered)
    if len(set(lowered)) <= 2:
        return True
    return len(core) >= 4 and core != lowered and core in common_passwords()


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(min)d characters.", min=MIN_LENGTH))
    elif len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(max)d characters.", max=MAX_LENGTH))
    elif is_common(password):
        problems.append(_("This password is too common. Choose one that is hard to guess."))
    local_part = email.split("@")[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append(_("The password must not contain your e-mail address."))
    return problems
