"""Numbers as the reader's locale writes them; "—" where nothing was counted
(never a misleading 0 %). Available in every template."""

from __future__ import annotations

from flask_babel import format_decimal, format_percent


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


def fmt_number(value: int | float | None) -> str:
    return "—" if value is None else format_decimal(value)


def fmt_days(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, "#,##0.0")


FORMATTERS = {"fmt_rate": fmt_rate, "fmt_number": fmt_number, "fmt_days": fmt_days}
