"""Error pages in the visitor's language; never a stack trace."""

from __future__ import annotations

import secrets

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.core.security import redact
from portal.extensions import db
from portal.open311.formats import error_response, is_api_path


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You do not have permission to see this page.")),
        404: (_("Page not found"), _("There is nothing here. It may have been removed.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        413: (_("Too large"), _("What you sent is too large. Please send less.")),
        415: (
            _("Unsupported format"),
            _(
                "This address accepts only forms (application/x-www-form-urlencoded "
                "or multipart/form-data)."
            ),
        ),
        429: (
            _("Too many requests"),
            _("You have sent too many requests. Please wait a moment and try again."),
        ),
        500: (_("Something went wrong"), _("Sorry, an error occurred. Please try again later.")),
    }


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if is_api_path(request.path):  # Open311 answers its own error list, never HTML
            return error_response(400, [_("The request could not be understood.")])
        return (
            render_template(
                "errors.html",
                code=400,
                title=_("Form expired"),
                message=_("The form was open too long or came from elsewhere. Please try again."),
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/healthz"):
            return error
        code = error.code or 500
        title, message = _messages().get(code, (error.name, error.description or ""))
        if is_api_path(request.path):
            return error_response(code, [message], headers=error.get_headers())
        return render_template("errors.html", code=code, title=title, message=message), code

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        # The incident id is on the page and in the log line, so a visitor's report
        # finds the traceback; the path is redacted (it may be a tracking link).
        incident = secrets.token_hex(6)
        app.logger.exception(
            "unhandled error, incident %s: %s %s",
            incident,
            request.method,
            redact(request.full_path),
        )
        db.session.rollback()
        title, message = _messages()[500]
        if is_api_path(request.path):
            return error_response(500, [f"{message} {_('Incident: %(id)s', id=incident)}"])
        page = render_template(
            "errors.html", code=500, title=title, message=message, incident=incident
        )
        return page, 500
