"""The one bounded parser of numbers, days and short texts from requests
(portal/core/params.py), and the `next` check."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.core.params import (
    INT_MAX,
    bounded_date,
    bounded_int,
    bounded_text,
    coerce_id,
    page_number,
)
from portal.core.views import safe_next


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7),
        (" 42 ", 42),
        (str(INT_MAX), INT_MAX),
        (str(INT_MAX + 1), None),  # PostgreSQL's integer refuses it
        (str(10**30), None),
        ("9" * 5000, None),  # int() would refuse over 4300 digits
        ("0", None),
        ("-1", None),
        ("²", None),  # "²".isdigit() is true, int("²") raises
        ("١٢", None),  # Arabic-Indic digits: int() reads them, an id never has them
        ("1e309", None),
        ("1.0", None),
        ("+1", None),
        ("", None),
        (None, None),
        (["1"], None),
        (True, None),
        (3, 3),
    ],
)
def test_bounded_int_takes_ascii_digits_in_range_only(value, expected):
    assert bounded_int(value) == expected


def test_bounded_int_bounds_defaults_and_clamps():
    assert bounded_int("-5", -10, 10) == -5
    assert bounded_int("11", 1, 10, default=3) == 3
    assert bounded_int("11", 1, 10, clamp=True) == 10
    assert bounded_int(str(10**30), 1, 10, clamp=True) == 10
    assert bounded_int("-" + str(10**30), -10, 10, clamp=True) == -10
    assert page_number("999999", 25) == 25
    assert page_number("²", 25) == page_number("-3", 25) == page_number(None, 25) == 1
    assert coerce_id("12") == 12
    assert coerce_id("") == coerce_id(str(10**30)) == coerce_id("x") == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01", date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
        (datetime(2026, 3, 1, 8, 30), date(2026, 3, 1)),
        ("0001-01-01", None),
        ("9999-12-31", None),
        ("2026-02-30", None),
        ("20260301", None),  # fromisoformat reads it; a form never sends it
        ("2026-W09-1", None),
        ("２０２６-０３-０１", None),
        ("", None),
        (None, None),
    ],
)
def test_bounded_date(value, expected):
    assert bounded_date(value) == expected


def test_bounded_text_is_one_line_without_control_characters():
    assert bounded_text("  a\x00b \r\n c\t", 100) == "a b c"
    assert bounded_text("x" * 500, 100) == "x" * 100
    assert bounded_text(["a"], 100) == bounded_text(None, 100) == ""


@pytest.mark.parametrize(
    "target",
    [
        "/me\r\nSet-Cookie: x=1",
        "/me\nLocation: https://evil.example",
        "/me\x00",
        "/ /evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/" + "a" * 3000,
        ["/me"],
    ],
)
def test_safe_next_refuses_what_is_not_a_plain_path_of_this_site(target):
    assert safe_next(target, "/default") == "/default"


def test_safe_next_keeps_paths_of_this_site():
    assert safe_next("/needs?q=a%20b&page=2") == "/needs?q=a%20b&page=2"
    assert safe_next("/needs%0d%0a") == "/needs%0d%0a"  # encoded: stays part of the path
