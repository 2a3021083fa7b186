"""Pages with personal data are never stored by a browser or a proxy: one
rule, by path, for every page of these kinds, present and future."""

from __future__ import annotations

from flask import Response, request

#: The member's page and its export, the private tracking links, the
#: confirmation that shows one, staff intake, the admin pages (need pages,
#: user lists, audit log) and the partner workspace.
PERSONAL_DATA_PATHS = ("/me", "/track", "/needs/submitted", "/staff", "/admin", "/partner")


def holds_personal_data(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PERSONAL_DATA_PATHS)


def forbid_storing_personal_pages(response: Response) -> Response:
    if holds_personal_data(request.path):
        response.headers["Cache-Control"] = "no-store"
    return response
