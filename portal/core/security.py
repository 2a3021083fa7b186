"""What makes the app safe to put on the internet before it serves one request:
a secret key nobody else knows, the real client address behind the configured
proxies, and logs that never keep a private link or an API key."""

from __future__ import annotations

import logging
import re

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import KNOWN_PUBLIC_KEYS, MIN_SECRET_KEY_BYTES


class InsecureConfiguration(RuntimeError):
    """Raised by create_app(): the process must not serve with this configuration.

    A RuntimeError, not SystemExit, on purpose: gunicorn stops the whole server
    ("Worker failed to boot", exit code 3) for an error while a worker loads the
    app, but would start the worker again and again after a SystemExit."""


KEY_ADVICE = (
    "Set SECRET_KEY to a random value of at least {min} bytes (for example the output of "
    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`), the same on every "
    "app server, or write it to the file named by SECRET_KEY_FILE. `make run` generates "
    "one for a development machine into instance/secret_key."
)


def secret_key_problem(key: str | bytes | None) -> str | None:
    """Why this key must not sign sessions, tokens and tracking links, or None."""
    if not key:
        return "SECRET_KEY is not set."
    raw = key.encode() if isinstance(key, str) else key
    if raw.decode(errors="replace").strip().lower() in KNOWN_PUBLIC_KEYS:
        return "SECRET_KEY is a value published in the source code."
    if len(raw) < MIN_SECRET_KEY_BYTES:
        return f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes."
    return None


def check_secret_key(app: Flask) -> None:
    """Refuse to start with a missing, short or published key. Tests are the one
    exception: they run with a fixed key of their own."""
    if app.testing:
        return
    problem = secret_key_problem(app.config.get("SECRET_KEY"))
    if problem:
        message = f"Refusing to start: {problem} " + KEY_ADVICE.format(min=MIN_SECRET_KEY_BYTES)
        logging.getLogger("portal").critical(message)
        raise InsecureConfiguration(message)


def trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies (TRUSTED_PROXIES=N), take the client address,
    scheme and host from the last N X-Forwarded-* values. With 0 (the default)
    the headers are ignored, so a client cannot choose its own address and its
    own rate-limit bucket."""
    count = app.config["TRUSTED_PROXIES"]
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )


#: Private parts of request lines: tracking and account links, and API keys.
_PRIVATE_PATH = re.compile(
    r"(/(?:track|auth/verify|auth/reset|open311/v2/tokens)/)[^/?\s\"]+", re.IGNORECASE
)
_PRIVATE_QUERY = re.compile(r"((?:api_key|token|key)=)[^&\s\"]+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The request line or URL as a log may keep it."""
    return _PRIVATE_QUERY.sub(r"\1" + REDACTED, _PRIVATE_PATH.sub(r"\1" + REDACTED, text))


class RedactingFilter(logging.Filter):
    """Applied to the development server's access log (logger "werkzeug");
    gunicorn's access log is redacted by portal.gunicorn_config."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact_logs() -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())
