"""/developers: how to get a key and use the Open311 API, and the OpenAPI
document at /open311/v2/openapi.json (on this blueprint: the `open311`
blueprint holds the GeoReport endpoints themselves)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from portal.categories.models import Category
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.notify.services import public_url
from portal.open311.openapi import API_PREFIX, DESCRIPTION_MAX, api_base_url, build_openapi
from portal.open311.services import STATUS_GROUPS

bp = Blueprint("developers", __name__)

#: Used in the examples when no category exists yet.
EXAMPLE_CODE = "roads"


@dataclass(frozen=True)
class Example:
    title: LazyString
    command: str


def _examples(base: str, code: str) -> list[Example]:
    """One curl command per endpoint, with the real address of the API."""
    return [
        Example(_l("Discovery"), f"curl '{base}/discovery.json'"),
        Example(_l("The services, in English"), f"curl '{base}/services.json?locale=en'"),
        Example(_l("A service's extra questions, as XML"), f"curl '{base}/services/{code}.xml'"),
        Example(
            _l("Open requests of one service in a period"),
            f"curl '{base}/requests.json?service_code={code}&status=open"
            "&start_date=2026-01-01T00:00:00%2B08:00&end_date=2026-03-01T00:00:00%2B08:00'",
        ),
        Example(
            _l("Several requests by id"),
            f"curl '{base}/requests.json?service_request_id=N-2026-000001,N-2026-000002'",
        ),
        Example(_l("One request"), f"curl '{base}/requests/N-2026-000001.json'"),
        Example(
            _l("Submit a request"),
            f"curl -X POST '{base}/requests.json' \\\n"
            "  --data-urlencode 'api_key=YOUR_KEY' \\\n"
            f"  --data-urlencode 'service_code={code}' \\\n"
            "  --data-urlencode 'lat=31.2304' --data-urlencode 'long=121.4737' \\\n"
            "  --data-urlencode 'description=The street lamp at the corner is broken.' \\\n"
            "  --data-urlencode 'consent=true'",
        ),
        Example(
            _l("Submit with an answer to an extra question and a photo link (multipart)"),
            f"curl -X POST '{base}/requests.json?api_key=YOUR_KEY' \\\n"
            f"  -F 'service_code={code}' -F 'address_string=1 People Road' \\\n"
            "  -F 'attribute[CODE]=VALUE' -F 'media_url=https://example.org/photo.jpg'",
        ),
        Example(
            _l("Follow a token until the request is published"), f"curl '{base}/tokens/TOKEN.json'"
        ),
    ]


def _example_code() -> str:
    code = db.session.scalar(
        sa.select(Category.code)
        .where(Category.is_active.is_(True))
        .order_by(Category.position, Category.id)
        .limit(1)
    )
    return code or EXAMPLE_CODE


def _status_groups() -> dict[str, list[NeedStatus]]:
    """The Open311 status of each public state, in workflow order (unpublished
    states never appear in the API)."""
    order = list(NeedStatus)
    return {name: sorted(group, key=order.index) for name, group in STATUS_GROUPS.items()}


@bp.get("/developers")
def index():
    base = api_base_url()
    return render_template(
        "open311/developers.html",
        base_url=base,
        api_prefix=API_PREFIX,
        jurisdiction=current_app.config.get("OPEN311_JURISDICTION", "huiju.example"),
        examples=_examples(base, _example_code()),
        openapi_url=public_url("developers.openapi"),
        description_max=DESCRIPTION_MAX,
        status_groups=_status_groups(),
    )


@bp.get(f"{API_PREFIX}/openapi.json")
def openapi():
    return jsonify(build_openapi())
