"""The one place that decides between a fragment and a full page.

One URL serves both: a plain request (or a boosted navigation) gets the page,
an htmx request aimed at part of the page gets only that part. Every response
varies on HX-Request so caches keep the two apart.

htmx-flask's `make_response` is used without its `reswap` argument: in 0.1.0
its list of allowed swap names misses a comma ("beforebegin" "afterbegin"
become one name), so two valid values would be refused. The swap is chosen in
the templates instead (`hx-swap`); tests/core/test_htmx_helper.py fails when a
fixed htmx-flask is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, redirect, render_template, request
from htmx_flask import make_response


def is_fragment_request() -> bool:
    """True for hx-get/hx-post calls; boosted navigations and history restores
    want the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(
    page: str,
    fragment: str | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response:
    """The page, or its fragment for an htmx request. The template's data and the
    HTTP status are separate arguments, so a template variable can never become
    the status (as `?status=` once did on /projects)."""
    template = fragment if fragment and is_fragment_request() else page
    return make_response(render_template(template, **(context or {})), status)


def render_invalid(
    page: str,
    fragment: str | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    error_status: int = 422,
) -> Response:
    """A form with errors: 422 (or e.g. 413 for a too large photo) for browsers,
    200 for htmx (htmx 2 does not swap 4xx)."""
    status = 200 if is_fragment_request() else error_status
    return render(page, fragment, context, status=status)


def redirect_after_post(location: str) -> Response:
    """303 for plain and boosted requests; a client-side redirect for hx-post."""
    if is_fragment_request():
        return make_response("", 200, redirect=location)
    return redirect(location, code=303)


def add_vary_header(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response
