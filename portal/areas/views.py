"""/areas/choices (the cascading choice, as a page or its fragment), the admin
pages of the tree under /admin/areas, and the area of a need on its admin page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.areas import services, tree
from portal.areas.forms import (
    FILTER,
    FORM,
    AreaForm,
    ImportForm,
    NeedAreaForm,
    chose_next_level,
)
from portal.auth.decorators import admin_required
from portal.core.params import arg_text, page_number
from portal.extensions import db
from portal.forms import show_domain_error, submit_form
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.triage.services import need_by_ref

bp = Blueprint("areas", __name__)

#: An imported file: at most this many bytes (a city's streets and communities
#: take a few hundred KB; requests are capped by MAX_CONTENT_LENGTH anyway).
IMPORT_MAX_BYTES = 900 * 1024
#: The htmx event a changed area choice sends to the page (the need form's hint listens).
AREA_CHANGED = "area-changed"


# --- the cascading choice ----------------------------------------------------------


@bp.get("/areas/choices")
def choices():
    """The levels for a chosen area: the fragment a select's htmx call swaps in
    (?area=CODE, or ?parent=CODE), or a page to browse the areas."""
    mode = FILTER if request.args.get("mode") == FILTER else FORM
    values = request.args.getlist("area") or request.args.getlist("parent")
    found = tree.resolve(values)
    response = render(
        "areas/choices.html",
        "areas/_levels.html",
        context={
            "choice": tree.choice_for(found.area),
            "mode": mode,
            "choose_button": mode == FORM and is_fragment_request(),
            "unknown": found.unknown,
        },
    )
    if is_fragment_request():
        # Tells the page the area changed (the need form's hint asks again).
        response.headers["HX-Trigger"] = AREA_CHANGED
    return response


# --- the admin pages of the tree ---------------------------------------------------


def _area_or_404(area_id: int):
    area = tree.area_by_id(area_id)
    if area is None:
        abort(404)
    return area


@bp.get("/admin/areas")
@admin_required
def admin_index():
    """The areas directly under ?parent=CODE (the top-level ones without it),
    a page at a time."""
    code = arg_text("parent", 40)
    parent = tree.area_by_code(code) if code else None
    if code and parent is None:
        abort(404)
    page = services.list_page(parent, page_number(request.args.get("page"), services.MAX_PAGE))
    return render("areas/admin_index.html", context={"page": page})


def _save(area, form: AreaForm):
    """Create or update from a valid form; the form again with the refusal."""

    def apply():
        parent_code = form.parent_code.data or ""
        parent = tree.area_by_code(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise services.AreaError(_("No area has this code."), "parent_code")
        if area is None:
            return services.create_area(form.values(), parent, current_user), True
        return area, services.update_area(area, form.values(), parent, current_user)

    def done(result):
        saved, changed = result
        if area is None:
            flash(_("The area “%(name)s” is created.", name=saved.name), "success")
        else:
            flash(_("The area is saved.") if changed else _("Nothing changed."), "success")
        parent = saved.parent.code if saved.parent_id else None
        return redirect_after_post(url_for("areas.admin_index", parent=parent))

    def again(form):
        return render_invalid("areas/admin_form.html", context={"form": form, "area": area})

    return submit_form(form, apply, done=done, again=again)


@bp.route("/admin/areas/new", methods=["GET", "POST"])
@admin_required
def admin_new():
    if request.method == "POST":
        return _save(None, AreaForm())
    form = AreaForm(formdata=None, data={"parent_code": arg_text("parent", 40), "position": "0"})
    return render("areas/admin_form.html", context={"form": form, "area": None})


@bp.route("/admin/areas/<int:area_id>", methods=["GET", "POST"])
@admin_required
def admin_edit(area_id: int):
    area = _area_or_404(area_id)
    if request.method == "POST":
        return _save(area, AreaForm())
    form = AreaForm(
        formdata=None,
        data={
            "code": area.code,
            "parent_code": area.parent.code if area.parent_id else "",
            "name_zh": area.name_zh,
            "name_en": area.name_en,
            "lat": area.lat,
            "lon": area.lon,
            "position": str(area.position),
        },
    )
    return render("areas/admin_form.html", context={"form": form, "area": area})


def _import_page(form, problems=None, count: int = 0, status: int = 200):
    context = {
        "form": form,
        "problems": problems or [],
        "count": count,
        "max_kb": IMPORT_MAX_BYTES // 1024,
        "max_rows": services.MAX_IMPORT_ROWS,
    }
    if status == 200:
        return render("areas/admin_import.html", context=context)
    return render_invalid("areas/admin_import.html", context=context)


@bp.route("/admin/areas/import", methods=["GET", "POST"])
@admin_required
def admin_import():
    """A CSV of areas, all or nothing; a refused file lists every wrong line."""
    if request.method == "GET":
        return _import_page(ImportForm(formdata=None))
    form = ImportForm()
    upload = form.file.data
    data = b""
    if form.validate():
        data = upload.stream.read(IMPORT_MAX_BYTES + 1)
        if len(data) > IMPORT_MAX_BYTES:
            form.file.errors = [
                _("The file is larger than %(size)d KB.", size=IMPORT_MAX_BYTES // 1024)
            ]
    if form.errors:
        if "csrf_token" in form.errors:
            abort(400)
        return _import_page(form, status=422)
    try:
        result = services.import_areas(data, current_user, source=upload.filename or "")
    except services.AreaImportError as error:
        db.session.rollback()
        show_domain_error(form, error)
        return _import_page(form, error.problems, error.count, status=422)
    db.session.commit()
    flash(
        ngettext("%(num)d area created", "%(num)d areas created", result.created)
        + ", "
        + ngettext("%(num)d updated", "%(num)d updated", result.updated)
        + ", "
        + ngettext("%(num)d unchanged.", "%(num)d unchanged.", result.unchanged),
        "success",
    )
    return redirect_after_post(url_for("areas.admin_index"))


# --- a need's area (on its admin page) -----------------------------------------------


def need_area_form(need, form: NeedAreaForm | None = None) -> NeedAreaForm:
    """The form the admin page of a need shows (templates/areas/_need_area.html),
    with the need's area as it is now (`current_trail`)."""
    form = form or NeedAreaForm(formdata=None, data={"area": need.area})
    form.current_trail = tree.ancestors(need.area)
    return form


# The admin page of a need includes the area form: it asks for it by name.
bp.add_app_template_global(need_area_form, "need_area_form")


@bp.route("/admin/needs/<ref>/area", methods=["GET", "POST"])
@admin_required
def need_area(ref: str):
    """Set a need's area: a page of its own without JavaScript (the form and
    its next level), the form's fragment for htmx on the need's admin page."""
    need = need_by_ref(ref)
    if need is None:
        abort(404)

    def show(form, *, notice: str = "", invalid: bool = False):
        context = {"need": need, "area_form": need_area_form(need, form), "notice": notice}
        page, fragment = "areas/need_area.html", "areas/_need_area.html"
        if invalid:
            return render_invalid(page, fragment, context=context)
        return render(page, fragment, context=context)

    if request.method == "GET":
        return show(need_area_form(need))
    form = NeedAreaForm()
    if chose_next_level():
        return show(form)

    def done(_result):
        if is_fragment_request():
            return show(need_area_form(need), notice=_("The area is saved."))
        flash(_("The area is saved."), "success")
        return redirect_after_post(url_for("triage.need", ref=need.ref))

    return submit_form(
        form,
        lambda: services.set_need_area(need, form.area.data, current_user),
        done=done,
        again=lambda form: show(form, invalid=True),
    )
