"""/data downloads, /feeds/… Atom feeds and /posters QR posters. All public."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    request,
    url_for,
)
from markupsafe import Markup

from portal.core.params import arg_text
from portal.extensions import limiter
from portal.htmx import render
from portal.models_base import utcnow
from portal.needs.services import active_categories
from portal.opendata import feeds, posters, services
from portal.opendata.datasets import DATASETS, TYPE_LABELS, Period

bp = Blueprint("opendata", __name__)


def _download_limit() -> str:
    return current_app.config.get("DATA_DOWNLOAD_RATE_LIMIT", "30 per minute; 300 per hour")


def _data_page(status: int = 200, error: str | None = None) -> Response:
    return render(
        "opendata/index.html",
        context={
            "datasets": list(DATASETS.values()),
            "datasets_by_slug": DATASETS,
            "type_labels": TYPE_LABELS,
            "licence_name": services.LICENCE_NAME,
            "licence_url": services.LICENCE_URL,
            "attribution": services.ATTRIBUTION,
            "generated_at": utcnow(),
            "categories": active_categories(),
            "error": error,
            "args": request.args,
        },
        status=status,
    )


@bp.get("/data")
def index():
    return _data_page()


@limiter.limit(_download_limit)
def download(dataset: str, fmt: str):
    data = services.get_dataset(dataset)
    try:
        period = (
            services.parse_period(request.args, takes_area=data.takes_area)
            if data.takes_period
            else Period()
        )
    except services.PeriodError as error:
        return _data_page(status=400, error=str(error))
    batch_size = current_app.config.get("OPENDATA_BATCH_SIZE", services.DEFAULT_BATCH_SIZE)
    chunks = services.stream(data, fmt, period, batch_size)
    body = services.each_step_in_app_context(current_app._get_current_object(), chunks)
    response = Response(body, content_type=services.FORMATS[fmt])
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=services.filename(data, fmt, utcnow()),
    )
    return response


# One address per data set and format (/data/needs.csv …): unknown names are a
# plain 404 and url_for("opendata.download", dataset=…, fmt=…) builds them all.
for _slug in DATASETS:
    for _fmt in services.FORMATS:
        bp.add_url_rule(
            f"/data/{_slug}.{_fmt}",
            endpoint="download",
            view_func=download,
            defaults={"dataset": _slug, "fmt": _fmt},
            methods=["GET"],
        )


def _atom(body: bytes) -> Response:
    return Response(body, content_type=feeds.ATOM_MIMETYPE)


@bp.get("/feeds/needs.atom")
def needs_feed():
    return _atom(feeds.needs_feed())


@bp.get("/feeds/categories/<code>.atom")
def category_feed(code: str):
    category = feeds.category_by_code(code)
    if category is None:
        abort(404)
    return _atom(feeds.needs_feed(category))


@bp.get("/feeds/projects/<int:project_id>.atom")
def project_feed(project_id: int):
    project = feeds.project_by_id(project_id)
    if project is None:
        abort(404)
    return _atom(feeds.project_feed(project))


def _posters_page(status: int = 200, error: str | None = None, **typed) -> Response:
    return render(
        "opendata/posters.html",
        context={
            "categories": active_categories(),
            "error": error,
            "typed": typed,
            "place_max": posters.PLACE_MAX,
        },
        status=status,
    )


@bp.get("/posters")
def posters_index():
    return _posters_page()


def _poster(category, place: str = "") -> Response:
    url = posters.form_url(category, place)
    return render(
        "opendata/poster.html",
        context={
            "category": category,
            "place": place,
            "url": url,
            "svg": Markup(posters.qr_svg(url, inline=True)),  # noqa: S704 — segno escapes its text
        },
    )


@bp.get("/posters/categories/<code>")
def category_poster(code: str):
    category = posters.active_category(code)
    if category is None:
        abort(404)
    return _poster(category)


@bp.get("/posters/categories/<code>/qr.svg")
def category_qr(code: str):
    category = posters.active_category(code)
    if category is None:
        abort(404)
    response = Response(posters.qr_svg(posters.form_url(category), inline=False))
    response.mimetype = "image/svg+xml"
    response.headers.set("Content-Disposition", "inline", filename=f"huiju-{category.code}.svg")
    return response


@bp.get("/posters/place")
def place_poster():
    """A poster for one place: ?category=<code>&place=<text>. Without a
    category it is the form on /posters; without a place, the category poster."""
    code = arg_text("category", 40)
    if not code:
        return redirect(url_for("opendata.posters_index"))
    category = posters.active_category(code)
    if category is None:
        abort(404)
    try:
        place = posters.clean_place(request.args.get("place"))
    except posters.PosterError as error:
        return _posters_page(
            status=422, error=str(error), category=code, place=request.args.get("place", "")
        )
    if not place:
        return redirect(url_for("opendata.category_poster", code=category.code))
    return _poster(category, place)
