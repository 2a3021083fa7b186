"""Open311 GeoReport v2 endpoints under /open311/v2/. The suffix (.json or
.xml) picks the format; every error answers the specification's error list."""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import Blueprint, g, request
from flask_babel import force_locale

from portal.extensions import csrf, limiter
from portal.open311 import services
from portal.open311.apikeys import authenticate, key_rate_limit
from portal.open311.formats import error_response, respond
from portal.open311.services import Open311Error

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = ("json", "xml")
#: Failed api_key attempts allowed per address (only 403 answers count).
BAD_KEY_LIMIT = "30 per minute"


@bp.errorhandler(Open311Error)
def open311_error(error: Open311Error):
    return error_response(error.status, error.descriptions)


def api_route(path: str, **options):
    """One rule per suffix (`path.json`, `path.xml`), the format passed as `fmt`."""

    def register(view):
        for fmt in FORMATS:
            bp.add_url_rule(f"{path}.{fmt}", view_func=view, defaults={"fmt": fmt}, **options)
        return view

    return register


def api_view(view):
    """Check jurisdiction_id and answer in the requested language."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with force_locale(services.api_locale()):
            jurisdiction = request.args.get("jurisdiction_id")
            if jurisdiction is None and request.method == "POST":
                jurisdiction = request.form.get("jurisdiction_id")
            services.check_jurisdiction(jurisdiction)
            return view(*args, **kwargs)

    return wrapper


@api_route("/discovery")
@api_view
def discovery(fmt: str):
    return respond("discovery", services.discovery(), fmt)


@api_route("/services")
@api_view
def service_list(fmt: str):
    return respond("services", services.service_list(), fmt)


@api_route("/services/<code>")
@api_view
def service_definition(code: str, fmt: str):
    return respond("service_definition", services.service_definition(code), fmt)


def _api_key():
    """The key of this request (looked up once: the rate limit needs it too)."""
    if "open311_api_key" not in g:
        g.open311_api_key = authenticate(services.raw_api_key())
    return g.open311_api_key


def _key_limit() -> str:
    api_key = _api_key()
    return key_rate_limit(api_key) if api_key is not None else BAD_KEY_LIMIT


def _per_key() -> str:
    return "open311-key:" + hashlib.sha256(services.raw_api_key().encode()).hexdigest()


def _without_valid_key() -> bool:
    return _api_key() is None


def _per_address() -> str:
    return "open311-address:" + (request.remote_addr or "")


def _refused(response) -> bool:
    return response.status_code == 403


def _submit():
    api_key = services.require_api_key(_api_key(), services.raw_api_key())
    created = services.submit_request(request.form, api_key)  # commits once
    return services.created_reply(created)


@api_route("/requests", methods=["GET", "POST"])
@csrf.exempt  # clients authenticate with their api_key, not a session
@limiter.limit(_key_limit, key_func=_per_key, methods=["POST"], exempt_when=_without_valid_key)
@limiter.limit(BAD_KEY_LIMIT, key_func=_per_address, methods=["POST"], deduct_when=_refused)
@api_view
def requests(fmt: str):
    if request.method == "POST":
        return respond("service_requests", _submit(), fmt)
    query = services.RequestQuery.from_args(request.args)
    needs = services.find_requests(query)
    return respond("service_requests", services.describe_requests(needs), fmt)


@api_route("/requests/<ref>")  # the service_request_id is the need's public reference
@api_view
def request_detail(ref: str, fmt: str):
    need = services.listed_request(ref)
    return respond("service_requests", services.describe_requests([need]), fmt)


@api_route("/tokens/<token>")
@api_view
def request_token(token: str, fmt: str):
    return respond("service_requests", [services.token_status(token)], fmt)
