"""Why portal/htmx.py never passes `reswap` to htmx-flask's make_response."""

from __future__ import annotations

from htmx_flask import constants


def test_htmx_flask_still_misses_the_comma_in_its_reswap_names():
    # htmx-flask 0.1.0 writes "beforebegin" "afterbegin", which Python joins into
    # one name, so neither value passes its own check. When a fixed release is
    # installed this fails: then `reswap` may be used (see portal/htmx.py).
    assert "beforebeginafterbegin" in constants.RESWAPS
    assert "beforebegin" not in constants.RESWAPS
