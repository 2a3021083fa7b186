"""Why portal/htmx.py never passes `reswap` to htmx-flask's make_response."""

from __future__ import annotations

from htmx_flask import constants


def test_htmx_flask_still_misses_the_comma_in_its_reswap_names():
    # htmx-flask 0.1.0 writes "beforebegin" "afterbegin", which Python joins into
    # one name, so neither value passes its own check. When a fixed release is
    # installed this fails: then `reswap` may be used (see portal/htmx.py).
    assert "beforebeginafterbegin" in constants.RESWAPS
    assert "beforebegin" not in constants.RESWAPS


def test_template_data_never_becomes_the_http_status(app):
    from portal.htmx import render, render_invalid

    context = {"code": 404, "title": "T", "message": "M", "status": 418}
    with app.test_request_context("/"):
        assert render("errors.html", context=context).status_code == 200
        assert render("errors.html", context=context, status=404).status_code == 404
        assert render_invalid("errors.html", context=context).status_code == 422
    with app.test_request_context("/", headers={"HX-Request": "true"}):
        # htmx 2 swaps only 2xx answers: a form with errors comes back as 200.
        assert render_invalid("errors.html", context=context).status_code == 200
