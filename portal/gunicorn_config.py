"""Gunicorn settings for production: `gunicorn -c python:portal.gunicorn_config wsgi:app`.

Every setting can still be given on the command line or in GUNICORN_CMD_ARGS
(e.g. `--workers 4 --bind 127.0.0.1:8000`). What this module adds:
- a warning at start when several worker processes would each keep their own
  rate-limit counters and cache, because REDIS_URL is not set;
- an access log that never keeps a tracking link, a reset or verification link,
  or an API key (the request line, the query and the referrer are redacted)."""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from portal.core.security import redact

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"

SEVERAL_WORKERS_WITHOUT_REDIS = (
    "%d worker processes and no REDIS_URL: every process keeps its own rate-limit "
    "counters (a limit of 5 failed logins lets 5 per process through) and its own "
    "statistics cache. Set REDIS_URL when more than one process serves."
)


def on_starting(server) -> None:
    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        server.log.warning(SEVERAL_WORKERS_WITHOUT_REDIS, server.cfg.workers)


class RedactingLogger(Logger):
    """Gunicorn's logger with the private parts of each request taken out."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms


logger_class = RedactingLogger
