"""Open data exports: the CSV and JSON encoders that stream a data set batch by
batch, the date filter, and the licence every download carries.

A download never holds more than one batch of rows: the encoders are
generators the view wraps in `stream_with_context`. CSV starts with a UTF-8
byte order mark because Excel otherwise reads UTF-8 as the local code page
and garbles Chinese; other tools ignore it (Python: `encoding="utf-8-sig"`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask import Flask
from flask_babel import gettext as _

from portal.areas.tree import resolve
from portal.core.params import bounded_date
from portal.opendata.datasets import DATASETS, Dataset, Period, json_value

LICENCE_NAME = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = "Huiju 汇聚"
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
UTF8_BOM = "\ufeff"
LIST_SEPARATOR = " | "
#: Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_BATCH_SIZE = 1000


class PeriodError(ValueError):
    """A bad ?start=, ?end= or ?area=; the message is translated."""


def get_dataset(slug: str) -> Dataset | None:
    return DATASETS.get(slug)


def _parse_day(value: str, name: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    day = bounded_date(value)
    if day is None:
        raise PeriodError(
            _("%(name)s must be a date written as YYYY-MM-DD, e.g. 2026-01-31.", name=name)
        )
    return day


def parse_period(args, *, takes_area: bool = False) -> Period:
    """?start= and ?end= as days in UTC, both included, and (for the data sets
    that take one) ?area= as an area code."""
    start = _parse_day(args.get("start", ""), "start")
    end = _parse_day(args.get("end", ""), "end")
    if start and end and end < start:
        raise PeriodError(_("The end date must not be before the start date."))
    area_path = None
    if takes_area and args.get("area"):
        found = resolve(args.getlist("area"))
        if found.area is None:
            raise PeriodError(_("No area has this code: see the areas data set."))
        area_path = found.area.path
    return Period(
        start=datetime.combine(start, datetime.min.time(), UTC) if start else None,
        end=datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) if end else None,
        area_path=area_path,
    )


def neutralise(text: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with a quote,
    so it is shown as the text it is (OWASP "CSV injection")."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return neutralise(LIST_SEPARATOR.join(str(v) for v in value))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    value = json_value(value)
    return neutralise(value) if isinstance(value, str) else str(value)


def _json_row(row: dict, keys: list[str]) -> dict:
    out = {}
    for key in keys:
        value = row[key]
        if isinstance(value, list):
            value = [_json_row(v, list(v)) if isinstance(v, dict) else v for v in value]
        else:
            value = json_value(value)
        out[key] = value
    return out


def stream_csv(dataset: Dataset, period: Period, batch_size: int) -> Iterator[bytes]:
    """The header, then one chunk per batch; the nested lists of a data set are
    left to their own data set in CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = dataset.field_names
    writer.writerow(names)
    yield (UTF8_BOM + buffer.getvalue()).encode("utf-8")
    for batch in dataset.rows(batch_size, period):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_cell(row[name]) for name in names] for row in batch)
        yield buffer.getvalue().encode("utf-8")


def stream_json(dataset: Dataset, period: Period, batch_size: int) -> Iterator[bytes]:
    """One JSON array of objects, written a batch at a time."""
    keys = dataset.field_names + ([dataset.nested[0]] if dataset.nested else [])
    first = True
    yield b"["
    for batch in dataset.rows(batch_size, period):
        parts = []
        for row in batch:
            parts.append(
                ("\n" if first else ",\n") + json.dumps(_json_row(row, keys), ensure_ascii=False)
            )
            first = False
        yield "".join(parts).encode("utf-8")
    yield b"\n]\n"


def stream(dataset: Dataset, fmt: str, period: Period, batch_size: int) -> Iterator[bytes]:
    encoder = stream_csv if fmt == "csv" else stream_json
    return encoder(dataset, period, batch_size)


def each_step_in_app_context(app: Flask, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Run each step of a streamed body in an application context (and so a
    database session) of its own, opened and closed within that step.

    The server reads the body after the view returned and its contexts are
    gone; it may even read the first chunk somewhere else than the rest (the
    test client does). A context held across a `yield` (what
    `stream_with_context` does) is then left where it was not entered, so
    each batch opens and closes its own: the keyset batches need nothing
    from the one before but the last id."""
    context = app.app_context()
    try:
        while True:
            context.push()
            try:
                chunk = next(chunks, None)
            finally:
                context.pop()
            if chunk is None:
                return
            yield chunk
    finally:
        chunks.close()


def filename(dataset: Dataset, fmt: str, generated_at: datetime) -> str:
    return f"huiju-{dataset.slug}-{generated_at:%Y%m%d}.{fmt}"
